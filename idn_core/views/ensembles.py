"""Plotly figures of chapter 3: ensembles on chapter 2's trade-off plane, bagging, boosting.

Builders return figures and never display them. Static interactivity lives in the figure
(a latency-budget slider), so the rendered book stays explorable without a kernel.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from idn_core.ensembles.comparison import EnsembleComparison

#: Colour of each policy family, shared by every chapter-3 figure.
ENSEMBLE_COLORS = {
    "single model": "#666666",
    "cascade": "#1f77b4",
    "full ensemble": "#d62728",
    "ensemble cascade": "#d62728",
    "ensemble cascade (soft vote)": "#ff7f0e",
    "ensemble cascade (weighted log vote)": "#d62728",
    "ensemble cascade (stacking)": "#9467bd",
    "ensemble cascade (committee soft vote)": "#bcbd22",
    "query-on-doubt (combine)": "#2ca02c",
    "forward on doubt (replace)": "#8c564b",
    "boosting": "#e377c2",
    "boosting (confidence rule)": "#e377c2",
    "oracle": "#000000",
}
_SYMBOLS = {
    "single model": "square",
    "cascade": "circle",
    "full ensemble": "diamond",
    "ensemble cascade": "star",
    "boosting": "x",
}


def _curves(comp: EnsembleComparison) -> dict[str, pd.DataFrame]:
    curves = {"oracle": comp.oracle.assign(models_queried=np.nan)}
    curves.update(comp.fronts)
    return curves


def ensemble_tradeoff_figure(comp: EnsembleComparison, n_steps: int = 12) -> go.Figure:
    """Test accuracy against mean latency for every policy, with a latency-budget slider.

    Lines are validation-chosen fronts reported on test (the oracle dotted); markers are
    single points, one legend entry per family. The slider moves a latency budget (dashed
    line) and circles, per family, the most accurate test point within it; the title gives
    the oracle's accuracy at that budget. One panel and a legend without a scrollbar: the
    price in models queried is :func:`ensemble_load_figure`.
    """
    fig = _accuracy_plane(comp, _curves(comp), "latency_ms", "mean latency (ms)")
    _budget_slider(fig, comp, n_steps)
    fig.update_layout(height=560, margin={"t": 50, "b": 110, "l": 10, "r": 10})
    return fig


def ensemble_load_figure(comp: EnsembleComparison) -> go.Figure:
    """Test accuracy against the number of models queried per request (the nodes' load).

    The same fronts and points as :func:`ensemble_tradeoff_figure` (the oracle, which
    queries no model to decide, is left out), so the two figures read side by side.
    """
    fig = _accuracy_plane(comp, comp.fronts, "models_queried", "models queried per request")
    fig.update_layout(height=460, margin={"t": 20, "b": 10, "l": 10, "r": 10})
    return fig


def _accuracy_plane(
    comp: EnsembleComparison, curves: dict[str, pd.DataFrame], x: str, x_title: str
) -> go.Figure:
    """Test accuracy against column ``x``: the ``curves`` (fronts, maybe the oracle) as
    lines, then every family's single points; axes titled, compact legend."""
    fig = go.Figure()
    for name, df in curves.items():
        _add_curve(fig, name, df, x)
    for fam, df in comp.points.groupby("family", sort=False):
        _add_points(fig, str(fam), df, x)
    fig.update_yaxes(title_text="test accuracy", range=_accuracy_range(comp), tickformat=".1%")
    fig.update_xaxes(title_text=x_title)
    fig.update_layout(legend={"font": {"size": 11}, "tracegroupgap": 2})
    return fig


def _accuracy_range(comp: EnsembleComparison) -> list[float]:
    """Accuracy axis from just below the weakest point to just above the oracle."""
    lo = max(0.0, float(comp.points.accuracy.min()) - 0.02)
    return [lo, float(comp.oracle.accuracy.max()) + 0.01]


_UNITS = {"latency_ms": "%{x:.2f} ms", "models_queried": "%{x:.2f} models"}


def _add_curve(fig: go.Figure, name: str, df: pd.DataFrame, x: str) -> None:
    """One front (or the oracle, dotted) against column ``x`` of ``df``."""
    if x not in df:
        return
    color = ENSEMBLE_COLORS.get(name, "#17becf")
    oracle = name == "oracle"
    fig.add_trace(
        go.Scatter(
            x=df[x],
            y=df.accuracy,
            mode="lines" if oracle else "lines+markers",
            name=name,
            legendgroup=name,
            line={"color": color, "dash": "dot" if oracle else None},
            marker={"size": 4},
            hovertemplate=f"{name}<br>{_UNITS[x]}<br>accuracy %{{y:.2%}}<extra></extra>",
        )
    )


def _add_points(fig: go.Figure, fam: str, df: pd.DataFrame, x: str) -> None:
    """The single points of one family against column ``x`` (one legend entry)."""
    fig.add_trace(
        go.Scatter(
            x=df[x],
            y=df.accuracy,
            mode="markers",
            name=f"{fam} (points)",
            legendgroup=fam,
            text=[f"{fam}: {p}" for p in df.policy],
            marker={
                "size": 11,
                "symbol": _SYMBOLS.get(fam, "circle"),
                "color": ENSEMBLE_COLORS.get(fam, "#17becf"),
                "line": {"width": 1, "color": "white"},
            },
            hovertemplate=f"%{{text}}<br>{_UNITS[x]}<br>accuracy %{{y:.2%}}<extra></extra>",
        )
    )


def _budget_slider(fig: go.Figure, comp: EnsembleComparison, n_steps: int) -> None:
    """Slider over latency budgets: marks the best point per family within the budget."""
    table = pd.concat(
        [df.assign(family=name) for name, df in comp.fronts.items()] + [comp.points],
        ignore_index=True,
    )
    table = table[table.family != "single model"]
    lat = comp.oracle.latency_ms
    budgets = np.linspace(float(lat.min()) + 1.0, float(table.latency_ms.max()), n_steps)
    budgets = np.unique(np.r_[budgets, comp.budget_ms])
    fig.add_trace(
        go.Scatter(
            x=[],
            y=[],
            mode="markers",
            name="best within budget",
            marker={"size": 16, "symbol": "circle-open", "color": "black"},
            hovertemplate="%{text}<extra>best within budget</extra>",
        )
    )
    idx = len(fig.data) - 1
    steps = [_budget_step(table, comp.oracle, float(b), idx) for b in budgets]
    active = int(np.argmin(np.abs(budgets - comp.budget_ms)))
    fig.update_layout(
        sliders=[
            {
                "active": active,
                "steps": steps,
                "y": -0.1,
                "pad": {"t": 30},
                "currentvalue": {"prefix": "latency budget (ms): "},
            }
        ]
    )
    first = steps[active]["args"]
    fig.data[idx].update(x=first[0]["x"][0], y=first[0]["y"][0], text=first[0]["text"][0])
    fig.update_layout(shapes=first[1]["shapes"], title=first[1]["title"])


def _budget_step(table: pd.DataFrame, oracle: pd.DataFrame, budget: float, idx: int) -> dict:
    """Slider step at ``budget`` ms: the best point per family within it (trace ``idx``),
    a dashed line at the budget and the oracle's accuracy in the title."""
    ok = table[table.latency_ms <= budget + 1e-9]
    best = ok.loc[ok.groupby("family").accuracy.idxmax()] if len(ok) else ok
    orc = float(np.interp(budget, oracle.latency_ms, oracle.accuracy))
    text = [f"{f}: {a:.2%}" for f, a in zip(best.family, best.accuracy, strict=True)]
    data = {"x": [best.latency_ms.tolist()], "y": [best.accuracy.tolist()], "text": [text]}
    line = {
        "type": "line",
        "x0": budget,
        "x1": budget,
        "xref": "x",
        "yref": "paper",
        "y0": 0,
        "y1": 1,
        "line": {"dash": "dash", "color": "#999"},
    }
    layout = {
        "shapes": [line],
        "title": {"text": f"budget {budget:.1f} ms: the oracle reaches {orc:.2%}", "x": 0.5},
    }
    return {"method": "update", "label": f"{budget:.1f}", "args": [data, layout, [idx]]}


def bagging_figure(curves: dict[str, pd.DataFrame], skew: pd.DataFrame) -> go.Figure:
    """Left: accuracy vs number of members per committee; right: accuracy vs Dirichlet beta.

    ``curves`` maps a committee to its ``k, mean, min, max`` accuracies (drawn as a line in
    a min-max band); ``skew`` has one row per Dirichlet concentration beta (its column
    keeps the library's name ``alpha``) with the member and ensemble accuracies.
    """
    fig = make_subplots(
        rows=1,
        cols=2,
        subplot_titles=("accuracy vs members (soft vote)", "accuracy vs label skew of node data"),
    )
    palette = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728"]
    for (name, df), color in zip(curves.items(), palette, strict=False):
        _add_band(fig, name, df, color)
    for col, name, dash in (
        ("member_mean", "mean member", "dot"),
        ("member_best", "best member", "dash"),
        ("ensemble_soft", "soft vote", None),
        ("ensemble_log", "log vote", None),
        ("ensemble_hard", "hard vote", None),
    ):
        fig.add_trace(
            go.Scatter(
                x=skew.alpha, y=skew[col], mode="lines+markers", name=name, line={"dash": dash}
            ),
            row=1,
            col=2,
        )
    fig.update_xaxes(title_text="members combined", dtick=1, row=1, col=1)
    fig.update_xaxes(
        title_text="Dirichlet concentration β (small = skewed)", type="log", row=1, col=2
    )
    fig.update_yaxes(title_text="test accuracy", row=1, col=1)
    fig.update_layout(height=420, margin={"t": 40, "b": 10, "l": 10, "r": 10})
    return fig


def _add_band(fig: go.Figure, name: str, df: pd.DataFrame, color: str) -> None:
    """Mean accuracy against members combined, in a grey min-max band (left panel)."""
    band = {"x": df.k, "mode": "lines", "line": {"width": 0}, "showlegend": False}
    fig.add_trace(go.Scatter(y=df["max"], hoverinfo="skip", **band), row=1, col=1)
    fig.add_trace(
        go.Scatter(
            y=df["min"],
            fill="tonexty",
            fillcolor="rgba(120,120,120,0.15)",
            hoverinfo="skip",
            **band,
        ),
        row=1,
        col=1,
    )
    fig.add_trace(
        go.Scatter(x=df.k, y=df["mean"], mode="lines+markers", name=name, line={"color": color}),
        row=1,
        col=1,
    )


def boosting_figure(
    alphas: np.ndarray, reach: np.ndarray, member_acc: np.ndarray, names: tuple[str, ...]
) -> go.Figure:
    """SAMME member weight w_k, share of requests reaching each member (exact stop), accuracy.

    ``alphas`` are the members' SAMME weights (the library's name, the book's w_k).
    """
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    fig.add_trace(
        go.Bar(x=list(names), y=alphas, name="SAMME member weight w_k", marker_color="#e377c2")
    )
    fig.add_trace(
        go.Scatter(
            x=list(names), y=reach, name="share of requests querying it", mode="lines+markers"
        ),
        secondary_y=True,
    )
    fig.add_trace(
        go.Scatter(
            x=list(names),
            y=member_acc,
            name="member test accuracy",
            mode="lines+markers",
            line={"dash": "dot"},
        ),
        secondary_y=True,
    )
    fig.update_yaxes(title_text="member weight w_k", secondary_y=False)
    fig.update_yaxes(title_text="share", range=[0, 1.05], secondary_y=True)
    fig.update_layout(
        height=380, margin={"t": 20, "b": 10, "l": 10, "r": 10}, xaxis_title="member, in path order"
    )
    return fig
