"""Papermill-first build of the IDN Book.

``python -m idn_core.bookbuild build --profile quick`` does, in order:

1. reads ``_toc.yml`` and takes every entry whose ``.ipynb`` exists as a notebook, in order;
2. checks the profile's parameters (``notebooks/profiles.yaml``) against each notebook's
   ``parameters`` cell (unknown names, wrong types) before running anything;
3. executes each notebook with papermill (kernel ``python3``, working directory = the
   notebook's own folder, as in JupyterLab; ``IDN_BOOK_BUILD=1`` and ``IDN_BOOK_PROFILE``
   set) into ``_build/executed/<profile>/<path>.ipynb``, unless the copy there was made
   from the same inputs (see :mod:`idn_core._bookcache`);
4. stages the book in ``_build/stage/<profile>/`` (config, ``book/``, executed notebooks, a
   generated ``book/execution_stats.md``, the vendored assets as ``_vendor``);
5. runs ``jupyter-book build --all -W --keep-going`` on the stage, with jupyter-book's own
   execution off, into ``<output>/_build/html`` (``output`` defaults to the repository).
"""

from __future__ import annotations

import argparse
import contextlib
import multiprocessing
import os
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from idn_core import _bookcache as cache
from idn_core._bookparams import (
    BookBuildError,
    ParameterError,
    ProfileError,
    load_profiles,
    notebook_parameters,
    profile_parameters,
    validate_parameters,
)
from idn_core._bookstage import (
    SphinxBuildError,
    run_sphinx,
    stage_book,
)
from idn_core.display import BUILD_ENV_VAR, PROFILE_ENV_VAR

__all__ = [
    "BookBuildError",
    "Notebook",
    "NotebookError",
    "NotebookRun",
    "ParameterError",
    "ProfileError",
    "SphinxBuildError",
    "build_book",
    "execute_all",
    "execute_notebook",
    "toc_notebooks",
]

KERNEL = "python3"
CELL_TIMEOUT_ENV = "IDN_BOOK_CELL_TIMEOUT"
JOBS_ENV = "IDN_BOOK_JOBS"
# Seconds one cell may run before papermill stops it: the quick profile's notebooks take
# well under a minute in total, full-quality runs may train models on their first run.
CELL_TIMEOUT_S = {"full": 900}
CELL_TIMEOUT_DEFAULT_S = 180
# A notebook whose cell ran over the limit is run again once before the build fails (see
# _quiet_output_widgets for the stall this guards against).
RUNS_ON_TIMEOUT = 2
PROFILES_FILE = "notebooks/profiles.yaml"
EXECUTED_DIR = "_build/executed"


class NotebookError(BookBuildError):
    """A notebook raised while papermill executed it."""


@dataclass(frozen=True)
class Notebook:
    """A notebook of the book: ``stem`` (unique name) and ``rel`` (path from the repo root)."""

    stem: str
    rel: str


@dataclass(frozen=True)
class NotebookRun:
    """The outcome of executing (or reusing) one notebook under a profile."""

    notebook: Notebook
    profile: str
    parameters: dict[str, Any]
    seconds: float
    cached: bool
    executed_at: str
    path: Path


def default_root() -> Path:
    """The book's repository: ``$IDN_BOOK_ROOT``, else the checkout holding this package."""
    if env := os.environ.get("IDN_BOOK_ROOT"):
        return Path(env).resolve()
    here = Path(__file__).resolve().parents[1]
    return here if (here / "_toc.yml").exists() else Path.cwd()


