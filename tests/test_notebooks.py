"""Every notebook of _toc.yml runs without error under the quick profile.

The notebooks run through the book's own runner (idn_core.book), so the executed
copies are cached and reused by test_book.py and `make book PROFILE=quick`.
"""

from __future__ import annotations

import json

import pytest

from idn_core import book

PROFILE = "quick"
NOTEBOOKS = [nb.stem for nb in book.toc_notebooks()]


@pytest.mark.slow
@pytest.mark.parametrize("stem", NOTEBOOKS)
def test_notebook_runs(stem: str) -> None:
    path = book.execute_notebook(stem, PROFILE)
    nb = json.loads(path.read_text(encoding="utf-8"))
    outputs = [out for cell in nb["cells"] for out in cell.get("outputs", [])]
    assert not [out for out in outputs if out.get("output_type") == "error"]
    bare = [out for out in outputs if "application/vnd.plotly.v1+json" in out.get("data", {})]
    assert not bare, (
        f"{stem}: show plotly figures with idn_core.views.display.show(fig), not bare `fig`"
    )
