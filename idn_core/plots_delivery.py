"""Plotly figures of chapter 2: confidences, calibration, trade-offs, threshold grids, sliders.

Builders return figures and never display them. Figures with sliders carry every state
in the figure itself (``layout.sliders`` steps using ``update``), so the static book
stays explorable without a kernel.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from idn_core.plots import TIER_COLORS
from idn_core.policy_search import CascadeGrid

ORACLE_STYLE = {"color": "black", "dash": "dash", "width": 2}
FAMILY_COLORS = [
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#9467bd",
    "#8c564b",
    "#17becf",
    "#bcbd22",
    "#e377c2",
]


def confidence_histograms(
    conf: np.ndarray, correct: np.ndarray, tiers: tuple[str, ...], score: str
) -> go.Figure:
    """Histograms of each tier's confidence, right answers against wrong ones (``conf``, ``correct``: ``(K, N)``)."""
    fig = make_subplots(
        rows=1, cols=len(tiers), subplot_titles=[f"{t} model" for t in tiers], shared_yaxes=True
    )
    for k in range(len(tiers)):
        for right, name, color in ((True, "right", "#2ca02c"), (False, "wrong", "#d62728")):
            fig.add_trace(
                go.Histogram(
                    x=conf[k][correct[k] == right],
                    xbins={"start": 0, "end": 1.0001, "size": 0.04},
                    histnorm="probability",
                    name=name,
                    legendgroup=name,
                    showlegend=k == 0,
                    marker_color=color,
                    opacity=0.6,
                ),
                row=1,
                col=k + 1,
            )
        fig.update_xaxes(title_text=f"confidence ({score})", range=[0, 1], row=1, col=k + 1)
    fig.update_yaxes(title_text="share of answers", row=1, col=1)
    fig.update_layout(barmode="overlay", height=330, margin={"t": 40, "b": 40, "l": 50, "r": 10})
    return fig


def reliability_figure(
    before: dict[str, pd.DataFrame], after: dict[str, pd.DataFrame], ece: pd.DataFrame
) -> go.Figure:
    """Reliability diagrams per tier before and after temperature scaling, with the diagonal.

    ``before``/``after`` map a tier to :func:`~idn_core.confidence.reliability_curve`;
    ``ece`` has columns ``tier``, ``before``, ``after`` for the subplot titles.
    """
    tiers = list(before)
    titles = [
        f"{t}: ECE {100 * ece.set_index('tier').loc[t, 'before']:.1f}% → {100 * ece.set_index('tier').loc[t, 'after']:.1f}%"
        for t in tiers
    ]
    fig = make_subplots(rows=1, cols=len(tiers), subplot_titles=titles, shared_yaxes=True)
    for k, tier in enumerate(tiers):
        fig.add_trace(
            go.Scatter(
                x=[0, 1],
                y=[0, 1],
                mode="lines",
                line={"color": "#999", "dash": "dot"},
                name="perfect calibration",
                showlegend=k == 0,
            ),
            row=1,
            col=k + 1,
        )
        for label, curve, color in (
            ("raw", before[tier], "#d62728"),
            ("temperature-scaled", after[tier], "#1f77b4"),
        ):
            fig.add_trace(
                go.Scatter(
                    x=curve.confidence,
                    y=curve.accuracy,
                    mode="lines+markers",
                    name=label,
                    legendgroup=label,
                    showlegend=k == 0,
                    line={"color": color},
                    marker={"size": 4 + 10 * np.sqrt(curve["count"] / curve["count"].max())},
                    customdata=curve["count"],
                    hovertemplate="confidence %{x:.3f}<br>accuracy %{y:.3f}<br>%{customdata} samples",
                ),
                row=1,
                col=k + 1,
            )
        fig.update_xaxes(title_text="mean max probability", range=[0, 1], row=1, col=k + 1)
    fig.update_yaxes(title_text="accuracy", range=[0, 1], row=1, col=1)
    fig.update_layout(height=360, margin={"t": 50, "b": 40, "l": 50, "r": 10})
    return fig


def tradeoff_figure(
    curves: pd.DataFrame,
    frontier: pd.DataFrame,
    points: pd.DataFrame,
    chosen: pd.DataFrame | None = None,
) -> go.Figure:
    """Accuracy against mean latency of every policy family, with the oracle frontier.

    ``curves`` has columns family, latency_ms, accuracy (one line per family); ``points``
    has policy, latency_ms, accuracy (single policies such as cloud-only); ``chosen`` the
    validation-chosen settings (family, latency_ms, accuracy) drawn as stars.
    """
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=frontier.latency_ms,
            y=100 * frontier.accuracy,
            mode="lines",
            name="oracle frontier",
            line=ORACLE_STYLE,
        )
    )
    for i, (family, df) in enumerate(curves.groupby("family", sort=False)):
        df = df.sort_values("latency_ms")
        fig.add_trace(
            go.Scatter(
                x=df.latency_ms,
                y=100 * df.accuracy,
                mode="lines",
                name=family,
                line={"color": FAMILY_COLORS[i % len(FAMILY_COLORS)], "width": 2},
            )
        )
    fig.add_trace(
        go.Scatter(
            x=points.latency_ms,
            y=100 * points.accuracy,
            mode="markers+text",
            text=points.policy,
            textposition="bottom right",
            name="single tiers",
            marker={"size": 10, "color": "#444", "symbol": "diamond"},
        )
    )
    if chosen is not None:
        fig.add_trace(
            go.Scatter(
                x=chosen.latency_ms,
                y=100 * chosen.accuracy,
                mode="markers",
                name="chosen on validation",
                text=chosen.family,
                marker={
                    "size": 13,
                    "symbol": "star",
                    "color": "gold",
                    "line": {"width": 1, "color": "black"},
                },
            )
        )
    fig.update_layout(
        xaxis_title="mean latency (ms)",
        yaxis_title="test accuracy (%)",
        height=460,
        margin={"t": 20, "b": 40, "l": 60, "r": 10},
        legend={"x": 1.01, "y": 1},
    )
    return fig


