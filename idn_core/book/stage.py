"""Staging and Sphinx steps of the book build.

The stage (``_build/stage/<profile>/``) is a throw-away copy of the book's sources in which
every notebook of ``_toc.yml`` is replaced by its executed copy, plus the generated
execution-statistics page, a ``_vendor`` link to the vendored browser assets and the
reader's downloads in ``_extra/downloads/`` (:mod:`idn_core.book.downloads`).
jupyter-book then renders the stage with its own execution off. A build of some
notebooks only (``--only``) stages a ``_toc.yml`` without the others.

What the stage adds for a reader of the static book:

- each chapter gets a "Run this chapter yourself" box after its title (the downloads and
  the three commands), and a markdown page holding the line :data:`DOWNLOADS_MARKER` gets
  the same downloads and commands in its place (the introduction);
- each saved ipywidgets view gets a notice right above it (:func:`widget_notice`): without
  a kernel its controls move but change nothing;
- ``_config.yml``'s ``repository.url`` is the one setting of the repository, Binder and
  Colab buttons (:func:`staged_config`): empty, the book shows none of them.
"""

from __future__ import annotations

import copy
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from idn_core.book.cache import atomic_write
from idn_core.book.downloads import intro_section, run_note, run_note_target, stage_downloads
from idn_core.book.records import BookBuildError, NotebookRun, SphinxBuildError
from idn_core.book.toc import TOC_FILE, notebook_rel, toc_notebooks
from idn_core.book.yamlfile import read_yaml

STAGE_DIR = "_build/stage"
VENDOR_STATIC = ".cache/vendor/static"
STATS_PAGE = "book/execution_stats.md"
ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;]*m")
STAGE_IGNORE = shutil.ignore_patterns("*.ipynb", "__pycache__", ".ipynb_checkpoints")
DOWNLOADS_MARKER = "% idn-book: downloads and the commands to run a chapter (written by the build)"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_NOTICE_CLASS = "idn-static-widget"
LAUNCH_KEYS = ("binderhub_url", "colab_url", "jupyterhub_url")


def stats_markdown(runs: list[NotebookRun], profile: str) -> str:
    """Return the execution-statistics page for ``runs``."""
    lines = [
        "# Execution statistics",
        "",
        f"This book was built with the `{profile}` profile. Every chapter below was executed"
        " by papermill before Sphinx rendered it; Sphinx itself executes nothing. A cached"
        " chapter was not re-executed because none of its inputs (its code cells, its"
        " parameters, the profile, the `idn_core` library sources, `requirements.txt`)"
        " changed since the run that produced it, whose duration is shown; edits to its"
        " prose are laid over the cached outputs.",
        "",
        "| Chapter | Profile | Papermill run (s) | Cached | Executed at | Parameters |",
        "| --- | --- | ---: | --- | --- | --- |",
    ]
    for run in runs:
        link = os.path.relpath(run.notebook.rel, os.path.dirname(STATS_PAGE))
        params = ", ".join(f"`{k}={v!r}`" for k, v in run.parameters.items()) or "defaults"
        cached = "yes" if run.cached else "no"
        lines.append(
            f"| [](<{link}>) (`{run.notebook.stem}`) | {run.profile} | {run.seconds:.1f} "
            f"| {cached} | {run.executed_at} | {params} |"
        )
    total = sum(run.seconds for run in runs)
    now = sum(run.seconds for run in runs if not run.cached)
    lines += ["", f"Total execution time: {total:.1f} s, of which {now:.1f} s in this build.", ""]
    return "\n".join(lines)


def widget_notice(run_anchor: str) -> str:
    """HTML of the notice shown right above a saved widget view in the static book."""
    return (
        f'<div class="admonition note {WIDGET_NOTICE_CLASS}">'
        '<p class="admonition-title">A saved dashboard: no live kernel behind it</p>'
        "<p>The controls below show the state saved when this page was built. Here, without"
        " a running Python kernel, moving them changes nothing. The plotly figures' own"
        f' sliders and buttons do work. <a href="#{run_anchor}">Run this chapter'
        " yourself</a> to use the dashboard live.</p></div>"
    )


