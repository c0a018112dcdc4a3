"""A tiny purpose-built notebook for the sweep tests: a ``parameters`` cell and a few glues.

It trains nothing, so one run is a kernel start and a few lines. Its glued values have a
closed form in the parameters (:func:`expected_glue`), which the table is checked against.
"""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import pytest
from conftest import write_notebook

TINY_PARAMETERS = (
    "a: int = 1\nlabel: str = 'x'\nscale: float = 1.0\nfail: bool = False\nitems: list = [1, 2]"
)
TINY_BODY = """\
from IPython.display import HTML
from myst_nb import glue

if fail and a == 2:
    raise ValueError(f"boom at a={a}")
glue("double", a * 2, display=False)
glue("scaled", a * scale, display=False)
glue("word", label * a, display=False)
glue("n_items", len(items), display=False)
glue("big", a > 1, display=False)
glue("fig-html", HTML("<b>not a scalar</b>"), display=False)
"""


def expected_glue(point: dict[str, Any]) -> dict[str, Any]:
    """The scalars the tiny notebook glues for ``point`` (defaults for what it leaves out)."""
    p = {"a": 1, "label": "x", "scale": 1.0, "fail": False, "items": [1, 2], **point}
    return {
        "double": p["a"] * 2,
        "scaled": p["a"] * p["scale"],
        "word": p["label"] * p["a"],
        "n_items": len(p["items"]),
        "big": p["a"] > 1,
    }


@pytest.fixture
def tiny(tmp_path: Path) -> Path:
    """The tiny notebook, written to ``tmp_path/tiny.ipynb``."""
    return write_notebook(tmp_path / "tiny.ipynb", TINY_PARAMETERS, TINY_BODY)


def closed_port() -> int:
    """A local TCP port on which nothing listens (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
