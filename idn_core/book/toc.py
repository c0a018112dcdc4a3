"""What the book build runs: the notebooks of ``_toc.yml``, each with its parameters.

:func:`plan` reads the table of contents and the profiles, keeps the notebooks asked for
(``--only``), and checks every notebook's parameters before anything runs, reporting the
problems of all notebooks at once.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from idn_core.book.params import (
    load_profiles,
    notebook_parameters,
    profile_parameters,
    validate_parameters,
)
from idn_core.book.records import Notebook, ParameterError, PlannedRun, ProfileError
from idn_core.book.yamlfile import read_yaml

ROOT_ENV = "IDN_BOOK_ROOT"
TOC_FILE = "_toc.yml"
PROFILES_FILE = "notebooks/profiles.yaml"
EXECUTED_DIR = "_build/executed"


def default_root() -> Path:
    """The book's repository: ``$IDN_BOOK_ROOT``, else the checkout holding this package."""
    if env := os.environ.get(ROOT_ENV):
        return Path(env).resolve()
    here = Path(__file__).resolve().parents[2]
    return here if (here / TOC_FILE).exists() else Path.cwd()


def toc_files(node: Any) -> Iterator[str]:
    """Yield every ``root``/``file`` entry of a parsed ``_toc.yml``, in reading order."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("root", "file") and isinstance(value, str):
                yield value
            else:
                yield from toc_files(value)
    elif isinstance(node, list):
        for item in node:
            yield from toc_files(item)


def notebook_rel(entry: str) -> str:
    """The notebook path a ``_toc.yml`` entry would name (``a/b`` -> ``a/b.ipynb``)."""
    return entry if entry.endswith(".ipynb") else f"{entry}.ipynb"


def toc_notebooks(root: Path | None = None) -> list[Notebook]:
    """Return the notebooks of ``_toc.yml`` in book order (entries with an ``.ipynb`` file)."""
    root = root or default_root()
    toc = read_yaml(root / TOC_FILE)
    notebooks = [
        Notebook(Path(rel).stem, rel)
        for rel in map(notebook_rel, toc_files(toc))
        if (root / rel).is_file()
    ]
    stems = [nb.stem for nb in notebooks]
    if duplicates := sorted({s for s in stems if stems.count(s) > 1}):
        raise ProfileError(f"notebook names must be unique in _toc.yml: {', '.join(duplicates)}")
    return notebooks


def select(notebooks: list[Notebook], only: Iterable[str] | None) -> list[Notebook]:
    """Keep the notebooks named in ``only`` (all when None), in book order.

    A name may be given with or without ``.ipynb`` or its folder; an unknown one is an
    error listing the book's notebooks.
    """
    if only is None:
        return notebooks
    wanted = {Path(name).stem for name in only}
    stems = [nb.stem for nb in notebooks]
    if unknown := sorted(wanted - set(stems)):
        raise ProfileError(
            f"not a notebook of _toc.yml: {', '.join(unknown)} (book notebooks: {', '.join(stems)})"
        )
    return [nb for nb in notebooks if nb.stem in wanted]


def check_parameters(root: Path, runs: list[PlannedRun]) -> None:
    """Validate every run's parameters; one :class:`ParameterError` lists every notebook's."""
    problems = []
    for run in runs:
        if not run.parameters:
            continue
        specs = notebook_parameters(root / run.notebook.rel)
        try:
            validate_parameters(run.notebook.stem, specs, run.parameters)
        except ParameterError as exc:
            problems.append(str(exc))
    if problems:
        raise ParameterError("\n".join(problems))


def plan(
    profile: str, root: Path | None = None, only: Iterable[str] | None = None
) -> list[PlannedRun]:
    """Return each book notebook (or those in ``only``) with its validated parameters."""
    root = root or default_root()
    notebooks = toc_notebooks(root)
    profiles = load_profiles(root / PROFILES_FILE)
    params = profile_parameters(profiles, profile, [nb.stem for nb in notebooks])
    runs = [PlannedRun(nb, profile, params[nb.stem]) for nb in select(notebooks, only)]
    check_parameters(root, runs)
    return runs


def executed_path(nb: Notebook, profile: str, root: Path) -> Path:
    """Where the executed copy of ``nb`` under ``profile`` is kept."""
    return root / EXECUTED_DIR / profile / nb.rel