def add_widget_notices(nb: Any, run_anchor: str) -> int:
    """Put :func:`widget_notice` before every displayed widget view of ``nb``; return how many."""
    import nbformat

    added = 0
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        outputs = []
        for output in cell.get("outputs", []):
            shown = "scrapbook" not in output.get("metadata", {})  # glued outputs are hidden
            if shown and WIDGET_VIEW in output.get("data", {}):
                notice = widget_notice(run_anchor)
                plain = "A saved dashboard: its controls need a live kernel."
                data = {"text/html": notice, "text/plain": plain}
                outputs.append(nbformat.v4.new_output("display_data", data=data))
                added += 1
            outputs.append(output)
        cell["outputs"] = outputs
    return added


def staged_notebook(run: NotebookRun, wheel_name: str) -> bytes:
    """The executed notebook as the book shows it: a note saying which profile overrode its
    defaults, a "Run this chapter yourself" box after the title, a notice at each widget."""
    import nbformat
    from docutils.nodes import make_id

    nb = nbformat.read(run.path, as_version=4)
    for index, cell in enumerate(nb.cells):
        if "injected-parameters" in cell.get("metadata", {}).get("tags", []):
            stats = os.path.relpath(STATS_PAGE, os.path.dirname(run.notebook.rel))
            note = (
                f"```{{note}}\nThis page was built with the `{run.profile}` profile: the next"
                f" cell overrides the defaults above ([execution statistics]({stats})).\n```"
            )
            nb.cells.insert(index, nbformat.v4.new_markdown_cell(note))
            break
    add_widget_notices(nb, make_id(run_note_target(run.notebook.stem)))
    box = run_note(run.notebook.rel, wheel_name, run.notebook.stem)
    titled = bool(nb.cells) and nb.cells[0].cell_type == "markdown"
    nb.cells.insert(1 if titled else 0, nbformat.v4.new_markdown_cell(box))
    return nbformat.writes(nb).encode()


def fill_download_markers(stage: Path, wheel_name: str, first_stem: str) -> list[Path]:
    """Replace :data:`DOWNLOADS_MARKER` in the stage's markdown pages; return those changed."""
    changed = []
    for page in sorted((stage / "book").rglob("*.md")):
        text = page.read_text(encoding="utf-8")
        if DOWNLOADS_MARKER not in text:
            continue
        rel = page.relative_to(stage).as_posix()
        text = text.replace(DOWNLOADS_MARKER, intro_section(rel, wheel_name, first_stem))
        atomic_write(page, text.encode())
        changed.append(page)
    return changed


def staged_config(config: dict[str, Any]) -> dict[str, Any]:
    """``_config.yml`` for the stage: repository and launch buttons only with a real URL.

    ``repository.url`` is the one setting. Empty or absent: no repository button and no
    Binder, Colab or JupyterHub button (they would point nowhere). Set: it must be an
    ``https://`` URL, and the buttons configured in ``_config.yml`` appear.
    """
    out = copy.deepcopy(config)
    url = str((out.get("repository") or {}).get("url") or "").strip()
    if url:
        if not re.fullmatch(r"https://[^\s/]+/\S+", url):
            raise BookBuildError(
                f"_config.yml: repository.url must be an https:// URL of the book's repository "
                f"(or empty for no repository and launch buttons), got {url!r}"
            )
        return out
    out.pop("repository", None)
    out.setdefault("html", {})["use_repository_button"] = False
    for key in ("use_issues_button", "use_edit_page_button"):
        out["html"][key] = False
    launch = out.get("launch_buttons") or {}
    out["launch_buttons"] = {k: v for k, v in launch.items() if k not in LAUNCH_KEYS}
    return out


