"""The values a notebook glued (myst-nb ``glue``), read back from its executed copy.

Every number the book's prose quotes is glued from the computation; reading them back is
how tests check a chapter's conclusions and how a sweep gathers results across runs.
"""

from __future__ import annotations

import ast
import json
from pathlib import Path
from typing import Any

#: The mime type under which ``glue(..., display=False)`` stores a value's text.
RECORD_PLAIN = "application/papermill.record/text/plain"


def glued_values(notebook: Path) -> dict[str, Any]:
    """Name -> value of every scalar or string glued in the executed ``notebook``.

    Values come back as Python literals (``ast.literal_eval`` of their text); figures and
    other rich outputs are left out. A name glued twice keeps its last value, as in the book.
    """
    path = Path(notebook)
    if not path.is_file():
        raise FileNotFoundError(f"notebook {path} does not exist (execute it first)")
    cells = json.loads(path.read_text(encoding="utf-8")).get("cells", [])
    values: dict[str, Any] = {}
    for cell in cells:
        for output in cell.get("outputs", []):
            record = output.get("metadata", {}).get("scrapbook")
            text = output.get("data", {}).get(RECORD_PLAIN)
            if record and text is not None:
                values[record["name"]] = _literal(text)
    return values


def _literal(text: str | list[str]) -> Any:
    """A glued text as the literal it prints, else the text itself."""
    joined = "".join(text) if isinstance(text, list) else text
    try:
        return ast.literal_eval(joined)
    except (ValueError, SyntaxError):
        return joined
