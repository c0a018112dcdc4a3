"""What a reader downloads from the book to run it: a wheel of ``idn_core`` and the notebooks.

The build puts both files into the HTML output's ``downloads/`` folder (through Sphinx's
``html_extra_path``, see :func:`idn_core.book.stage.stage_book`):

- ``idn_core-<version>-py3-none-any.whl``, built with ``pip wheel --no-deps
  --no-build-isolation --no-index`` from a copy of the sources (offline; the repository is
  left untouched) and cached in ``_build/downloads/<digest>/`` until a source changes;
- ``idn-book-notebooks.zip``: ``idn-book/notebooks/*.ipynb`` (the chapters as stored,
  without outputs), ``idn-book/notebooks/profiles.yaml`` (the small ``quick`` parameters),
  ``idn-book/requirements.txt`` (the exact versions the book was built with) and
  ``idn-book/README.md`` (how to run a chapter). Its bytes depend on its contents only.

Every chapter and the introduction show the three commands of :func:`run_commands`.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from idn_core.book.cache import atomic_write
from idn_core.book.records import BookBuildError, Notebook

DOWNLOADS_DIR = "downloads"
"""Folder of the HTML output (and of the stage's ``_extra/``) holding the two files."""
EXTRA_DIR = "_extra"
"""The stage's ``html_extra_path`` folder: copied as is to the root of the HTML output."""
ARCHIVE_NAME = "idn-book-notebooks.zip"
ARCHIVE_TOP = "idn-book"
WHEEL_CACHE = "_build/downloads"
WHEEL_SOURCES = ("pyproject.toml", "README.md")
PACKAGE = "idn_core"
ZIP_DATE = (2026, 1, 1, 0, 0, 0)


@dataclass(frozen=True)
class Downloads:
    """The files a reader downloads, as written into the stage (``_extra/downloads/``)."""

    wheel: Path
    archive: Path


def source_files(root: Path) -> list[Path]:
    """The files the wheel is built from: ``idn_core/**`` (no caches) and the project files."""
    package = [
        p
        for p in sorted((root / PACKAGE).rglob("*"))
        if p.is_file() and "__pycache__" not in p.parts and p.suffix not in (".pyc", ".pyo")
    ]
    missing = [name for name in WHEEL_SOURCES if not (root / name).is_file()]
    if missing or not package:
        absent = missing + ([] if package else [f"{PACKAGE}/"])
        raise BookBuildError(
            f"cannot build the {PACKAGE} wheel: {', '.join(absent)} missing in {root}"
        )
    return package + [root / name for name in WHEEL_SOURCES]


def sources_digest(root: Path) -> str:
    """SHA-256 over the relative paths and bytes of :func:`source_files`."""
    digest = hashlib.sha256()
    for path in source_files(root):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def build_wheel(root: Path) -> Path:
    """Return the ``idn_core`` wheel of ``root``'s sources, built (offline) unless cached."""
    cache = root / WHEEL_CACHE / sources_digest(root)[:16]
    wheels = sorted(cache.glob(f"{PACKAGE}-*.whl"))
    if len(wheels) == 1:
        return wheels[0]
    shutil.rmtree(cache, ignore_errors=True)
    with tempfile.TemporaryDirectory(prefix="idn-wheel-") as tmp:
        src = Path(tmp) / "src"
        for path in source_files(root):
            target = src / path.relative_to(root)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, target)
        out = Path(tmp) / "out"
        cmd = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
               "--no-index", "--quiet", "--wheel-dir", str(out), str(src)]  # fmt: skip
        proc = subprocess.run(cmd, capture_output=True, text=True, cwd=tmp)
        built = sorted(out.glob(f"{PACKAGE}-*.whl"))
        if proc.returncode != 0 or len(built) != 1:
            raise BookBuildError(
                f"building the {PACKAGE} wheel failed ({' '.join(cmd)}):\n"
                f"{(proc.stdout + proc.stderr)[-3000:]}"
            )
        cache.mkdir(parents=True)
        shutil.copy2(built[0], cache / built[0].name)
    return cache / built[0].name


def run_commands(wheel_name: str, notebook_stem: str) -> list[str]:
    """The three shell commands that run chapter ``notebook_stem`` from the two downloads.

    Run in the folder holding the downloads, in a fresh virtual environment of Python 3.11+.
    """
    if not wheel_name.endswith(".whl") or "/" in wheel_name:
        raise ValueError(f"wheel_name must be a wheel's file name, got {wheel_name!r}")
    if not notebook_stem or "/" in notebook_stem:
        raise ValueError(f"notebook_stem must be a notebook's stem, got {notebook_stem!r}")
    return [
        f"python -m pip install {wheel_name} myst-nb jupyterlab",
        f"python -m zipfile -e {ARCHIVE_NAME} .",
        f"jupyter lab {ARCHIVE_TOP}/notebooks/{notebook_stem}.ipynb",
    ]


