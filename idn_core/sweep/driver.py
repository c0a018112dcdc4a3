"""``run_sweep``: plan, run, gather and write a sweep of one notebook over a grid.

In order: check everything (notebook, grid, profile, Ray address) before anything runs;
reuse or execute every run (:mod:`.dispatch`); gather the glued scalars of the runs that
succeeded into one tidy table (:mod:`.table`) written as ``<out>/glued.csv``; draw the
summary figure (:func:`idn_core.views.sweep_figure`) as ``<out>/summary.html``, a page
that works offline (plotly.js is written beside it). Failed runs are returned, not raised:
the command line reports them and exits non-zero.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from idn_core.book import NotebookError, NotebookRun, default_jobs
from idn_core.sweep import cluster
from idn_core.sweep.dispatch import run_plan
from idn_core.sweep.planning import SweepPlan, plan_sweep
from idn_core.sweep.records import SweepError, SweepFailure, SweepResult
from idn_core.sweep.table import glued_table, write_csv
from idn_core.views.sweep import sweep_figure

TABLE_FILE = "glued.csv"
FIGURE_FILE = "summary.html"


def check_jobs(jobs: int | None) -> int:
    """The number of local worker processes: ``jobs``, else the book's default."""
    if jobs is None:
        return default_jobs()
    if isinstance(jobs, bool) or not isinstance(jobs, int):
        raise TypeError(f"jobs must be a positive int, got {type(jobs).__name__} {jobs!r}")
    if jobs < 1:
        raise SweepError(f"jobs must be a positive number of processes, got {jobs}")
    return jobs


def write_outputs(
    plan: SweepPlan, runs: list[NotebookRun | NotebookError]
) -> tuple[pd.DataFrame, Path, Path | None]:
    """Gather the table, write it and the summary figure; return (table, csv, figure)."""
    notebooks = [r.path if isinstance(r, NotebookRun) else None for r in runs]
    table = glued_table(plan.points, notebooks, list(plan.axes))
    csv = write_csv(table, plan.out_dir / TABLE_FILE)
    figure = plan.out_dir / FIGURE_FILE
    try:
        fig = sweep_figure(table, list(plan.axes))
    except ValueError:  # no glued number: nothing to draw
        figure.unlink(missing_ok=True)
        return table, csv, None
    fig.update_layout(title={"text": f"{plan.notebook.stem} ({plan.profile}): glued values"})
    fig.write_html(figure, include_plotlyjs="directory")
    return table, csv, figure


def run_sweep(
    notebook: str | Path,
    grid: Mapping[str, Sequence[Any]],
    *,
    profile: str = "full",
    jobs: int | None = None,
    ray_address: str | None = None,
    out: str | Path | None = None,
    root: str | Path | None = None,
    force: bool = False,
    progress: bool = True,
) -> SweepResult:
    """Run ``notebook`` with papermill at every point of ``grid``; gather its glued values.

    Parameters
    ----------
    notebook : path
        The ``.ipynb`` to run (a book chapter or any notebook with a ``parameters`` cell).
    grid : mapping
        Parameter name -> list of values; the runs are the product of the lists.
    profile : str
        ``full`` (notebook defaults) or a profile of ``notebooks/profiles.yaml``, whose
        parameters for this notebook the grid's values override.
    jobs : int, optional
        Local worker processes (default: the book's, ``IDN_BOOK_JOBS`` or up to 2); with
        ``ray_address``, the most Ray tasks in flight (default: all).
    ray_address : str, optional
        ``HOST:PORT``, ``ray://HOST:PORT`` or ``auto``: run each notebook as a Ray task on
        that existing cluster instead of local processes.
    out : path, optional
        Folder of the executed runs, the table and the figure (default
        ``_build/sweep/<profile>/<stem>``); a rerun with the same folder reuses its runs.
    root : path, optional
        The book's repository (default: the checkout holding ``idn_core``).
    force : bool
        Execute every run even when its cached copy is up to date.
    progress : bool
        Show a tqdm progress bar.

    Raises :class:`SweepError`, :class:`~idn_core.book.ParameterError` or
    :class:`~idn_core.book.ProfileError` before anything runs when the input is wrong.
    """
    plan = plan_sweep(
        notebook, grid, profile, Path(out) if out else None, Path(root) if root else None
    )
    jobs = check_jobs(jobs) if ray_address is None or jobs is not None else None
    connected = False
    if ray_address is not None:
        connected = cluster.connect(cluster.check_address(ray_address))
    try:
        runs = run_plan(plan, jobs, ray_address, force, progress)
    finally:
        if connected:
            cluster.disconnect()
    table, csv, figure = write_outputs(plan, runs)
    failures = [
        SweepFailure(plan.notebook.stem, point, str(r))
        for point, r in zip(plan.points, runs, strict=True)
        if isinstance(r, NotebookError)
    ]
    done = [r for r in runs if isinstance(r, NotebookRun)]
    return SweepResult(table, done, failures, csv, figure, plan.points)
