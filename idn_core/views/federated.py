"""Figures and widgets of the federated chapters (5 and 6).

Builders take the tidy tables of :mod:`idn_core.federated.experiments` and
:func:`idn_core.federated.early_exit.training.sweep_early_exit` and return plotly figures whose
sliders work in the static book; :mod:`idn_core.views.federated_live` wraps the same builders in
ipywidgets for a live kernel.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from idn_core.federated.early_exit.weights import EXIT_WEIGHTINGS, lambda_tilde

ARM_COLORS = {"plain": "#7f7f7f", "delivery-aware": "#d95f02"}
WEIGHT_COLORS = {
    "equal": "#7f7f7f",
    "serving": "#1b9e77",
    "variance": "#7570b3",
    "flops": "#e7298a",
}
SCHEME_COLORS = {"iid": "#1b9e77", "dirichlet": "#d95f02", "quantity": "#7570b3"}


def _slider(labels: Sequence[str], visible: list[list[bool]], prefix: str, active: int = 0) -> dict:
    steps = [
        {"label": lab, "method": "update", "args": [{"visible": vis}]}
        for lab, vis in zip(labels, visible, strict=True)
    ]
    return {"active": active, "currentvalue": {"prefix": prefix}, "steps": steps, "pad": {"t": 40}}


def fedavg_curves_figure(curves: pd.DataFrame) -> go.Figure:
    """Global test accuracy per round, mean and +-1 std band over seeds, one line per scheme."""
    fig = go.Figure()
    for scheme, g in curves.groupby("scheme", sort=False):
        s = g.groupby("round")["test_acc"].agg(["mean", "std"]).fillna(0.0)
        color = SCHEME_COLORS.get(scheme, "#444")
        x = s.index.to_numpy()
        fig.add_trace(
            go.Scatter(
                x=np.r_[x, x[::-1]],
                y=np.r_[s["mean"] + s["std"], (s["mean"] - s["std"])[::-1]],
                fill="toself",
                line={"width": 0},
                fillcolor=color,
                opacity=0.2,
                showlegend=False,
                hoverinfo="skip",
            )
        )
        fig.add_trace(go.Scatter(x=x, y=s["mean"], name=scheme, line={"color": color}))
    fig.update_layout(xaxis_title="round", yaxis_title="test accuracy", height=360)
    return fig


def node_accuracy_figure(nodes: pd.DataFrame) -> go.Figure:
    """Per node: accuracy on its own distribution and on the requests it serves; slider = scheme."""
    fig = go.Figure()
    schemes = list(dict.fromkeys(nodes.scheme))
    for scheme in schemes:
        g = (
            nodes[nodes.scheme == scheme]
            .groupby("node")[["own_acc", "served_acc"]]
            .agg(["mean", "std"])
        )
        for col, name, color in (
            ("own_acc", "own test distribution", "#7f7f7f"),
            ("served_acc", "requests it serves", "#1b9e77"),
        ):
            fig.add_trace(
                go.Bar(
                    x=[f"node {k}" for k in g.index],
                    y=g[(col, "mean")],
                    error_y={"type": "data", "array": g[(col, "std")].fillna(0).to_numpy()},
                    name=name,
                    marker_color=color,
                    visible=scheme == schemes[0],
                )
            )
    vis = [[s == t for t in schemes for _ in range(2)] for s in schemes]
    fig.update_layout(
        barmode="group",
        yaxis_title="accuracy",
        yaxis_range=[0, 1],
        height=400,
        sliders=[_slider(schemes, vis, "partition: ")],
    )
    return fig


def delivery_history_figure(history: pd.DataFrame, tiers: Sequence[str]) -> go.Figure:
    """Accuracy over served requests per tier (and system) after each alternation, both arms."""
    cols = [f"tier{k}" for k in range(len(tiers))] + ["system"]
    titles = [f"{t} (served)" for t in tiers] + ["system"]
    fig = make_subplots(rows=1, cols=len(cols), subplot_titles=titles, shared_yaxes=False)
    for arm, g in history.groupby("arm", sort=False):
        s = g.groupby("alternation")[cols].agg(["mean", "std"])
        for i, col in enumerate(cols):
            fig.add_trace(
                go.Scatter(
                    x=s.index,
                    y=s[(col, "mean")],
                    name=arm,
                    legendgroup=arm,
                    showlegend=i == 0,
                    error_y={"type": "data", "array": s[(col, "std")].fillna(0).to_numpy()},
                    line={"color": ARM_COLORS.get(arm, "#444")},
                ),
                row=1,
                col=i + 1,
            )
    fig.update_xaxes(title_text="alternation", dtick=1)
    fig.update_layout(height=340, yaxis_title="accuracy")
    return fig


def delivery_tradeoff_figure(tradeoff: pd.DataFrame) -> go.Figure:
    """Accuracy against mean latency as one threshold sweeps; the slider moves a marker per arm.

    ``tradeoff`` has columns arm, threshold, accuracy and latency_ms (one row per seed);
    each arm's curve is its mean over seeds.
    """
    fig = go.Figure()
    arms = list(dict.fromkeys(tradeoff.arm))
    means = {
        a: tradeoff[tradeoff.arm == a].groupby("threshold")[["accuracy", "latency_ms"]].mean()
        for a in arms
    }
    for arm in arms:
        m = means[arm]
        fig.add_trace(
            go.Scatter(
                x=m.latency_ms,
                y=m.accuracy,
                name=arm,
                mode="lines",
                line={"color": ARM_COLORS.get(arm, "#444")},
            )
        )
    for arm in arms:
        m = means[arm]
        fig.add_trace(
            go.Scatter(
                x=[m.latency_ms.iloc[0]],
                y=[m.accuracy.iloc[0]],
                mode="markers",
                marker={"size": 12, "color": ARM_COLORS.get(arm, "#444")},
                showlegend=False,
                name=f"{arm} at threshold",
            )
        )
    fig.update_layout(
        xaxis_title="mean latency (ms)",
        yaxis_title="system accuracy",
        height=420,
        sliders=[
            {
                "active": 0,
                "currentvalue": {"prefix": "confidence threshold: "},
                "steps": _threshold_marker_steps(means, arms),
                "pad": {"t": 40},
            }
        ],
    )
    return fig


def _threshold_marker_steps(means: dict[str, pd.DataFrame], arms: list[str]) -> list[dict]:
    """One slider step per threshold (of the first arm) moving every arm's marker trace."""
    marker_idx = list(range(len(arms), 2 * len(arms)))
    steps = []
    for i, t in enumerate(means[arms[0]].index.to_numpy()):
        xs = [[means[a].latency_ms.iloc[i]] for a in arms]
        ys = [[means[a].accuracy.iloc[i]] for a in arms]
        steps.append(
            {"label": f"{t:.2f}", "method": "restyle", "args": [{"x": xs, "y": ys}, marker_idx]}
        )
    return steps


