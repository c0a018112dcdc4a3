"""Execute the book's notebooks with papermill, or reuse their cached executed copies.

The first notebook trains the shared zoo that later chapters load from the model cache;
while it does, ``IDN_TRAIN_JOBS`` lets it train up to ``jobs`` zoo models at once
(:func:`idn_core.learning.train_models`: same weights), and its training leaves a core
idle for minutes. A notebook that loads nothing it trains may say so in its metadata
(``"idn_book": {"alongside_first": true}``) to start beside it
(:func:`runs_alongside_first`). Chapter 6 does (its early-exit networks train on the
dataset alone), the longest such chapter: a process-sharing simulation of the measured
chapter times gave 1,450 s of execution with it beside chapter 1, against 1,660 s
without and 1,540 s with chapters 5 and 6 both beside. A wrong flag costs time, never
correctness: a model two notebooks need is keyed and cached the same way, whoever trains
it. The others then run ``jobs`` at a time in worker processes (every notebook trains
and infers on one thread, so two fit two cores), longest first by their last recorded
run (:func:`longest_first`), so that the workers finish close together. They too may
train independent models ``jobs`` at once (:func:`idn_core.learning.pretrain`: chapter
3's committees, a scenario's zoo): while two notebooks run this only shares the cores
differently, but the notebook left running alone at the end uses both.
Every notebook is attempted, and one :class:`NotebookError` at the end reports all the
failures.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import nbformat

from idn_core.book import cache
from idn_core.book.records import BookBuildError, NotebookError, NotebookRun, PlannedRun
from idn_core.book.runner import failed_path, run_papermill
from idn_core.book.toc import default_root, executed_path, plan
from idn_core.learning import TRAIN_JOBS_ENV

JOBS_ENV = "IDN_BOOK_JOBS"


def execute(run: PlannedRun, root: Path, out: Path, inputs: dict[str, Any]) -> dict[str, Any]:
    """Run papermill for ``run`` into ``out`` and store its run record; return the record."""
    changed = ", ".join(cache.changed_inputs(cache.read_record(out), inputs))
    print(
        f"[book] executing {run.notebook.rel} (profile {run.profile}; changed: {changed}) ...",
        flush=True,
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    run_papermill(run.notebook, run.parameters, run.profile, root, out)
    record = {
        "key": cache.notebook_key(inputs), "inputs": inputs, "profile": run.profile,
        "parameters": run.parameters, "seconds": round(time.perf_counter() - start, 2),
        "executed_at": datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC"),
    }  # fmt: skip
    return cache.write_record(out, record)


def run_inputs(run: PlannedRun, root: Path) -> tuple[nbformat.NotebookNode, dict[str, Any]]:
    """The notebook ``run`` names as it is now, and the inputs of its cache key."""
    current = nbformat.read(root / run.notebook.rel, as_version=4)
    inputs = cache.cache_inputs(current, run.parameters, run.profile, cache.library_digest(root))
    return current, inputs


def finished(run: PlannedRun, out: Path, record: dict[str, Any], cached: bool) -> NotebookRun:
    """The outcome of ``run`` whose good executed copy (with ``record``) is at ``out``."""
    failed_path(out).unlink(missing_ok=True)  # a failure older than this good copy
    seconds, executed_at = float(record.get("seconds", 0.0)), str(record.get("executed_at", ""))
    state = "cached" if cached else "executed"
    print(f"[book] {run.notebook.stem}: {state} ({seconds:.1f} s)", flush=True)
    return NotebookRun(run.notebook, run.profile, run.parameters, seconds, cached, executed_at, out)


def run_or_reuse(run: PlannedRun, root: Path, force: bool, out: Path | None = None) -> NotebookRun:
    """Execute one notebook unless its cached copy has the same key (prose merged in).

    The executed copy goes to ``out``, by default the book's place for it
    (``_build/executed/<profile>/<path>``); a sweep gives each run its own.
    """
    out = out or executed_path(run.notebook, run.profile, root)
    current, inputs = run_inputs(run, root)
    record = None if force else cache.reuse(out, cache.notebook_key(inputs), current)
    cached = record is not None
    if record is None:
        record = execute(run, root, out, inputs)
    return finished(run, out, record, cached)


def run_or_error(
    run: PlannedRun, root: Path, force: bool, out: Path | None = None
) -> NotebookRun | NotebookError:
    """:func:`run_or_reuse` for a worker process: a notebook's failure comes back as a value."""
    try:
        return run_or_reuse(run, root, force, out)
    except NotebookError as exc:
        return exc