def without_notebooks(node: Any, dropped: set[str]) -> Any:
    """A parsed ``_toc.yml`` without the entries (and their sections) naming ``dropped``."""
    if isinstance(node, list):
        return [without_notebooks(item, dropped) for item in node
                if not (isinstance(item, dict) and item.get("file") in dropped)]  # fmt: skip
    if isinstance(node, dict):
        return {key: without_notebooks(value, dropped) for key, value in node.items()}
    return node


def stage_toc(runs: list[NotebookRun], root: Path, stage: Path) -> None:
    """Copy ``_toc.yml`` to the stage, without the book's notebooks that were not run."""
    ran = {run.notebook.stem for run in runs}
    left_out = [nb for nb in toc_notebooks(root) if nb.stem not in ran]
    if not left_out:
        shutil.copy2(root / TOC_FILE, stage / TOC_FILE)
        return
    toc = read_yaml(root / TOC_FILE)
    entries = {entry for nb in left_out for entry in (nb.rel, nb.rel.removesuffix(".ipynb"))}
    if notebook_rel(str(toc.get("root", ""))) in entries:
        raise BookBuildError(f"the book's root page {toc['root']} must be among the notebooks run")
    text = yaml.safe_dump(without_notebooks(toc, entries), sort_keys=False)
    atomic_write(stage / TOC_FILE, text.encode())


def stage_book(runs: list[NotebookRun], profile: str, root: Path) -> Path:
    """Assemble the book's sources with the executed notebooks in ``_build/stage/<profile>``."""
    vendor = root / VENDOR_STATIC
    if not (vendor / "vendor" / "plotly-cartesian.min.js").is_file():
        raise BookBuildError(f"vendored assets missing in {vendor}: run `make vendor`")
    stage = root / STAGE_DIR / profile
    shutil.rmtree(stage, ignore_errors=True)
    stage.mkdir(parents=True)
    config = staged_config(read_yaml(root / "_config.yml"))
    atomic_write(stage / "_config.yml", yaml.safe_dump(config, sort_keys=False).encode())
    stage_toc(runs, root, stage)
    folders = {"book"} | {str(Path(run.notebook.rel).parent) for run in runs}
    for folder in sorted(folders):
        if (root / folder).is_dir():
            shutil.copytree(root / folder, stage / folder, ignore=STAGE_IGNORE, dirs_exist_ok=True)
    notebooks = toc_notebooks(root)
    downloads = stage_downloads(root, stage, notebooks)
    for run in runs:
        atomic_write(stage / run.notebook.rel, staged_notebook(run, downloads.wheel.name))
    fill_download_markers(stage, downloads.wheel.name, notebooks[0].stem if notebooks else "")
    atomic_write(stage / STATS_PAGE, stats_markdown(runs, profile).encode())
    (stage / "_vendor").symlink_to(vendor.resolve(), target_is_directory=True)
    return stage


def jupyter_book_executable() -> str:
    """The ``jupyter-book`` executable of this environment."""
    beside = Path(sys.executable).with_name("jupyter-book")
    return str(beside) if beside.exists() else (shutil.which("jupyter-book") or "jupyter-book")


def run_sphinx(stage: Path, output: Path) -> Path:
    """Run ``jupyter-book build -W --keep-going --all`` on ``stage``; return the HTML folder."""
    cmd = [jupyter_book_executable(), "build", str(stage), "--path-output", str(output)]
    cmd += ["--all", "-W", "--keep-going"]
    print(f"[book] {' '.join(cmd)}", flush=True)
    env = {**os.environ, "NO_COLOR": "1"}
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    sys.stdout.write(proc.stdout)
    if proc.returncode != 0:
        text = ANSI_ESCAPE.sub("", proc.stdout)
        keep = [ln for ln in text.splitlines() if "WARNING" in ln or "ERROR" in ln]
        summary = "\n".join(keep) or text[-3000:]
        raise SphinxBuildError(f"jupyter-book build failed ({proc.returncode}):\n{summary}")
    return output / "_build" / "html"