def _toc_files(node: Any) -> Iterator[str]:
    """Yield every ``root``/``file`` entry of a parsed ``_toc.yml``, in reading order."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("root", "file") and isinstance(value, str):
                yield value
            else:
                yield from _toc_files(value)
    elif isinstance(node, list):
        for item in node:
            yield from _toc_files(item)


def toc_notebooks(root: Path | None = None) -> list[Notebook]:
    """Return the notebooks of ``_toc.yml`` in book order (entries with an ``.ipynb`` file)."""
    root = root or default_root()
    toc = yaml.safe_load((root / "_toc.yml").read_text(encoding="utf-8"))
    notebooks: list[Notebook] = []
    for entry in _toc_files(toc):
        rel = entry if entry.endswith(".ipynb") else f"{entry}.ipynb"
        if (root / rel).is_file():
            notebooks.append(Notebook(Path(rel).stem, rel))
    stems = [nb.stem for nb in notebooks]
    if duplicates := sorted({s for s in stems if stems.count(s) > 1}):
        raise ProfileError(f"notebook names must be unique in _toc.yml: {', '.join(duplicates)}")
    return notebooks


def plan(profile: str, root: Path | None = None) -> list[tuple[Notebook, dict[str, Any]]]:
    """Return each book notebook with its validated parameters under ``profile``."""
    root = root or default_root()
    notebooks = toc_notebooks(root)
    profiles = load_profiles(root / PROFILES_FILE)
    params = profile_parameters(profiles, profile, [nb.stem for nb in notebooks])
    for nb in notebooks:
        if params[nb.stem]:
            validate_parameters(nb.stem, notebook_parameters(root / nb.rel), params[nb.stem])
    return [(nb, params[nb.stem]) for nb in notebooks]


def cell_timeout_s(profile: str) -> int:
    """Per-cell time limit in seconds: ``$IDN_BOOK_CELL_TIMEOUT``, else by profile."""
    if env := os.environ.get(CELL_TIMEOUT_ENV):
        try:
            value = int(env)
        except ValueError:
            raise ProfileError(f"{CELL_TIMEOUT_ENV} must be a whole number of seconds") from None
        if value < 1:
            raise ProfileError(f"{CELL_TIMEOUT_ENV} must be positive, got {value}")
        return value
    return CELL_TIMEOUT_S.get(profile, CELL_TIMEOUT_DEFAULT_S)


def executed_path(nb: Notebook, profile: str, root: Path) -> Path:
    """Where the executed copy of ``nb`` under ``profile`` is kept."""
    return root / EXECUTED_DIR / profile / nb.rel


@contextlib.contextmanager
def _build_environment(profile: str) -> Iterator[None]:
    """Set the variables that tell notebooks they run inside the book build."""
    saved = {name: os.environ.get(name) for name in (BUILD_ENV_VAR, PROFILE_ENV_VAR)}
    os.environ.update({BUILD_ENV_VAR: "1", PROFILE_ENV_VAR: profile})
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@contextlib.contextmanager
def _quiet_output_widgets() -> Iterator[None]:
    """Keep nbclient's output-widget mimic from writing to the kernel's shell socket.

    While a cell runs, nbclient awaits the execute reply on the shell socket and, at the
    same time, its ``OutputWidget`` mimic sends every captured output back to the kernel
    on that same socket (``sync_state``). Builds were seen stalling forever at cells that
    display ipywidgets ``Output``/``interactive`` widgets, with the kernel idle: the
    pattern of a reply missed by a socket read racing a write. The notebook's saved
    widget state does not need that message (nbclient records the outputs itself), so
    the build skips it.
    """
    from nbclient.output_widget import OutputWidget

    original = OutputWidget.sync_state
    OutputWidget.sync_state = lambda self: None  # type: ignore[method-assign]
    try:
        yield
    finally:
        OutputWidget.sync_state = original  # type: ignore[method-assign]


def _papermill(nb: Notebook, params: dict[str, Any], profile: str, root: Path, out: Path) -> None:
    """Execute ``nb`` into ``out``; a failure keeps the partial notebook as ``*.failed.ipynb``."""
    import papermill
    from nbclient.exceptions import CellTimeoutError

    partial = out.with_name(f".{out.stem}.{os.getpid()}.partial.ipynb")
    failed = out.with_name(f"{out.stem}.failed.ipynb")
    timeout = cell_timeout_s(profile)
    try:
        with _build_environment(profile), _quiet_output_widgets():
            for attempt in range(1, RUNS_ON_TIMEOUT + 1):
                try:
                    papermill.execute_notebook(
                        str(root / nb.rel), str(partial), parameters=params,
                        kernel_name=KERNEL, cwd=str((root / nb.rel).parent),
                        progress_bar=False, log_output=False, execution_timeout=timeout,
                    )  # fmt: skip
                    break
                except CellTimeoutError:
                    if attempt == RUNS_ON_TIMEOUT:
                        raise
                    print(
                        f"[bookbuild] {nb.stem}: a cell ran over {timeout} s; running the"
                        " notebook again once (a rare stall of the kernel client)",
                        flush=True,
                    )
    except Exception as exc:
        if partial.exists():
            os.replace(partial, failed)
        if isinstance(exc, papermill.PapermillExecutionError):
            reason = (
                f"cell {exc.exec_count} (index {exc.cell_index}) raised {exc.ename}: {exc.evalue}"
            )
            reason += "\n--- cell source ---\n" + exc.source
        else:
            reason = f"{type(exc).__name__}: {exc}"
        raise NotebookError(
            f"notebook {nb.stem} ({nb.rel}, profile {profile}) failed: {reason}\n"
            f"partial output: {failed}"
        ) from exc
    failed.unlink(missing_ok=True)
    cache.record_path(out).unlink(missing_ok=True)  # never pair a new notebook with an old key
    os.replace(partial, out)


def _run(
    nb: Notebook, params: dict[str, Any], profile: str, root: Path, force: bool
) -> NotebookRun:
    """Execute one notebook unless its cached copy has the same key."""
    out = executed_path(nb, profile, root)
    key = cache.cache_key((root / nb.rel).read_bytes(), params, profile, cache.library_digest(root))
    cached = not force and cache.is_fresh(out, key)
    if not cached:
        out.parent.mkdir(parents=True, exist_ok=True)
        print(f"[bookbuild] executing {nb.rel} (profile {profile}) ...", flush=True)
        start = time.perf_counter()
        _papermill(nb, params, profile, root, out)
        record = {
            "key": key, "profile": profile, "parameters": params,
            "seconds": round(time.perf_counter() - start, 2),
            "executed_at": datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC"),
        }  # fmt: skip
        cache.write_record(out, record)
    record = cache.read_record(out) or {}
    seconds, executed_at = float(record.get("seconds", 0.0)), str(record.get("executed_at", ""))
    state = "cached" if cached else "executed"
    print(f"[bookbuild] {nb.stem}: {state} ({seconds:.1f} s)", flush=True)
    return NotebookRun(nb, profile, params, seconds, cached, executed_at, out)


def execute_notebook(
    stem: str, profile: str = "full", *, root: Path | None = None, force: bool = False
) -> Path:
    """Execute the book notebook ``stem`` under ``profile`` (or reuse it); return its path."""
    root = root or default_root()
    for nb, params in plan(profile, root):
        if nb.stem == stem:
            return _run(nb, params, profile, root, force).path
    raise ProfileError(f"{stem!r} is not a notebook of _toc.yml")


def default_jobs() -> int:
    """Notebooks executed at once: ``IDN_BOOK_JOBS`` if set, else up to 2 (one per core)."""
    value = os.environ.get(JOBS_ENV, "")
    if value:
        if not value.isdigit() or int(value) < 1:
            raise BookBuildError(f"{JOBS_ENV} must be a positive integer, got {value!r}")
        return int(value)
    return max(1, min(2, os.cpu_count() or 1))


def _run_or_error(
    nb: Notebook, params: dict[str, Any], profile: str, root: Path, force: bool
) -> NotebookRun | NotebookError:
    """:func:`_run` for a worker process: a notebook's failure comes back as a value."""
    try:
        return _run(nb, params, profile, root, force)
    except NotebookError as exc:
        return exc


