"""Summary figure of a parameter sweep: each glued number against the swept parameters.

:func:`sweep_figure` takes the tidy table a sweep gathers (one row per run and glue
name: the swept parameters as columns, then ``name`` and ``value``) and draws one glued
number at a time (a dropdown picks it) against the first swept parameter, one line per
combination of the others (e.g. one line per seed across scenarios). Values are shown
as categories, in the order of the grid, so that names, numbers and lists all read.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd
import plotly.graph_objects as go

__all__ = ["sweep_figure"]


def _label(value: Any) -> str:
    """A parameter value as an axis or legend label (strings without quotes)."""
    return value if isinstance(value, str) else repr(value)


def _numbers_only(table: pd.DataFrame) -> pd.DataFrame:
    """The rows whose ``value`` is a number (bools and strings left out), as floats."""
    keep = table["value"].map(lambda v: isinstance(v, int | float) and not isinstance(v, bool))
    rows = table[keep].copy()
    rows["value"] = rows["value"].astype(float)
    return rows


def _group_traces(rows: pd.DataFrame, parameters: Sequence[str], name: str) -> list[go.Scatter]:
    """One line per combination of the parameters after the first, for glue ``name``."""
    x_name, others = parameters[0], list(parameters[1:])
    keys = [tuple(_label(v) for v in values) for values in rows[others].itertuples(index=False)]
    traces = []
    for key in dict.fromkeys(keys):
        group = rows[[k == key for k in keys]]
        legend = ", ".join(f"{p}={v}" for p, v in zip(others, key, strict=True)) or name
        traces.append(go.Scatter(
            x=[_label(v) for v in group[x_name]], y=group["value"].tolist(),
            mode="lines+markers", name=legend,
            hovertemplate=f"{x_name}=%{{x}}<br>{name}=%{{y}}<extra>{legend}</extra>",
        ))  # fmt: skip
    return traces


def sweep_figure(table: pd.DataFrame, parameters: Sequence[str]) -> go.Figure:
    """Each glued number of ``table`` against ``parameters[0]``, a dropdown over the names.

    Parameters
    ----------
    table : pandas.DataFrame
        Columns ``parameters``, ``name``, ``value`` (one row per run and glue name).
    parameters : sequence of str
        The swept parameters, first the one on the x axis.

    Raises ``ValueError`` when a column is missing or no glued value is a number.
    """
    if not isinstance(table, pd.DataFrame):
        raise TypeError(f"table must be a pandas DataFrame, got {type(table).__name__}")
    parameters = list(parameters)
    missing = [c for c in [*parameters, "name", "value"] if c not in table.columns]
    if not parameters or missing:
        raise ValueError(f"table lacks the columns {missing or ['(a swept parameter)']}")
    rows = _numbers_only(table)
    names = list(dict.fromkeys(rows["name"]))
    if not names:
        raise ValueError("no glued value of the table is a number: nothing to plot")
    fig = go.Figure()
    owners = []
    for name in names:
        for trace in _group_traces(rows[rows["name"] == name], parameters, name):
            trace.visible = name == names[0]
            fig.add_trace(trace)
            owners.append(name)
    buttons = [
        {"label": name, "method": "update",
         "args": [{"visible": [owner == name for owner in owners]}, {"yaxis.title.text": name}]}
        for name in names
    ]  # fmt: skip
    fig.update_layout(
        updatemenus=[{"buttons": buttons, "active": 0, "x": 0.0, "xanchor": "left", "y": 1.15,
                      "yanchor": "bottom"}],
        xaxis={"title": {"text": parameters[0]}, "type": "category"},
        yaxis={"title": {"text": names[0]}}, legend={"title": {"text": "runs"}},
        margin={"t": 90}, template="plotly_white",
    )  # fmt: skip
    return fig