def archive_readme(wheel_name: str, notebooks: list[Notebook]) -> str:
    """The archive's README: what is inside and how to run a chapter."""
    first = notebooks[0].stem if notebooks else "01_anatomy"
    commands = "\n".join(run_commands(wheel_name, first))
    chapters = "\n".join(f"- `notebooks/{nb.stem}.ipynb`" for nb in notebooks)
    return f"""# The IDN Book's notebooks

The chapters of the IDN Book as notebooks without outputs, with the library they import,
`idn_core`, as a wheel downloaded beside this archive ({wheel_name}).

In a fresh virtual environment of Python 3.11 or later, in the folder holding both
downloads (replace the chapter as you like):

```bash
{commands}
```

`myst-nb` provides the `glue` function the chapters use to show their numbers; the exact
versions the book was built with are in `requirements.txt`
(`python -m pip install -r idn-book/requirements.txt {wheel_name}` reproduces them).
Each chapter's first code cell holds its parameters with full-quality defaults; the small
values of `notebooks/profiles.yaml` (profile `quick`) run a chapter in about a minute.
Trained models are cached in `~/.cache/idn_core` (`IDN_CACHE_DIR` moves it).

{chapters}
"""


def zip_entry(name: str) -> zipfile.ZipInfo:
    """A zip member with a fixed date and ordinary permissions (reproducible archives)."""
    info = zipfile.ZipInfo(f"{ARCHIVE_TOP}/{name}", date_time=ZIP_DATE)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16
    return info


def notebook_archive(root: Path, notebooks: list[Notebook], wheel_name: str) -> bytes:
    """The bytes of :data:`ARCHIVE_NAME` for ``notebooks`` (paths relative to ``root``)."""
    if not notebooks:
        raise BookBuildError("no notebook to put into the notebook archive")
    members: list[tuple[str, bytes]] = [
        ("README.md", archive_readme(wheel_name, notebooks).encode()),
        ("requirements.txt", (root / "requirements.txt").read_bytes()),
    ]
    for nb in notebooks:
        members.append((f"notebooks/{Path(nb.rel).name}", (root / nb.rel).read_bytes()))
    profiles = root / "notebooks" / "profiles.yaml"
    if profiles.is_file():
        members.append(("notebooks/profiles.yaml", profiles.read_bytes()))
    with tempfile.SpooledTemporaryFile() as buffer:
        with zipfile.ZipFile(buffer, "w") as archive:
            for name, data in members:
                archive.writestr(zip_entry(name), data)
        buffer.seek(0)
        return buffer.read()


def stage_downloads(root: Path, stage: Path, notebooks: list[Notebook]) -> Downloads:
    """Write the wheel and the notebook archive into ``stage/_extra/downloads/``."""
    folder = stage / EXTRA_DIR / DOWNLOADS_DIR
    folder.mkdir(parents=True, exist_ok=True)
    wheel = build_wheel(root)
    staged_wheel = folder / wheel.name
    shutil.copy2(wheel, staged_wheel)
    archive = folder / ARCHIVE_NAME
    atomic_write(archive, notebook_archive(root, notebooks, wheel.name))
    return Downloads(wheel=staged_wheel, archive=archive)


def download_link(page_rel: str, name: str) -> str:
    """Relative URL from the page of source ``page_rel`` to the download ``name``."""
    return os.path.relpath(f"{DOWNLOADS_DIR}/{name}", os.path.dirname(page_rel) or ".")


def run_note(page_rel: str, wheel_name: str, stem: str) -> str:
    """MyST of a chapter's "Run this chapter yourself" box (collapsed; ``page_rel``: its source).

    Its target name, ``run-this-chapter-<stem>``, lets notes elsewhere on the page link to it.
    """
    commands = "\n".join(run_commands(wheel_name, stem))
    return f"""````{{admonition}} Run this chapter yourself
:class: tip dropdown
:name: {run_note_target(stem)}

{download_sentence(page_rel, wheel_name)} Then, in a fresh virtual environment of Python
3.11 or later, in the folder holding both files:

```bash
{commands}
```

The chapter's parameters are in its first code cell: its defaults are the full-quality
values; the small values this page was built with are in `notebooks/profiles.yaml`.
````"""


def run_note_target(stem: str) -> str:
    """The MyST target name of chapter ``stem``'s run note (HTML id: its docutils id)."""
    return f"run-this-chapter-{stem}"


def download_sentence(page_rel: str, wheel_name: str) -> str:
    """Markdown sentence linking both downloads from the page of source ``page_rel``.

    Raw HTML links: the files are not Sphinx documents but ``html_extra_path`` files.
    """
    wheel = download_link(page_rel, wheel_name)
    archive = download_link(page_rel, ARCHIVE_NAME)
    return (
        f'Download <a class="idn-download" href="{wheel}" download>the <code>idn_core</code>'
        f' library ({wheel_name})</a> and <a class="idn-download" href="{archive}" download>'
        f"the notebooks ({ARCHIVE_NAME})</a>, which holds every chapter without outputs and"
        " `profiles.yaml`."
    )


def intro_section(page_rel: str, wheel_name: str, first_stem: str) -> str:
    """MyST for a markdown page (the introduction): the downloads and the three commands."""
    commands = "\n".join(run_commands(wheel_name, first_stem))
    return f"""{download_sentence(page_rel, wheel_name)} In a fresh virtual environment of
Python 3.11 or later, in the folder holding both files, these three commands install the
library, unpack the notebooks and open the first chapter (any other works the same way):

```bash
{commands}
```"""
