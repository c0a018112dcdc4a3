"""Papermill-first build of the IDN Book: execute, stage, render.

``python -m idn_core.book build --profile quick`` does, in order:

1. reads ``_toc.yml`` and takes every entry whose ``.ipynb`` exists as a notebook, in
   order (or only those named with ``--only``; see :mod:`idn_core.book.toc`);
2. checks the profile's parameters (``notebooks/profiles.yaml``) against each notebook's
   ``parameters`` cell (unknown names, wrong types) before running anything;
3. executes each notebook with papermill (:mod:`idn_core.book.runner`) into
   ``_build/executed/<profile>/<path>.ipynb``, unless the copy there was made from the
   same inputs (:mod:`idn_core.book.cache`), the first alone and the rest in parallel
   (:mod:`idn_core.book.execute`);
4. stages the book in ``_build/stage/<profile>/`` (config, ``book/``, executed notebooks, a
   generated ``book/execution_stats.md``, the vendored assets as ``_vendor``);
5. runs ``jupyter-book build --all -W --keep-going`` on the stage, with jupyter-book's own
   execution off, into ``<output>/_build/html`` (``output`` defaults to the repository).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from idn_core.book.execute import execute_all
from idn_core.book.stage import run_sphinx, stage_book
from idn_core.book.toc import default_root


def build_book(
    profile: str = "full",
    *,
    root: Path | None = None,
    output: Path | None = None,
    force: bool = False,
    only: Iterable[str] | None = None,
) -> Path:
    """Execute the notebooks (cached), stage the book and build its HTML; return the folder.

    With ``only``, the book holds just the named notebooks (and the other pages).
    """
    root = root or default_root()
    runs = execute_all(profile, root=root, force=force, only=only)
    stage = stage_book(runs, profile, root)
    html = run_sphinx(stage, (output or root).resolve())
    print(f"[book] book ({profile}) built in {html}", flush=True)
    return html
