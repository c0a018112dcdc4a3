"""The values a notebook glued (myst-nb ``glue``), read back from its executed copy.

Every number the book's prose quotes is glued from the computation; reading them back is
how tests check a chapter's conclusions and how a sweep gathers results across runs.
"""

from __future__ import annotations

import ast
import json
import math
import re
from pathlib import Path
from typing import Any

#: The mime type under which ``glue(..., display=False)`` stores a value's text.
RECORD_PLAIN = "application/papermill.record/text/plain"
#: Prefix of every mime type a glue record stores (a figure adds ``text/html``...).
RECORD_PREFIX = "application/papermill.record/"
#: Texts of the floats that ``repr`` prints but ``ast.literal_eval`` does not read.
NON_FINITE = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}
#: A NumPy scalar as NumPy 2 prints it: ``np.float64(0.5)``, ``np.int64(3)``, ``np.True_``.
NUMPY_SCALAR = re.compile(r"^np\.(?:float|int|uint)\d*\((.*)\)$")
NUMPY_BOOL = {"np.True_": True, "np.False_": False}


def glued_values(notebook: Path) -> dict[str, Any]:
    """Name -> value of every scalar or string glued in the executed ``notebook``.

    Values come back as Python literals (``ast.literal_eval`` of their text, with ``nan``,
    ``inf`` and NumPy scalars such as ``np.float64(0.5)`` read as numbers); figures,
    markdown and other rich outputs (a record with more than its text) are left out. A
    name glued twice keeps its last value, as in the book.
    """
    path = Path(notebook)
    if not path.is_file():
        raise FileNotFoundError(f"notebook {path} does not exist (execute it first)")
    cells = json.loads(path.read_text(encoding="utf-8")).get("cells", [])
    values: dict[str, Any] = {}
    for cell in cells:
        for output in cell.get("outputs", []):
            record = output.get("metadata", {}).get("scrapbook")
            data = output.get("data", {})
            rich = [
                mime for mime in data if mime.startswith(RECORD_PREFIX) and mime != RECORD_PLAIN
            ]
            if record and RECORD_PLAIN in data and not rich:
                values[record["name"]] = _literal(data[RECORD_PLAIN])
    return values


def _literal(text: str | list[str]) -> Any:
    """A glued text as the literal it prints, else the text itself."""
    joined = "".join(text) if isinstance(text, list) else text
    literal = joined.strip()
    if literal in NUMPY_BOOL:
        return NUMPY_BOOL[literal]
    if match := NUMPY_SCALAR.match(literal):
        literal = match.group(1)
    if literal in NON_FINITE:
        return NON_FINITE[literal]
    try:
        return ast.literal_eval(literal)
    except (ValueError, SyntaxError):
        return joined