def lambda_figure(
    splits: Sequence[Sequence[float]],
    sigma: Sequence[float],
    sum_p2: Sequence[float],
    flops: Sequence[float],
) -> go.Figure:
    """lambda-tilde of every weighting per exit; slider = serving split."""
    fig = go.Figure()
    labels = ["-".join(f"{100 * v:.0f}" for v in s) for s in splits]
    for j, split in enumerate(splits):
        for w in EXIT_WEIGHTINGS:
            lam = lambda_tilde(w, split, sigma=sigma, sum_p2=sum_p2, flops=flops)
            fig.add_trace(
                go.Bar(
                    x=["exit 1", "exit 2", "exit 3"],
                    y=lam,
                    name=w,
                    visible=j == 0,
                    marker_color=WEIGHT_COLORS[w],
                )
            )
    n = len(EXIT_WEIGHTINGS)
    vis = [[k // n == j for k in range(n * len(splits))] for j in range(len(splits))]
    fig.update_layout(
        barmode="group",
        yaxis_title="lambda-tilde",
        yaxis_range=[0, 1],
        height=380,
        sliders=[_slider(labels, vis, "serving split (device-edge-cloud) %: ")],
    )
    return fig


def exit_accuracy_figure(table: pd.DataFrame, data_split: str | None = None) -> go.Figure:
    """Per weighting: accuracy of each exit and over served requests (mean +- std over seeds);
    slider = serving split."""
    t = table if data_split is None else table[table.data_split == data_split]
    splits = list(dict.fromkeys(t.serving_split))
    metrics = ["exit1_acc", "exit2_acc", "exit3_acc", "served_acc"]
    names = ["exit 1", "exit 2", "exit 3", "served"]
    weightings = [w for w in EXIT_WEIGHTINGS if w in set(t.weighting)]
    fig = go.Figure()
    for j, split in enumerate(splits):
        g = t[t.serving_split == split].groupby("weighting")[metrics].agg(["mean", "std"])
        for w in weightings:
            fig.add_trace(
                go.Bar(
                    x=names,
                    y=[g.loc[w, (m, "mean")] for m in metrics],
                    name=w,
                    visible=j == 0,
                    error_y={
                        "type": "data",
                        "array": [np.nan_to_num(g.loc[w, (m, "std")]) for m in metrics],
                    },
                    marker_color=WEIGHT_COLORS[w],
                )
            )
    n = len(weightings)
    vis = [[k // n == j for k in range(n * len(splits))] for j in range(len(splits))]
    fig.update_layout(
        barmode="group",
        yaxis_title="test accuracy",
        height=420,
        yaxis_range=[0, 1],
        sliders=[_slider(splits, vis, "serving split %: ")],
    )
    return fig


def weighting_gain_figure(
    table: pd.DataFrame, metric: str = "served_acc", baseline: str = "equal"
) -> go.Figure:
    """Gain in percentage points of each weighting over ``baseline`` per serving split
    (mean +- std over seeds); one panel per data split."""
    data_splits = list(dict.fromkeys(table.data_split))
    fig = make_subplots(
        rows=1,
        cols=len(data_splits),
        subplot_titles=[f"data {d}" for d in data_splits],
        shared_yaxes=True,
    )
    for i, ds in enumerate(data_splits):
        t = table[table.data_split == ds]
        base = t[t.weighting == baseline].set_index(["serving_split", "seed"])[metric]
        for w in [w for w in EXIT_WEIGHTINGS if w in set(t.weighting) and w != baseline]:
            cur = t[t.weighting == w].set_index(["serving_split", "seed"])[metric]
            gain = (100 * (cur - base)).dropna().groupby(level=0, sort=False).agg(["mean", "std"])
            gain = gain.reindex(list(dict.fromkeys(t.serving_split)))
            fig.add_trace(
                go.Scatter(
                    x=gain.index,
                    y=gain["mean"],
                    name=w,
                    legendgroup=w,
                    showlegend=i == 0,
                    marker_color=WEIGHT_COLORS[w],
                    error_y={"type": "data", "array": gain["std"].fillna(0).to_numpy()},
                ),
                row=1,
                col=i + 1,
            )
    fig.add_hline(y=0, line_dash="dot", line_color="#999")
    fig.update_xaxes(title_text="serving split %")
    fig.update_layout(yaxis_title=f"{metric} gain over {baseline} (pp)", height=400)
    return fig
