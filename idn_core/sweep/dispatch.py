"""Running a sweep's plan: reuse what the cache holds, execute the rest, show progress.

The cache is the book build's (:mod:`idn_core.book.cache`): a run whose executed copy was
made from the same code cells, parameters, profile and library is reused (its prose
brought up to date) and nothing is executed, so a rerun of an unchanged grid executes
nothing and an interrupted sweep resumes where it stopped. The other runs go to local
worker processes (:func:`idn_core.book.execute.run_in_workers`) or to a Ray cluster
(:mod:`.cluster`). A failing run does not stop the others.
"""

from __future__ import annotations

from typing import Any

from tqdm.auto import tqdm

from idn_core.book import NotebookError, NotebookRun
from idn_core.book.cache import notebook_key, reuse
from idn_core.book.execute import finished, run_in_workers, run_inputs
from idn_core.sweep import cluster
from idn_core.sweep.planning import SweepPlan
from idn_core.sweep.records import point_text

RunOutcome = NotebookRun | NotebookError


def cached_runs(plan: SweepPlan, force: bool) -> tuple[dict[int, NotebookRun], dict[int, Any]]:
    """Split the plan's runs into reused ones (index -> run) and the others (index -> inputs)."""
    hits: dict[int, NotebookRun] = {}
    misses: dict[int, Any] = {}
    for index, (run, out) in enumerate(zip(plan.runs, plan.outs, strict=True)):
        current, inputs = run_inputs(run, plan.root)
        record = None if force else reuse(out, notebook_key(inputs), current)
        if record is None:
            misses[index] = inputs
        else:
            hits[index] = finished(run, out, record, cached=True)
    return hits, misses


def execute_misses(
    plan: SweepPlan, misses: dict[int, Any], jobs: int | None, ray_address: str | None, on_done: Any
) -> None:
    """Execute the runs ``misses`` names, locally or on Ray; ``on_done(index, outcome)``.

    ``jobs`` is the number of local worker processes, or the most Ray tasks in flight
    (None: all at once).
    """
    order = list(misses)

    def report(position: int, outcome: RunOutcome) -> None:
        on_done(order[position], outcome)

    if ray_address is None:
        runs = [plan.runs[i] for i in order]
        outs = [plan.outs[i] for i in order]
        run_in_workers(runs, plan.root, True, jobs or 1, outs=outs, on_done=report)
    else:
        tasks = [(plan.runs[i], plan.outs[i], misses[i]) for i in order]
        cluster.run_on_ray(tasks, plan.root, jobs, report)


def run_plan(
    plan: SweepPlan, jobs: int | None, ray_address: str | None, force: bool, progress: bool
) -> list[RunOutcome]:
    """Every run of ``plan``, reused or executed, in grid order (failures as errors)."""
    outcomes: list[RunOutcome | None] = [None] * len(plan.runs)
    bar = tqdm(total=len(plan.runs), desc=f"sweep {plan.notebook.stem}", unit="run",
               disable=not progress)  # fmt: skip
    failed = 0

    def done(index: int, outcome: RunOutcome) -> None:
        nonlocal failed
        outcomes[index] = outcome
        if isinstance(outcome, NotebookError):
            failed += 1
            bar.write(f"[sweep] FAILED: {point_text(plan.points[index])}")
            bar.set_postfix(failed=failed)
        bar.update()

    with bar:
        hits, misses = cached_runs(plan, force)
        for index, run in hits.items():
            done(index, run)
        if misses:
            execute_misses(plan, misses, jobs, ray_address, done)
    missing = [plan.points[i] for i, outcome in enumerate(outcomes) if outcome is None]
    if missing:
        raise RuntimeError(f"runs without an outcome (a bug of the sweep): {missing}")
    return [outcome for outcome in outcomes if outcome is not None]
