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
    """Accuracy against mean latency (left) and models queried (right) for every policy.

    Lines are validation-chosen fronts reported on test; markers are single points. A
    slider moves a latency budget and marks, per family, the most accurate test point
    within it.
    """
    fig = make_subplots(
        rows=1,
        cols=2,
        shared_yaxes=True,
        horizontal_spacing=0.06,
        subplot_titles=("accuracy vs mean latency", "accuracy vs models queried per request"),
    )
    for name, df in _curves(comp).items():
        _add_curve(fig, name, df)
    for fam, df in comp.points.groupby("family", sort=False):
        _add_points(fig, str(fam), df)
    _budget_slider(fig, comp, n_steps)
    lo = max(0.0, float(comp.points.accuracy.min()) - 0.02)
    fig.update_yaxes(
        title_text="test accuracy",
        range=[lo, float(comp.oracle.accuracy.max()) + 0.01],
        row=1,
        col=1,
    )
    fig.update_xaxes(title_text="mean latency (ms)", row=1, col=1)
    fig.update_xaxes(title_text="models queried per request", row=1, col=2)
    fig.update_layout(
        height=560, margin={"t": 40, "b": 120, "l": 10, "r": 10}, legend={"font": {"size": 10}}
    )
    return fig


def _add_curve(fig: go.Figure, name: str, df: pd.DataFrame) -> None:
    """One front (or the oracle, dotted): against latency, and against models queried."""
    color = ENSEMBLE_COLORS.get(name, "#17becf")
    dash = "dot" if name == "oracle" else None
    fig.add_trace(
        go.Scatter(
            x=df.latency_ms,
            y=df.accuracy,
            mode="lines" if name == "oracle" else "lines+markers",
            name=name,
            legendgroup=name,
            line={"color": color, "dash": dash},
            marker={"size": 4},
            hovertemplate=f"{name}<br>%{{x:.2f}} ms<br>acc %{{y:.4f}}<extra></extra>",
        ),
        row=1,
        col=1,
    )
    if name != "oracle" and "models_queried" in df:
        fig.add_trace(
            go.Scatter(
                x=df.models_queried,
                y=df.accuracy,
                mode="lines+markers",
                name=name,
                legendgroup=name,
                showlegend=False,
                line={"color": color},
                marker={"size": 4},
                hovertemplate=f"{name}<br>%{{x:.2f}} models<br>acc %{{y:.4f}}<extra></extra>",
            ),
            row=1,
            col=2,
        )


def _add_points(fig: go.Figure, fam: str, df: pd.DataFrame) -> None:
    """The single points of one family, in both panels (one legend entry)."""
    label = [f"{fam}: {p}" for p in df.policy]
    for col, x in ((1, df.latency_ms), (2, df.models_queried)):
        fig.add_trace(
            go.Scatter(
                x=x,
                y=df.accuracy,
                mode="markers",
                name=f"{fam} (points)",
                legendgroup=fam,
                showlegend=col == 1,
                text=label,
                marker={
                    "size": 11,
                    "symbol": _SYMBOLS.get(fam, "circle"),
                    "color": ENSEMBLE_COLORS.get(fam, "#17becf"),
                    "line": {"width": 1, "color": "white"},
                },
                hovertemplate="%{text}<br>%{x:.2f}<br>acc %{y:.4f}<extra></extra>",
            ),
            row=1,
            col=col,
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
            mode="markers+text",
            name="best within budget",
            marker={"size": 16, "symbol": "circle-open", "color": "black"},
            textposition="middle right",
            textfont={"size": 9},
        ),
        row=1,
        col=1,
    )
    idx = len(fig.data) - 1
    steps = [_budget_step(table, comp.oracle, float(b), idx) for b in budgets]
    active = int(np.argmin(np.abs(budgets - comp.budget_ms)))
    fig.update_layout(
        sliders=[
            {
                "active": active,
                "steps": steps,
                "y": -0.12,
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
    text = [f"{f} {a:.3f}" for f, a in zip(best.family, best.accuracy, strict=True)]
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
        "title": {"text": f"budget {budget:.1f} ms: oracle {orc:.3f}", "x": 0.5},
    }
    return {"method": "update", "label": f"{budget:.1f}", "args": [data, layout, [idx]]}


def bagging_figure(curves: dict[str, pd.DataFrame], skew: pd.DataFrame) -> go.Figure:
    """Left: accuracy vs number of members per committee; right: accuracy vs Dirichlet alpha.

    ``curves`` maps a committee to its ``k, mean, min, max`` accuracies (drawn as a line in
    a min-max band); ``skew`` has one row per Dirichlet ``alpha`` with the member and
    ensemble accuracies.
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
    fig.update_xaxes(title_text="Dirichlet alpha (small = skewed)", type="log", row=1, col=2)
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
    """SAMME weight, share of requests reaching each member (exact stop) and member accuracy."""
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    fig.add_trace(
        go.Bar(x=list(names), y=alphas, name="SAMME weight alpha", marker_color="#e377c2")
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
    fig.update_yaxes(title_text="alpha", secondary_y=False)
    fig.update_yaxes(title_text="share", range=[0, 1.05], secondary_y=True)
    fig.update_layout(
        height=380, margin={"t": 20, "b": 10, "l": 10, "r": 10}, xaxis_title="member, in path order"
    )
    return fig
