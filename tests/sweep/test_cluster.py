"""Tests of idn_core.sweep.cluster: the Ray address check, the task body and the dispatch loop.

Starting a Ray cluster costs about a minute and a half on this project's two shared cores,
so the Ray path is tested in pieces: the address check against real sockets, the task
body (:func:`execute_remote`) run in-process on the tiny notebook, and the dispatch loop
against a stand-in ``ray`` module that runs each task when its result is asked for.
"""

from __future__ import annotations

import socket
import sys
import types
from pathlib import Path
from typing import Any

import nbformat
import pytest

from idn_core.book import NotebookError, NotebookRun
from idn_core.book.cache import read_record, sha256
from idn_core.book.execute import run_inputs
from idn_core.sweep import SweepError, cluster, plan_sweep
from idn_core.sweep.cluster import (
    RemoteOutcome,
    accept,
    check_address,
    execute_remote,
    host_and_port,
)
from idn_core.sweep.dispatch import cached_runs

from .conftest import closed_port


@pytest.mark.parametrize(
    ("address", "expected"),
    [
        ("10.0.0.5:6379", ("10.0.0.5", 6379)),
        ("ray://head.local:10001", ("head.local", 10001)),
        ("[::1]:6379", ("::1", 6379)),
    ],
)
def test_addresses_are_split_into_host_and_port(address: str, expected: tuple) -> None:
    assert host_and_port(address) == expected


@pytest.mark.parametrize("address", ["nowhere", "host:", ":6379", "host:port", "host:0", "h:70000"])
def test_malformed_addresses_are_clear_errors(address: str) -> None:
    with pytest.raises(SweepError, match="is not HOST:PORT, ray://HOST:PORT or auto"):
        check_address(address)


def test_an_address_must_answer_before_anything_runs() -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        address = f"127.0.0.1:{server.getsockname()[1]}"
        assert check_address(address) == address
    with pytest.raises(SweepError, match=r"cannot reach a Ray cluster at 127\.0\.0\.1:\d+ \("):
        check_address(f"127.0.0.1:{closed_port()}")
    assert check_address("auto") == "auto"  # Ray checks it when connecting
    with pytest.raises(TypeError, match="ray_address must be str"):
        check_address(6379)  # type: ignore[arg-type]


@pytest.mark.slow
def test_a_task_runs_here_and_the_driver_stores_what_it_sends(tiny: Path, tmp_path: Path) -> None:
    plan = plan_sweep(tiny, {"a": [1, 2], "fail": [True]}, out=tmp_path / "out")
    (ok_run, ok_out), (bad_run, bad_out) = zip(plan.runs, plan.outs, strict=True)

    _, inputs = run_inputs(ok_run, plan.root)
    outcome = execute_remote(ok_run, str(plan.root), inputs)
    assert outcome.error is None and outcome.record["inputs"] == inputs
    done = accept(ok_run, ok_out, outcome)
    assert isinstance(done, NotebookRun) and not done.cached and done.path == ok_out
    assert read_record(ok_out)["sha256"] == sha256(ok_out.read_bytes())
    hits, misses = cached_runs(plan, force=False)
    assert list(hits) == [0] and list(misses) == [1]  # the driver's cache holds the task's run

    _, inputs = run_inputs(bad_run, plan.root)
    outcome = execute_remote(bad_run, str(plan.root), inputs)
    assert "raised ValueError: boom at a=2" in outcome.error and outcome.failed
    assert not Path(outcome.failed_at).parent.exists()  # the task's folder is gone
    error = accept(bad_run, bad_out, outcome)
    local = bad_out.with_name(bad_out.stem + ".failed.ipynb")
    assert isinstance(error, NotebookError) and f"partial output: {local}" in str(error)
    assert local.read_bytes() == outcome.failed


class LostTask(Exception):
    """Stands in for ``ray.exceptions.RayError`` (a worker died)."""


class FakeRay(types.ModuleType):
    """A stand-in ``ray``: tasks run when their result is asked for; in-flight counts kept."""

    def __init__(self) -> None:
        super().__init__("ray")
        self.exceptions = types.SimpleNamespace(RayError=LostTask)
        self.refs: dict[object, tuple[Any, tuple]] = {}
        self.most_in_flight = 0

    def remote(self, num_cpus: int) -> Any:
        assert num_cpus == 1

        def wrap(fn: Any) -> Any:
            return types.SimpleNamespace(remote=lambda *args: self.submit(fn, args))

        return wrap

    def submit(self, fn: Any, args: tuple) -> object:
        ref = object()
        self.refs[ref] = (fn, args)
        return ref

    def wait(self, refs: list, num_returns: int) -> tuple[list, list]:
        self.most_in_flight = max(self.most_in_flight, len(refs))
        return refs[-num_returns:], refs[:-num_returns]  # the last submitted ends first

    def get(self, ref: object) -> Any:
        fn, args = self.refs.pop(ref)
        return fn(*args)


def fake_task(run, root: str, inputs: dict) -> RemoteOutcome:
    """What a task would send back, without papermill: a run with a=2 is lost."""
    if run.parameters["a"] == 2:
        raise LostTask("worker died")
    data = nbformat.writes(nbformat.v4.new_notebook()).encode()
    return RemoteOutcome(record={"key": "k", "seconds": 1.5, "inputs": inputs}, data=data)


@pytest.mark.parametrize("limit", [None, 1, 2])
def test_the_dispatch_loop_reports_every_task_once_within_its_limit(
    tiny: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, limit: int | None
) -> None:
    fake = FakeRay()
    monkeypatch.setitem(sys.modules, "ray", fake)
    monkeypatch.setattr(cluster, "execute_remote", fake_task)
    plan = plan_sweep(tiny, {"a": [1, 2, 3, 4]}, out=tmp_path / "out")
    tasks = [
        (run, out, {"n": i}) for i, (run, out) in enumerate(zip(plan.runs, plan.outs, strict=True))
    ]
    seen: dict[int, Any] = {}
    cluster.run_on_ray(
        tasks, plan.root, limit, lambda index, result: seen.setdefault(index, result)
    )

    assert sorted(seen) == [0, 1, 2, 3] and not fake.refs
    assert fake.most_in_flight == (limit or 4)
    assert isinstance(seen[1], NotebookError) and "Ray task lost: worker died" in str(seen[1])
    for index in (0, 2, 3):
        assert isinstance(seen[index], NotebookRun) and seen[index].path == plan.outs[index]
        assert read_record(plan.outs[index])["inputs"] == {"n": index}