def threshold_heatmaps(
    grid: CascadeGrid, chosen: np.ndarray | None = None, reference_accuracy: float | None = None
) -> go.Figure:
    """Accuracy and mean latency over (device, edge) thresholds of a 3-tier cascade.

    Axes are the quantile ranks of the thresholds (the grid points), labelled with their
    values; the validation-chosen pair is marked. With ``reference_accuracy`` the accuracy
    colour scale is centred on it.
    """
    t0, t1 = grid.thresholds
    fig = make_subplots(
        rows=1,
        cols=2,
        subplot_titles=["accuracy (%)", "mean latency (ms)"],
        horizontal_spacing=0.12,
    )
    hover = "device threshold %{y:.3f}<br>edge threshold %{x:.3f}<br>%{z:.2f}<extra></extra>"
    acc = 100 * grid.accuracy
    kw = {} if reference_accuracy is None else {"zmid": 100 * reference_accuracy}
    fig.add_trace(
        go.Heatmap(
            z=acc,
            x=t1,
            y=t0,
            colorscale="RdBu",
            colorbar={"x": 0.44, "len": 0.9},
            hovertemplate=hover,
            **kw,
        ),
        1,
        1,
    )
    fig.add_trace(
        go.Heatmap(
            z=grid.latency_ms,
            x=t1,
            y=t0,
            colorscale="Viridis",
            colorbar={"x": 1.0, "len": 0.9},
            hovertemplate=hover,
        ),
        1,
        2,
    )
    if chosen is not None:
        for col in (1, 2):
            fig.add_trace(
                go.Scatter(
                    x=[chosen[1]],
                    y=[chosen[0]],
                    mode="markers",
                    showlegend=False,
                    marker={"symbol": "x", "size": 12, "color": "black"},
                    hoverinfo="skip",
                ),
                1,
                col,
            )
    for col in (1, 2):
        fig.update_xaxes(title_text="edge threshold", row=1, col=col)
        fig.update_yaxes(title_text="device threshold", row=1, col=col)
    fig.update_layout(height=400, margin={"t": 40, "b": 40, "l": 60, "r": 10})
    return fig


def alpha_figure(curve: pd.DataFrame, cloud_accuracy: float) -> go.Figure:
    """Gain-aware forwarding: test accuracy and mean latency against alpha (log axis)."""
    test = curve[curve.split == "test"].sort_values("alpha")
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    fig.add_trace(
        go.Scatter(
            x=test.alpha, y=100 * test.accuracy, name="accuracy (%)", line={"color": "#1f77b4"}
        ),
        secondary_y=False,
    )
    fig.add_trace(
        go.Scatter(
            x=test.alpha, y=test.latency_ms, name="mean latency (ms)", line={"color": "#ff7f0e"}
        ),
        secondary_y=True,
    )
    fig.add_hline(
        y=100 * cloud_accuracy,
        line={"color": TIER_COLORS["cloud"], "dash": "dot"},
        annotation_text="cloud only",
        secondary_y=False,
    )
    fig.update_xaxes(type="log", title_text="alpha (accuracy traded per ms)")
    fig.update_yaxes(title_text="test accuracy (%)", secondary_y=False)
    fig.update_yaxes(title_text="mean latency (ms)", secondary_y=True)
    fig.update_layout(height=380, margin={"t": 20, "b": 40, "l": 60, "r": 60})
    return fig


def slider_figure(
    base: go.Figure,
    states: list[tuple[str, dict]],
    n_dynamic: int,
    label: str,
    active: int = 0,
) -> go.Figure:
    """Add a static slider to ``base`` whose steps restyle its last ``n_dynamic`` traces.

    Each state is ``(step label, {"x": [...], "y": [...], ...})`` where every value is a
    list with one entry per dynamic trace. Works in the static HTML of the book.
    """
    n = len(base.data)
    idx = list(range(n - n_dynamic, n))
    steps = [{"method": "restyle", "label": lab, "args": [data, idx]} for lab, data in states]
    for key, values in states[active][1].items():
        for j, trace in zip(idx, values, strict=True):
            base.data[j][key] = trace
    base.update_layout(
        sliders=[
            {"active": active, "steps": steps, "currentvalue": {"prefix": label}, "pad": {"t": 50}}
        ]
    )
    return base


def explorer_states(
    values: np.ndarray, evaluate_state: Callable[[float], dict]
) -> list[tuple[str, dict]]:
    """Slider states from a function of the slider value returning restyle data."""
    return [(f"{v:.3g}", evaluate_state(float(v))) for v in values]
