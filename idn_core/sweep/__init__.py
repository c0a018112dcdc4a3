"""Run a notebook over a grid of parameters and gather its glued numbers: ``python -m idn_core.sweep``.

A sweep is the book build (:mod:`idn_core.book`) applied to one notebook many times: each
grid point is a papermill run under a profile, cached by the book's content key, so a
rerun of an unchanged grid executes nothing and an interrupted sweep resumes. Runs go to
local worker processes or, given a cluster address, to Ray tasks (Ray is imported only
then). Modules, from the bottom up:

- ``records``: the sweep's error and its result records;
- ``grid``: axes from the command line or a YAML file, checked against the notebook;
- ``planning``: one planned run per grid point, and where each one's notebook goes;
- ``cluster``: the Ray path (address check, the task, storing what it sends back);
- ``dispatch``: reuse the cached runs, execute the others with a progress bar;
- ``table``: the tidy table of glued scalars, written as CSV;
- ``driver``: :func:`run_sweep`; ``cli`` and ``__main__``: the command line.
"""

from idn_core.sweep.driver import run_sweep
from idn_core.sweep.grid import axes_from_texts, grid_points, read_grid
from idn_core.sweep.planning import SweepPlan, plan_sweep
from idn_core.sweep.records import SweepError, SweepFailure, SweepResult
from idn_core.sweep.table import glued_table

__all__ = [
    "SweepError",
    "SweepFailure",
    "SweepPlan",
    "SweepResult",
    "axes_from_texts",
    "glued_table",
    "grid_points",
    "plan_sweep",
    "read_grid",
    "run_sweep",
]
