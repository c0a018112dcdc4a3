"""One papermill run of one notebook, as the book build does it.

The kernel is ``python3``, the working directory the notebook's own folder (as in
JupyterLab), ``IDN_BOOK_BUILD=1`` and ``IDN_BOOK_PROFILE`` are set, each cell has a time
limit, and a notebook whose cell ran over it is run once more before the build gives up.
A failure keeps the partial notebook as ``<stem>.failed.ipynb`` beside the last good copy.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from idn_core.book.cache import record_path
from idn_core.book.records import Notebook, NotebookError, ProfileError
from idn_core.views.display import BUILD_ENV_VAR, PROFILE_ENV_VAR

KERNEL = "python3"
CELL_TIMEOUT_ENV = "IDN_BOOK_CELL_TIMEOUT"
# Seconds one cell may run before papermill stops it: the quick profile's notebooks take
# well under a minute in total, full-quality runs may train models on their first run.
CELL_TIMEOUT_S = {"full": 900}
CELL_TIMEOUT_DEFAULT_S = 180
# A notebook whose cell ran over the limit is run again once before the build fails (see
# quiet_output_widgets for the stall this guards against).
RUNS_ON_TIMEOUT = 2


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


def failed_path(executed: Path) -> Path:
    """Where the partial notebook of a failed run of ``executed`` is kept."""
    return executed.with_name(f"{executed.stem}.failed.ipynb")


@contextlib.contextmanager
def build_environment(profile: str) -> Iterator[None]:
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
def quiet_output_widgets() -> Iterator[None]:
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


def papermill_with_retry(
    nb: Notebook, params: dict[str, Any], profile: str, root: Path, partial: Path
) -> None:
    """Run papermill into ``partial``, once more if a cell ran over the time limit."""
    import papermill
    from nbclient.exceptions import CellTimeoutError

    timeout = cell_timeout_s(profile)
    for attempt in range(1, RUNS_ON_TIMEOUT + 1):
        try:
            papermill.execute_notebook(
                str(root / nb.rel), str(partial), parameters=params,
                kernel_name=KERNEL, cwd=str((root / nb.rel).parent),
                progress_bar=False, log_output=False, execution_timeout=timeout,
            )  # fmt: skip
            return
        except CellTimeoutError:
            if attempt == RUNS_ON_TIMEOUT:
                raise
            print(
                f"[book] {nb.stem}: a cell ran over {timeout} s; running the"
                " notebook again once (a rare stall of the kernel client)",
                flush=True,
            )


def failure_reason(exc: Exception) -> str:
    """Say what failed: the cell (number, index, error, source) when papermill knows it."""
    import papermill

    if isinstance(exc, papermill.PapermillExecutionError):
        reason = f"cell {exc.exec_count} (index {exc.cell_index}) raised {exc.ename}: {exc.evalue}"
        return reason + "\n--- cell source ---\n" + exc.source
    return f"{type(exc).__name__}: {exc}"


def run_papermill(
    nb: Notebook, params: dict[str, Any], profile: str, root: Path, out: Path
) -> None:
    """Execute ``nb`` into ``out``; a failure keeps the partial notebook as ``*.failed.ipynb``.

    ``out`` is replaced only by a complete run (``os.replace`` of a partial file), so the
    last good copy survives a failure or an interruption (which removes the partial file); :class:`NotebookError` names the notebook, the
    profile, the failing cell and the partial copy.
    """
    partial = out.with_name(f".{out.stem}.{os.getpid()}.partial.ipynb")
    failed = failed_path(out)
    try:
        with build_environment(profile), quiet_output_widgets():
            papermill_with_retry(nb, params, profile, root, partial)
    except Exception as exc:
        if partial.exists():
            os.replace(partial, failed)
        raise NotebookError(
            f"notebook {nb.stem} ({nb.rel}, profile {profile}) failed: {failure_reason(exc)}\n"
            f"partial output: {failed}"
        ) from exc
    except BaseException:  # interrupted (Ctrl-C, a stopped worker): leave no partial file
        partial.unlink(missing_ok=True)
        raise
    failed.unlink(missing_ok=True)
    record_path(out).unlink(missing_ok=True)  # never pair a new notebook with an old key
    os.replace(partial, out)
