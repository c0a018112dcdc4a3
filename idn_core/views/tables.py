"""Tables formatted for people: units in headers, percentages as percentages, no raw floats.

Notebooks end a table cell with :func:`readable_table`; :func:`readable_frame` is the pure
formatting step (a frame of strings), which the tests check cell by cell. The rules:

* a missing value (``None``, ``NaN``) prints as an empty-looking dash, never ``None``/``nan``;
* an infinite value prints as ``∞`` (or ``-∞``), never ``inf``;
* integers (and integral floats) print with thousands separators, never ``1e+06``;
* other floats print with a fixed number of decimals (``digits``, per column if wanted);
* ``percent`` columns hold fractions in [0, 1] and print as ``99.3 %``;
* a bare ``0..n-1`` index is hidden; headers get their unit from the column's suffix
  (``latency_ms`` -> ``latency (ms)``) unless ``headers`` names them.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from numbers import Integral, Real
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "ACCURACY_DECIMALS",
    "DASH",
    "glue_zoo_accuracy",
    "readable_frame",
    "readable_header",
    "readable_table",
    "readable_value",
    "zoo_accuracy_pct",
]

DASH = "–"
"""What a missing value prints as."""

_UNITS = {
    "_ms": "ms",
    "_s": "s",
    "_kb": "KiB",
    "_kib": "KiB",
    "_pp": "pp",
    "_pct": "%",
    "_mb": "MB",
}


_NAMES = {"val_acc": "validation accuracy", "test_acc": "test accuracy", "params": "parameters"}


def readable_header(name: Any, percent: bool = False) -> str:
    """``"latency_ms"`` -> ``"latency (ms)"``; a percent column gets ``(%)``."""
    text = _NAMES.get(str(name), str(name))
    unit = "%" if percent else None
    for suffix, u in _UNITS.items():
        for sep in ("_", " "):
            tail = sep + suffix[1:]
            if text.lower().endswith(tail) and len(text) > len(tail):
                text, unit = text[: -len(tail)], unit or u
                break
        else:
            continue
        break
    text = text.replace("_", " ")
    return f"{text} ({unit})" if unit else text


def readable_value(value: Any, digits: int = 2, percent: bool = False) -> str:
    """One cell as text, following the module's rules (``digits`` decimals for floats)."""
    if isinstance(digits, bool) or not isinstance(digits, int) or digits < 0:
        raise ValueError(f"digits must be a non-negative int, got {digits!r}")
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return DASH
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, Real) and not isinstance(value, Integral) and math.isinf(float(value)):
        return "∞" if float(value) > 0 else "-∞"
    if percent:
        if not isinstance(value, Real):
            raise TypeError(f"a percent column holds numbers, got {value!r}")
        return f"{100 * float(value):.{max(digits - 1, 1) if digits else 0}f} %"
    if isinstance(value, Integral):
        return f"{int(value):,}"
    if isinstance(value, Real):
        v = float(value)
        return f"{v:,.{digits}f}"
    if isinstance(value, (list, tuple)):
        return ", ".join(readable_value(v, digits) for v in value)
    return str(value)


def readable_frame(
    df: pd.DataFrame,
    *,
    percent: Iterable[str] = (),
    digits: int | Mapping[str, int] = 2,
    headers: Mapping[str, str] | None = None,
    index: bool | None = None,
) -> pd.DataFrame:
    """``df`` as a frame of strings with readable headers (see the module's rules).

    Parameters
    ----------
    df : pandas.DataFrame
        The table; columns may hold numbers, strings, lists or ``None``.
    percent : iterable of str
        Columns holding fractions in [0, 1], printed as percentages (one decimal fewer
        than ``digits``, at least one: ``digits=2`` prints ``99.3 %``).
    digits : int or mapping of column to int
        Decimals of non-integral floats (default 2), globally or per column.
    headers : mapping, optional
        Explicit headers for some columns (default: from the column name and its unit suffix).
    index : bool, optional
        Keep the index as a first column. Default: keep it unless it is a bare ``0..n-1``.
    """
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"df must be a pandas DataFrame, got {type(df).__name__}")
    pct = set(percent)
    unknown = pct - set(df.columns) | set(headers or {}) - set(df.columns)
    if unknown:
        raise ValueError(
            f"percent/headers name columns df does not have: {sorted(map(str, unknown))}"
        )
    keep = _keeps_index(df) if index is None else index
    data = df.reset_index() if keep else df
    if keep and df.index.nlevels == 1 and df.index.name is None:
        data = data.rename(columns={"index": ""})  # row labels need no header
    out = pd.DataFrame(index=range(len(data)))
    for col in data.columns:
        d = digits.get(col, 2) if isinstance(digits, Mapping) else digits
        if col not in pct and _integral_floats(data[col]):
            d = 0  # a column of whole numbers stored as floats: 548.0 -> 548
        head = (headers or {}).get(col) or (readable_header(col, col in pct) if col != "" else "")
        out[head] = [readable_value(v, d, col in pct) for v in data[col].tolist()]
    return out


def _integral_floats(column: pd.Series) -> bool:
    """Whether a float column holds only whole numbers (missing and infinite values aside)."""
    if not pd.api.types.is_float_dtype(column):
        return False
    finite = column[np.isfinite(column.to_numpy(dtype=float))]
    return len(finite) > 0 and bool((finite == finite.round()).all())


def _keeps_index(df: pd.DataFrame) -> bool:
    """An index carries information unless it is the default ``0..n-1``."""
    idx = df.index
    plain = isinstance(idx, pd.RangeIndex) and idx.start == 0 and idx.step == 1
    if plain:
        return False
    return any(n is not None for n in idx.names) or not pd.api.types.is_integer_dtype(idx)


def readable_table(df: pd.DataFrame, **kwargs: Any) -> Any:
    """:func:`readable_frame` as a pandas ``Styler`` without an index column, for display.

    Keyword arguments are those of :func:`readable_frame`.
    """
    return readable_frame(df, **kwargs).style.hide(axis="index")


ACCURACY_DECIMALS = 1
"""Decimals of every model accuracy quoted in the book's prose (percent of the test split)."""


def zoo_accuracy_pct(table: pd.DataFrame) -> dict[str, float]:
    """Test-split accuracy of each tier's zoo model in percent, rounded once for the book.

    ``table`` is :meth:`idn_core.learning.Zoo.table` (columns ``tier`` and ``test_acc``).
    Every chapter quotes a model's accuracy from here (glued by
    :func:`glue_zoo_accuracy`), so one model has one number throughout the book.
    """
    if not isinstance(table, pd.DataFrame) or not {"tier", "test_acc"} <= set(table.columns):
        raise ValueError("table must be a zoo table with 'tier' and 'test_acc' columns")
    acc = table.test_acc.astype(float)
    if acc.isna().any() or ((acc < 0) | (acc > 1)).any():
        raise ValueError("table.test_acc must hold accuracies in [0, 1]")
    if table.tier.duplicated().any():
        raise ValueError("table must have one model per tier")
    return {
        str(t): round(100 * float(a), ACCURACY_DECIMALS)
        for t, a in zip(table.tier, acc, strict=True)
    }


def glue_zoo_accuracy(table: pd.DataFrame) -> dict[str, float]:
    """Glue ``zoo_acc_<tier>`` (percent, see :func:`zoo_accuracy_pct`) and return them.

    Prose quotes them as ``{glue:text}`zoo_acc_cloud:.1f` %``, always "on the test split".
    """
    from myst_nb import glue

    pct = zoo_accuracy_pct(table)
    for tier, value in pct.items():
        glue(f"zoo_acc_{tier}", value, display=False)
    return pct
