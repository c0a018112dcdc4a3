"""Command line of the sweep: ``python -m idn_core.sweep NOTEBOOK -p NAME VALUE... [options]``.

Without arguments it prints its help and exits with status 2. Bad input (an unknown
parameter, a value of the wrong type, an empty grid, an unreachable Ray address) exits
with status 1 before anything runs; so does a sweep in which any run failed, after the
others finished and the table of the successful ones was written.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from idn_core.book import BookBuildError, command_status, default_root
from idn_core.book.params import notebook_parameters
from idn_core.sweep.driver import run_sweep
from idn_core.sweep.grid import axes_from_texts, merge_axes, read_grid
from idn_core.sweep.planning import notebook_of
from idn_core.sweep.records import SweepError, SweepResult

COMMAND = "python -m idn_core.sweep"
USAGE_EXAMPLES = """examples:
  python -m idn_core.sweep notebooks/07_playground.ipynb --profile quick -p n_requests 2000 5000 -p seed 0 1
  python -m idn_core.sweep notebooks/02_serve_or_forward.ipynb --grid grid.yaml --jobs 2
  python -m idn_core.sweep notebooks/07_playground.ipynb -p seed 0 1 2 --ray 10.0.0.5:6379

grid.yaml maps each parameter to its list of values, e.g.
  seed: [0, 1, 2]
  uplinks_ms: [[10.0, 40.0], [10.0, 80.0]]
"""


def sweep_parser() -> argparse.ArgumentParser:
    """The argument parser: notebook, grid, profile, parallelism, output."""
    p = argparse.ArgumentParser(
        prog=COMMAND, description=__doc__.split("\n\n")[0], epilog=USAGE_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )  # fmt: skip
    p.add_argument("notebook", type=Path, help="the .ipynb to run over the grid")
    p.add_argument(
        "-p", "--parameter", nargs="+", action="append", default=[], metavar=("NAME", "VALUE"),
        help="a swept parameter and its values (repeat -p for more; the grid is their product)",
    )  # fmt: skip
    p.add_argument("--grid", type=Path, help="YAML file mapping parameters to lists of values")
    p.add_argument(
        "--profile", default="full",
        help="full (notebook defaults, the default) or a profile of notebooks/profiles.yaml",
    )  # fmt: skip
    p.add_argument("--jobs", type=int, help="local worker processes (default: IDN_BOOK_JOBS or 2)")
    p.add_argument("--ray", metavar="ADDRESS", help="run on the Ray cluster at HOST:PORT (or auto)")
    p.add_argument("--out", type=Path, help="output folder (default _build/sweep/PROFILE/STEM)")
    p.add_argument("--force", action="store_true", help="re-execute runs even if cached")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    return p


def grid_of(args: argparse.Namespace) -> dict:
    """The typed axes of the grid file and of the ``-p`` options (checked by type)."""
    root = default_root()
    nb = notebook_of(args.notebook, root)
    specs = notebook_parameters(root / nb.rel)
    from_file = read_grid(args.grid) if args.grid else {}
    return merge_axes(from_file, axes_from_texts(nb.stem, specs, args.parameter))


def report(result: SweepResult) -> None:
    """Print where the outputs are, then every failure (to stderr)."""
    cached = sum(run.cached for run in result.runs)
    print(
        f"[sweep] {len(result.points)} runs: {len(result.runs) - cached} executed, {cached} cached,"
        f" {len(result.failures)} failed; table {result.csv} ({len(result.table)} rows)"
        + (f", figure {result.figure}" if result.figure else ""),
        flush=True,
    )
    for failure in result.failures:
        print(f"[sweep] FAILED: {failure}\n", file=sys.stderr)


def sweep(args: argparse.Namespace) -> int:
    """Run the parsed sweep and report it; 0 when every run succeeded, else 1."""
    if not args.parameter and not args.grid:
        raise SweepError("the grid is empty: give -p NAME VALUE [VALUE ...] or --grid FILE")
    result = run_sweep(
        args.notebook, grid_of(args), profile=args.profile, jobs=args.jobs,
        ray_address=args.ray, out=args.out, force=args.force, progress=not args.no_progress,
    )  # fmt: skip
    report(result)
    return 0 if result.ok else 1


def sweep_main(argv: list[str] | None = None) -> int:
    """Parse ``argv`` (default: ``sys.argv[1:]``), run the sweep; return the exit status."""
    return command_status(sweep_parser(), argv, sweep, (BookBuildError, TypeError), "sweep")
