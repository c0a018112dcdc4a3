"""Plotly figures of chapter 2: confidences, calibration, trade-offs, threshold grids, sliders.

Builders return figures and never display them. Figures with sliders carry every state
in the figure itself (``layout.sliders`` steps using ``update``), so the static book
stays explorable without a kernel.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from idn_core.delivery.search import CascadeGrid
from idn_core.views.scenario import TIER_COLORS

ORACLE_STYLE = {"color": "black", "dash": "dash", "width": 2}
CASCADE_COLORS = [
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

    ``before``/``after`` map a tier to :func:`~idn_core.learning.scores.reliability_curve`;
    ``ece`` has columns ``tier``, ``before``, ``after`` for the subplot titles.
    """
    tiers = list(before)
    e = ece.set_index("tier")
    titles = [
        f"{t}<br><sup>ECE {100 * e.loc[t, 'before']:.1f}% → {100 * e.loc[t, 'after']:.1f}%</sup>"
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


def cascade_tradeoff_figure(
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
    right = max(curves.latency_ms.max(), points.latency_ms.max())
    fig.add_trace(
        go.Scatter(  # flat beyond its last vertex: the oracle cannot do better
            x=np.r_[frontier.latency_ms, right],
            y=100 * np.r_[frontier.accuracy, frontier.accuracy.iloc[-1]],
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
                line={"color": CASCADE_COLORS[i % len(CASCADE_COLORS)], "width": 2},
            )
        )
    fig.add_trace(_single_tiers_trace(points))
    if chosen is not None:
        fig.add_trace(_chosen_trace(chosen))
    fig.update_layout(
        xaxis_title="mean latency (ms)",
        yaxis_title="test accuracy (%)",
        height=560,
        margin={"t": 20, "b": 40, "l": 60, "r": 10},
        legend={"orientation": "h", "x": 0, "y": -0.18, "yanchor": "top"},
    )
    return fig


def _single_tiers_trace(points: pd.DataFrame) -> go.Scatter:
    """Labelled diamonds of the single policies (accuracy in %); the last label sits left."""
    return go.Scatter(
        x=points.latency_ms,
        y=100 * points.accuracy,
        mode="markers+text",
        text=points.policy,
        textposition=["bottom right"] * (len(points) - 1) + ["bottom left"],
        name="single tiers",
        marker={"size": 10, "color": "#444", "symbol": "diamond"},
    )


def _chosen_trace(chosen: pd.DataFrame) -> go.Scatter:
    """Gold stars at the validation-chosen settings (accuracy in %)."""
    return go.Scatter(
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


def threshold_heatmaps(
    grid: CascadeGrid, chosen: np.ndarray | None = None, reference_accuracy: float | None = None
) -> go.Figure:
    """Accuracy and mean latency over (device, edge) thresholds of a 3-tier cascade.

    Cells are drawn at the thresholds' ranks in the grid (they sit at quantiles of the
    observed confidences, so equal steps move equal shares of requests); tick labels and
    hover give the threshold values. The chosen pair is marked. With ``reference_accuracy``
    the accuracy colours are white at that accuracy, blue above and red below.
    """
    t0, t1 = grid.thresholds
    fig = make_subplots(
        rows=1, cols=2, subplot_titles=["accuracy (%)", "mean latency (ms)"], horizontal_spacing=0.1
    )
    acc = 100 * grid.accuracy
    scale = _accuracy_colorscale(acc, reference_accuracy)
    fig.add_trace(_rank_heatmap(acc, t0, t1, scale, 0.22), 1, 1)
    fig.add_trace(_rank_heatmap(grid.latency_ms, t0, t1, "Viridis", 0.78), 1, 2)
    if chosen is not None:
        c0, c1 = int(np.argmin(np.abs(t0 - chosen[0]))), int(np.argmin(np.abs(t1 - chosen[1])))
        for col in (1, 2):
            fig.add_trace(
                go.Scatter(
                    x=[c1],
                    y=[c0],
                    mode="markers",
                    showlegend=False,
                    hoverinfo="skip",
                    marker={"symbol": "x", "size": 12, "color": "black"},
                ),
                1,
                col,
            )
    _threshold_ticks(fig, t0, t1)
    fig.update_layout(height=470, margin={"t": 40, "b": 40, "l": 70, "r": 10})
    return fig


def _accuracy_colorscale(acc: np.ndarray, reference_accuracy: float | None) -> str | list:
    """``RdBu``, or red-white-blue diverging at ``reference_accuracy`` if ``acc`` (%) spans it."""
    if reference_accuracy is not None and acc.min() < 100 * reference_accuracy < acc.max():
        mid = (100 * reference_accuracy - acc.min()) / (acc.max() - acc.min())
        return [[0.0, "#b2182b"], [mid, "#f7f7f7"], [1.0, "#2166ac"]]
    return "RdBu"


def _rank_heatmap(
    z: np.ndarray, t0: np.ndarray, t1: np.ndarray, scale: str | list, bar_x: float
) -> go.Heatmap:
    """Heatmap of ``z`` ``(len(t0), len(t1))`` at the thresholds' ranks, hover in thresholds."""
    custom = np.dstack(np.meshgrid(t1, t0))
    hover = "device threshold %{customdata[1]:.4f}<br>edge threshold %{customdata[0]:.4f}<br>%{z:.2f}<extra></extra>"
    bar = {"orientation": "h", "len": 0.42, "y": -0.38, "thickness": 12}
    return go.Heatmap(
        z=z,
        x=np.arange(len(t1)),
        y=np.arange(len(t0)),
        customdata=custom,
        colorscale=scale,
        colorbar={**bar, "x": bar_x},
        hovertemplate=hover,
    )


def _threshold_ticks(fig: go.Figure, t0: np.ndarray, t1: np.ndarray) -> None:
    """Six ticks per axis labelled with threshold values (device: y, edge: x), both panels."""
    ticks0 = np.unique(np.linspace(0, len(t0) - 1, 6).round().astype(int))
    ticks1 = np.unique(np.linspace(0, len(t1) - 1, 6).round().astype(int))
    for col in (1, 2):
        fig.update_xaxes(
            title_text="edge threshold",
            tickvals=ticks1,
            ticktext=distinct_labels(t1[ticks1]),
            row=1,
            col=col,
        )
        fig.update_yaxes(
            title_text="device threshold",
            tickvals=ticks0,
            ticktext=distinct_labels(t0[ticks0]),
            row=1,
            col=col,
        )


def distinct_labels(values: np.ndarray, max_digits: int = 8) -> list[str]:
    """Shortest ``g`` formatting (3 significant digits at least) under which distinct
    ``values`` get distinct labels: thresholds crowd near 1 (0.997, 0.9993, ...), where three
    digits would print "1 1 1"."""
    values = np.asarray(values, dtype=float)
    n_distinct = len(np.unique(values))
    for digits in range(3, max_digits + 1):
        labels = [f"{v:.{digits}g}" for v in values]
        if len(set(labels)) == n_distinct:
            return labels
    return labels


def gain_aware_alpha_figure(curve: pd.DataFrame, cloud_accuracy: float) -> go.Figure:
    """Gain-aware forwarding: test accuracy and mean latency against its price gamma (log axis).

    ``curve`` has one row per price (column ``alpha``, the library's name; the book writes
    gamma, the accuracy one millisecond of latency is worth).
    """
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
    fig.update_xaxes(type="log", title_text="price γ (accuracy per ms of latency)")
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