def execute_all(
    profile: str = "full", *, root: Path | None = None, force: bool = False, jobs: int | None = None
) -> list[NotebookRun]:
    """Validate every notebook's parameters, then execute (or reuse) each; raise on failures.

    The first notebook runs alone, since it trains the shared zoo that later chapters load
    from the cache; the others then run ``jobs`` at a time in worker processes (every
    notebook trains and infers on one thread, so two fit two cores). Every notebook is
    attempted; the :class:`NotebookError` raised at the end lists all failures.
    """
    root = root or default_root()
    items = plan(profile, root)
    jobs = jobs or default_jobs()
    results = [_run_or_error(*items[0], profile, root, force)] if items else []
    rest = items[1:]
    if jobs == 1 or len(rest) <= 1:
        results += [_run_or_error(nb, params, profile, root, force) for nb, params in rest]
    else:
        context = multiprocessing.get_context("spawn")  # no fork of a process holding torch
        with ProcessPoolExecutor(max_workers=jobs, mp_context=context) as pool:
            futures = [
                pool.submit(_run_or_error, nb, params, profile, root, force) for nb, params in rest
            ]
            results += [f.result() for f in futures]
    failures = [str(r) for r in results if isinstance(r, NotebookError)]
    if failures:
        raise NotebookError("\n\n".join(failures))
    return [r for r in results if not isinstance(r, NotebookError)]


def build_book(
    profile: str = "full",
    *,
    root: Path | None = None,
    output: Path | None = None,
    force: bool = False,
) -> Path:
    """Execute every notebook (cached), stage the book and build its HTML; return the folder."""
    root = root or default_root()
    runs = execute_all(profile, root=root, force=force)
    stage = stage_book(runs, profile, root)
    html = run_sphinx(stage, (output or root).resolve())
    print(f"[bookbuild] book ({profile}) built in {html}", flush=True)
    return html


def main(argv: list[str] | None = None) -> int:
    """Command line: ``python -m idn_core.bookbuild {build,execute,list} [--profile P]``."""
    parser = argparse.ArgumentParser(prog="python -m idn_core.bookbuild", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    parser.add_argument("command", nargs="?", default="build", choices=["build", "execute", "list"])
    parser.add_argument(
        "--profile",
        default="full",
        help="full (notebook defaults) or a profile of notebooks/profiles.yaml",
    )
    parser.add_argument("--force", action="store_true", help="re-execute even if cached")
    parser.add_argument("--output", type=Path, help="HTML goes to OUTPUT/_build/html")
    args = parser.parse_args(argv)
    try:
        if args.command == "list":
            for nb, params in plan(args.profile):
                print(f"{nb.stem}\t{nb.rel}\t{params or 'defaults'}")
        elif args.command == "execute":
            execute_all(args.profile, force=args.force)
        else:
            build_book(args.profile, output=args.output, force=args.force)
    except BookBuildError as exc:
        print(f"[bookbuild] ERROR: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
