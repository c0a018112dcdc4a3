"""Runs of a sweep as Ray tasks on an existing cluster (``--ray ADDRESS``).

Ray is imported only here and only when a sweep is given an address, so ``import
idn_core`` and ``import idn_core.sweep`` never import it. Each task executes one
notebook on whichever machine Ray picks, with the book's runner, into a temporary folder
there, and sends the executed notebook and its run record back: the driver stores them
in its own cache folder, so the cache is the same whether runs went to local workers or
to a cluster. Every machine of the cluster needs the repository at the same path and the
same Python environment (as for ``ray start --address``).

The address is checked before anything runs: ``HOST:PORT`` or ``ray://HOST:PORT`` must
accept a TCP connection within :data:`CONNECT_TIMEOUT_S` seconds; ``auto`` (the cluster
started on this machine) is checked by Ray itself when connecting.
"""

from __future__ import annotations

import shutil
import socket
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from idn_core.book import NotebookError, NotebookRun, PlannedRun
from idn_core.book.cache import store_executed
from idn_core.book.execute import execute, finished
from idn_core.book.runner import failed_path
from idn_core.sweep.records import SweepError

CONNECT_TIMEOUT_S = 5.0
CLIENT_PREFIX = "ray://"
START_HINT = "start one with `ray start --head --port=6379` and pass HOST:6379"


@dataclass(frozen=True)
class RemoteOutcome:
    """What a Ray task sends back: the executed notebook and record, or the failure.

    On failure, ``error`` is the runner's report and ``failed`` the partial notebook's
    bytes (None when papermill wrote nothing); ``failed_at`` is where the report says the
    partial copy is, on the machine that ran it.
    """

    record: dict[str, Any] | None = None
    data: bytes | None = None
    error: str | None = None
    failed: bytes | None = None
    failed_at: str = ""


def host_and_port(address: str) -> tuple[str, int]:
    """Split ``HOST:PORT`` (or ``ray://HOST:PORT``); raise :class:`SweepError` if malformed."""
    host, sep, port = address.removeprefix(CLIENT_PREFIX).rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise SweepError(
            f"Ray address {address!r} is not HOST:PORT, ray://HOST:PORT or auto ({START_HINT})"
        )
    return host.strip("[]"), int(port)


def check_address(address: str) -> str:
    """Return ``address`` once it looks reachable; raise :class:`SweepError` otherwise."""
    if not isinstance(address, str):
        raise TypeError(f"ray_address must be str, got {type(address).__name__}")
    if address == "auto":
        return address
    host, port = host_and_port(address)
    try:
        with socket.create_connection((host, port), timeout=CONNECT_TIMEOUT_S):
            pass
    except OSError as exc:
        raise SweepError(
            f"cannot reach a Ray cluster at {address} ({exc.strerror or exc}); {START_HINT}"
        ) from None
    return address


def connect(address: str) -> bool:
    """Connect this process to the Ray cluster at ``address``; True if this call connected.

    A process already connected (``ray.is_initialized()``) keeps its connection, and the
    caller should then leave it open (False).
    """
    import ray

    if ray.is_initialized():
        return False
    try:
        ray.init(address=address, logging_level="WARNING")
    except (ConnectionError, RuntimeError, ValueError) as exc:
        raise SweepError(f"cannot connect to the Ray cluster at {address}: {exc}") from None
    return True


def disconnect() -> None:
    """Leave the Ray cluster (the cluster keeps running)."""
    import ray

    ray.shutdown()


def execute_remote(run: PlannedRun, root: str, inputs: dict[str, Any]) -> RemoteOutcome:
    """Execute ``run`` here (a Ray worker) into a temporary folder; return what it made.

    ``inputs`` are the cache-key inputs the driver computed, stored in the run record.
    """
    folder = Path(tempfile.mkdtemp(prefix="idn-sweep-"))
    out = folder / f"{run.notebook.stem}.ipynb"
    try:
        record = execute(run, Path(root), out, inputs)
        return RemoteOutcome(record=record, data=out.read_bytes())
    except NotebookError as exc:
        failed = failed_path(out)
        data = failed.read_bytes() if failed.is_file() else None
        return RemoteOutcome(error=str(exc), failed=data, failed_at=str(failed))
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def accept(run: PlannedRun, out: Path, outcome: RemoteOutcome) -> NotebookRun | NotebookError:
    """Store a task's outcome in the driver's cache at ``out``: the run, or its failure."""
    if outcome.error is not None:
        message = outcome.error
        if outcome.failed is not None:
            local = failed_path(out)
            local.parent.mkdir(parents=True, exist_ok=True)
            local.write_bytes(outcome.failed)
            message = message.replace(outcome.failed_at, str(local))
        return NotebookError(message)
    if outcome.record is None or outcome.data is None:
        raise ValueError("outcome must hold a record and the notebook's bytes, or an error")
    record = store_executed(out, outcome.data, outcome.record)
    return finished(run, out, record, cached=False)


def run_on_ray(
    tasks: list[tuple[PlannedRun, Path, dict[str, Any]]],
    root: Path,
    limit: int | None,
    on_done: Any,
) -> None:
    """Run each ``(run, out, inputs)`` as a Ray task, at most ``limit`` at a time (None: all).

    ``on_done(index, result)`` is called as each task ends; a task that Ray itself lost
    (a worker died) is reported as that run's failure, and the other tasks go on.
    """
    import ray

    remote = ray.remote(num_cpus=1)(execute_remote)
    queue = list(enumerate(tasks))
    pending: dict[Any, int] = {}
    while queue or pending:
        while queue and (limit is None or len(pending) < limit):
            index, (run, _, inputs) = queue.pop(0)
            pending[remote.remote(run, str(root), inputs)] = index
        ready, _ = ray.wait(list(pending), num_returns=1)
        for ref in ready:
            index = pending.pop(ref)
            run, out, _ = tasks[index]
            try:
                on_done(index, accept(run, out, ray.get(ref)))
            except ray.exceptions.RayError as exc:
                on_done(index, NotebookError(f"notebook {run.notebook.stem}: Ray task lost: {exc}"))