def execute_notebook(
    stem: str, profile: str = "full", *, root: Path | None = None, force: bool = False
) -> Path:
    """Execute the book notebook ``stem`` under ``profile`` (or reuse it); return its path."""
    root = root or default_root()
    (run,) = plan(profile, root, only=[stem])
    return run_or_reuse(run, root, force).path


def default_jobs() -> int:
    """Notebooks executed at once: ``IDN_BOOK_JOBS`` if set, else up to 2 (one per core)."""
    value = os.environ.get(JOBS_ENV, "")
    if value:
        if not value.isdigit() or int(value) < 1:
            raise BookBuildError(f"{JOBS_ENV} must be a positive integer, got {value!r}")
        return int(value)
    return max(1, min(2, os.cpu_count() or 1))


@contextlib.contextmanager
def training_jobs_env(jobs: int) -> Iterator[None]:
    """Let notebooks started inside train ``jobs`` models at once (unless the caller set it)."""
    if TRAIN_JOBS_ENV in os.environ:
        yield
        return
    os.environ[TRAIN_JOBS_ENV] = str(jobs)
    try:
        yield
    finally:
        os.environ.pop(TRAIN_JOBS_ENV, None)


def warm_up(run: PlannedRun, root: Path, force: bool, jobs: int) -> NotebookRun | NotebookError:
    """Run the first notebook alone; it may train ``jobs`` models at once meanwhile."""
    with training_jobs_env(jobs):
        return run_or_error(run, root, force)


#: Notebook metadata key of the book's scheduling hints (see :func:`runs_alongside_first`).
METADATA_KEY = "idn_book"


def runs_alongside_first(run: PlannedRun, root: Path) -> bool:
    """Does ``run``'s notebook declare that it loads nothing the first notebook trains
    (metadata ``"idn_book": {"alongside_first": true}``), so it may start beside it?"""
    hints = nbformat.read(root / run.notebook.rel, as_version=4).metadata.get(METADATA_KEY, {})
    flag = hints.get("alongside_first", False) if isinstance(hints, dict) else None
    if not isinstance(flag, bool):
        raise BookBuildError(
            f"{run.notebook.rel}: metadata {METADATA_KEY!r} must be a mapping whose "
            f"'alongside_first' is true or false, got {hints!r}"
        )
    return flag


def last_seconds(run: PlannedRun, root: Path) -> float | None:
    """Seconds of ``run``'s last recorded execution (any inputs), None if never recorded."""
    record = cache.read_record(executed_path(run.notebook, run.profile, root))
    seconds = record.get("seconds") if record else None
    return float(seconds) if isinstance(seconds, int | float) else None


def longest_first(runs: list[PlannedRun], root: Path) -> list[int]:
    """Indices of ``runs``, longest last recorded run first; never recorded ones lead.

    Greedy longest-first on ``jobs`` workers keeps the last notebook from starting alone
    at the end. Ties and unknowns keep the table-of-contents order.
    """
    seconds = [last_seconds(run, root) for run in runs]
    return sorted(range(len(runs)), key=lambda i: -(seconds[i] if seconds[i] is not None else 1e18))


