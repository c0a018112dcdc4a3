"""The tidy table of a sweep: every glued scalar of every run, one row per run and name.

Columns: the swept parameters (one column each, in grid order), ``name`` (the glue
name) and ``value``. A scalar is a number, a bool or a string (figures and markdown are
not; :func:`idn_core.book.glued_values` leaves them out), so ``value`` holds mixed types;
read the numbers with ``pd.to_numeric(table.value, errors="coerce")``. The table is
written as CSV only: Parquet would need ``pyarrow``, which the book's environment does
not install (a ~40 MB dependency for one file format).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from idn_core._util.atomic import atomic_write_with
from idn_core.book import glued_values

VALUE_COLUMNS = ("name", "value")


def is_scalar(value: Any) -> bool:
    """True for the glued values the table keeps: numbers, bools and strings."""
    return isinstance(value, int | float | str)


def glued_table(
    points: Sequence[dict[str, Any]], notebooks: Sequence[Path | None], parameters: Sequence[str]
) -> pd.DataFrame:
    """Gather the glued scalars of each executed notebook (None: a failed run, no rows).

    ``points[i]`` holds the swept ``parameters`` of ``notebooks[i]``.
    """
    if len(points) != len(notebooks):
        raise ValueError(
            f"points ({len(points)}) and notebooks ({len(notebooks)}) differ in length"
        )
    rows = [
        {**{p: point[p] for p in parameters}, "name": name, "value": value}
        for point, path in zip(points, notebooks, strict=True)
        if path is not None
        for name, value in glued_values(path).items()
        if is_scalar(value)
    ]
    return pd.DataFrame(rows, columns=[*parameters, *VALUE_COLUMNS])


def write_csv(table: pd.DataFrame, path: Path) -> Path:
    """Write ``table`` to ``path`` as CSV (atomically: a reader never sees half a file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    text = table.to_csv(index=False)
    atomic_write_with(path, lambda handle: handle.write(text.encode("utf-8")))
    return path
