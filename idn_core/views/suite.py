"""Figures of the scenario suite: each chapter's headline side by side on every scenario."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from idn_core.views.scenario import TIER_COLORS


def suite_headlines_figure(
    table: pd.DataFrame, panels: dict[str, str], sd: dict[str, str] | None = None
) -> go.Figure:
    """One bar panel per headline, one bar per scenario (``table``'s index).

    ``panels`` maps a column of ``table`` to its panel title; ``sd`` maps a column to the
    column holding its standard deviation (drawn as an error bar). A missing column or an
    empty table raises ``ValueError`` naming it.
    """
    if not isinstance(table, pd.DataFrame):
        raise TypeError(f"table must be a DataFrame, got {type(table).__name__}")
    if table.empty or not panels:
        raise ValueError("table and panels must be non-empty")
    sd = sd or {}
    for col in [*panels, *sd.values()]:
        if col not in table.columns:
            raise ValueError(f"table has no column {col!r}; columns are {list(table.columns)}")
    fig = make_subplots(rows=1, cols=len(panels), subplot_titles=list(panels.values()))
    colors = list(TIER_COLORS.values())
    names = [str(n) for n in table.index]
    for k, col in enumerate(panels):
        err = table[sd[col]].to_numpy(float) if col in sd else None
        fig.add_trace(
            go.Bar(
                x=names,
                y=table[col].to_numpy(float),
                error_y=None if err is None else {"type": "data", "array": np.nan_to_num(err)},
                marker_color=[colors[i % len(colors)] for i in range(len(names))],
                showlegend=False,
                hovertemplate="%{x}: %{y:.3f}<extra></extra>",
            ),
            row=1,
            col=k + 1,
        )
    fig.update_layout(height=360, margin={"t": 50, "b": 10, "l": 10, "r": 10})
    fig.update_xaxes(tickangle=-30)
    return fig
