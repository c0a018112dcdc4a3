"""Shared fixtures: a tiny throw-away book repository for the build tests."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import nbformat
import pytest


def write_notebook(path: Path, parameters: str, body: str) -> Path:
    """Write a notebook with a ``parameters`` cell and one code cell."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    params = nbformat.v4.new_code_cell(parameters)
    params.metadata["tags"] = ["parameters"]
    nb.cells = [nbformat.v4.new_markdown_cell("# Title"), params, nbformat.v4.new_code_cell(body)]
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return path


TINY_PYPROJECT = """[build-system]
requires = ["setuptools>=68"]
build-backend = "setuptools.build_meta"

[project]
name = "idn_core"
version = "0.0.1"
readme = "README.md"

[tool.setuptools.packages.find]
include = ["idn_core*"]
"""


@pytest.fixture
def fake_book(tmp_path: Path) -> Callable[..., Path]:
    """Return a factory of minimal book repositories (toc, notebooks, profiles, library)."""

    def make(profiles: str = "quick:\n  a: {n: 2}\n", body: str = "print(n * scale)") -> Path:
        root = tmp_path / "repo"
        (root / "idn_core").mkdir(parents=True)
        (root / "idn_core" / "lib.py").write_text("X = 1\n")
        (root / "requirements.txt").write_text("numpy==2.0\n")
        (root / "README.md").write_text("# A tiny book\n")
        (root / "pyproject.toml").write_text(TINY_PYPROJECT)
        (root / "_toc.yml").write_text(
            "format: jb-book\nroot: book/intro\nchapters:\n"
            "  - file: notebooks/a\n  - file: book/page\n  - file: notebooks/b.ipynb\n"
        )
        write_notebook(
            root / "notebooks" / "a.ipynb", "n = 10\nscale: float = 1.5\nname = None", body
        )
        write_notebook(root / "notebooks" / "b.ipynb", "flag = True\nitems = [1, 2]", "print(flag)")
        (root / "notebooks" / "profiles.yaml").write_text(profiles)
        return root

    return make


@pytest.fixture(scope="session")
def quick_book() -> Path:
    """The repository's book built once per session with the quick profile: ``_build/html``.

    The notebooks' executed copies (``_build/executed/quick``, made by test_notebooks.py)
    are reused; the build fails on any Sphinx warning.
    """
    from idn_core import book

    return book.build_book("quick")


#: The modules that execute the chapters and build and browse the book, in their order: the
#: book build reuses the executed chapters, so a failing chapter is named by its own test.
#: ``make test`` runs them in a pytest process of their own, beside the rest of the suite.
BOOK_TESTS = ("test_notebooks.py", "test_book.py", "test_browser.py")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Run the book's tests after the others, in :data:`BOOK_TESTS` order."""
    rank = {name: i for i, name in enumerate(BOOK_TESTS)}
    items.sort(key=lambda item: rank.get(item.path.name, -1))