def run_in_workers(
    runs: list[PlannedRun],
    root: Path,
    force: bool,
    jobs: int,
    *,
    outs: list[Path] | None = None,
    on_done: Callable[[int, NotebookRun | NotebookError], None] | None = None,
) -> list[NotebookRun | NotebookError]:
    """Run ``runs`` in ``jobs`` spawned worker processes (in-process when one is enough).

    ``outs`` gives each run's executed copy its own path (default: the book's);
    ``on_done(index, result)`` is called as each run ends, in the order they end. Notebooks
    start longest first (:func:`longest_first`); results keep ``runs``' order.
    """
    outs = outs or [executed_path(run.notebook, run.profile, root) for run in runs]
    results: list[NotebookRun | NotebookError | None] = [None] * len(runs)

    def done(index: int, result: NotebookRun | NotebookError) -> None:
        results[index] = result
        if on_done is not None:
            on_done(index, result)

    if jobs == 1 or len(runs) <= 1:
        for index, (run, out) in enumerate(zip(runs, outs, strict=True)):
            done(index, run_or_error(run, root, force, out))
    else:
        context = multiprocessing.get_context("spawn")  # no fork of a process holding torch
        with ProcessPoolExecutor(max_workers=jobs, mp_context=context) as pool:
            futures = {
                pool.submit(run_or_error, runs[i], root, force, outs[i]): i
                for i in longest_first(runs, root)
            }
            for future in as_completed(futures):
                done(futures[future], future.result())
    return [r for r in results if r is not None]


def failure_report(
    runs: list[PlannedRun], results: list[NotebookRun | NotebookError]
) -> NotebookError | None:
    """One error naming every failed notebook, then each one's failing cell; None if none."""
    failed = [
        (run, r) for run, r in zip(runs, results, strict=True) if isinstance(r, NotebookError)
    ]
    if not failed:
        return None
    names = ", ".join(run.notebook.stem for run, _ in failed)
    head = f"{len(failed)} of {len(runs)} notebooks failed: {names}"
    return NotebookError("\n\n".join([head, *(str(error) for _, error in failed)]))


def execute_all(
    profile: str = "full",
    *,
    root: Path | None = None,
    force: bool = False,
    jobs: int | None = None,
    only: Iterable[str] | None = None,
) -> list[NotebookRun]:
    """Validate every notebook's parameters, then execute (or reuse) each; raise on failures.

    ``only`` restricts the build to the named notebooks (stems). See the module's
    docstring for the order and the parallel runs.
    """
    root = root or default_root()
    runs = plan(profile, root, only)
    jobs = jobs or default_jobs()
    results = run_with_warm_up(runs, root, force, jobs) if runs else []
    if error := failure_report(runs, results):
        raise error
    return [r for r in results if isinstance(r, NotebookRun)]


def run_with_warm_up(
    runs: list[PlannedRun], root: Path, force: bool, jobs: int
) -> list[NotebookRun | NotebookError]:
    """The first of ``runs`` as the warm-up (:func:`warm_up`), the notebooks that may run
    alongside it (:func:`runs_alongside_first`) one by one in a side worker meanwhile,
    then the others ``jobs`` at a time (beside the side worker if it is still busy: the
    cores stay full, never idle); results in ``runs``' order."""
    first, rest = runs[0], runs[1:]
    beside = [run for run in rest if jobs > 1 and runs_alongside_first(run, root)]
    if not beside:
        head = warm_up(first, root, force, jobs)
        with training_jobs_env(jobs):  # the last notebook running alone trains on every core
            return [head, *run_in_workers(rest, root, force, jobs)]
    later = [run for run in rest if run not in beside]
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=context) as side:
        pending = [side.submit(run_in_workers, beside, root, force, 1)]
        head = warm_up(first, root, force, jobs)
        with training_jobs_env(jobs):  # ``jobs`` workers: the side one may still be busy
            after = run_in_workers(later, root, force, jobs) if later else []
        done = dict(zip(map(id, beside), pending[0].result(), strict=True))
    done.update(zip(map(id, later), after, strict=True))
    return [head, *(done[id(run)] for run in rest)]
