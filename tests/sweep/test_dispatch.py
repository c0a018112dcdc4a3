"""Tests of idn_core.sweep.dispatch: the book's cache makes a sweep resumable and a rerun free."""

from __future__ import annotations

from pathlib import Path

import pytest

from idn_core.book import runner
from idn_core.book.cache import read_record
from idn_core.sweep import plan_sweep, run_sweep
from idn_core.sweep.dispatch import cached_runs


class CountingPapermill:
    """Stands in for the runner's papermill call: counts calls, interrupts one if asked."""

    def __init__(self, interrupt_call: int | None = None, forbid: bool = False) -> None:
        self.calls = 0
        self.interrupt_call = interrupt_call
        self.forbid = forbid
        self.real = runner.papermill_with_retry

    def __call__(self, nb, params, profile, root, partial: Path) -> None:
        self.calls += 1
        if self.forbid:
            raise AssertionError(f"papermill ran for {params} although the run was cached")
        if self.calls == self.interrupt_call:
            partial.write_text("half a notebook")  # what papermill had written so far
            raise KeyboardInterrupt
        self.real(nb, params, profile, root, partial)


@pytest.mark.slow
def test_an_interrupted_sweep_resumes_and_an_unchanged_rerun_executes_nothing(
    tiny: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    grid, out = {"a": [1, 2, 3]}, tmp_path / "out"
    interrupted = CountingPapermill(interrupt_call=2)
    monkeypatch.setattr(runner, "papermill_with_retry", interrupted)
    with pytest.raises(KeyboardInterrupt):  # Ctrl-C during the second run
        run_sweep(tiny, grid, jobs=1, out=out, progress=False)
    plan = plan_sweep(tiny, grid, out=out)
    assert plan.outs[0].is_file() and read_record(plan.outs[0])["parameters"] == {"a": 1}
    assert not plan.outs[1].exists() and not plan.outs[2].exists()
    assert sorted(p.name for p in (out / "runs").iterdir()) == sorted(
        [plan.outs[0].name, plan.outs[0].with_suffix(".run.json").name]
    )  # the interrupted run's partial file is gone
    hits, misses = cached_runs(plan, force=False)
    assert list(hits) == [0] and list(misses) == [1, 2]

    resumed = CountingPapermill()
    monkeypatch.setattr(runner, "papermill_with_retry", resumed)
    result = run_sweep(tiny, grid, jobs=1, out=out, progress=False)
    assert resumed.calls == 2
    assert [run.cached for run in result.runs] == [True, False, False]
    assert result.ok and sorted(result.table["a"].unique()) == [1, 2, 3]

    monkeypatch.setattr(runner, "papermill_with_retry", CountingPapermill(forbid=True))
    again = run_sweep(tiny, grid, jobs=2, out=out, progress=False)
    assert [run.cached for run in again.runs] == [True, True, True]
    assert again.table.equals(result.table)

    hits, misses = cached_runs(plan, force=True)
    assert not hits and list(misses) == [0, 1, 2]
