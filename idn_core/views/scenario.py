"""Plotly figure builders shared by the chapters: signals, topology, zoo trade-offs.

Builders return figures and never display them; notebooks call
:func:`idn_core.views.display.show`. Static interactivity (sliders, buttons) lives in the
figure itself, so the rendered book stays explorable without a kernel.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from idn_core._util.validation import check_seed
from idn_core.learning.data import Dataset
from idn_core.learning.models import TIERS
from idn_core.network.deployment import Placement
from idn_core.network.topology import Node, Topology

#: One colour per tier, used by every chapter.
TIER_COLORS = {"device": "#1b9e77", "edge": "#d95f02", "regional": "#7570b3", "cloud": "#e7298a"}


def signals_figure(dataset: Dataset, seed: int = 0) -> go.Figure:
    """One training signal per class, in a 2 x 5 grid."""
    check_seed(seed)
    rng = np.random.default_rng(seed)
    fig = make_subplots(rows=2, cols=5, subplot_titles=[f"class {c}" for c in range(10)])
    for c in range(10):
        idx = rng.choice(np.flatnonzero(dataset.y_train == c))
        fig.add_trace(
            go.Scatter(
                y=dataset.x_train[idx], mode="lines", line={"color": "#444"}, showlegend=False
            ),
            row=c // 5 + 1,
            col=c % 5 + 1,
        )
    fig.update_xaxes(showticklabels=False)
    fig.update_yaxes(showticklabels=False)
    fig.update_layout(height=360, margin={"t": 40, "b": 10, "l": 10, "r": 10})
    return fig


def tree_layout(topology: Topology) -> dict[str, tuple[float, float]]:
    """Positions for drawing a tree: tiers on rows (cloud on top), children under parents."""
    present = [t for t in TIERS if any(n.tier == t for n in topology.nodes)]
    levels = {t: i for i, t in enumerate(present)}
    leaves = topology.devices
    x: dict[str, float] = {d: float(i) for i, d in enumerate(leaves)}
    for tier in present[1:]:
        for node in (n for n in topology.nodes if n.tier == tier):
            below = [
                nb
                for nb in topology.graph.neighbors(node.name)
                if levels[topology.node(nb).tier] < levels[tier]
            ]
            x[node.name] = float(np.mean([x[b] for b in below])) if below else 0.0
    return {n.name: (x[n.name], float(levels[n.tier])) for n in topology.nodes}


def topology_figure(topology: Topology, placement: Placement | None = None) -> go.Figure:
    """The IDN tree: nodes coloured by tier, hover shows memory, speed and models; links show latency."""
    pos = tree_layout(topology)
    fig = go.Figure()
    _add_links(fig, topology, pos)
    for tier in TIERS:
        nodes = [n for n in topology.nodes if n.tier == tier]
        if nodes:
            fig.add_trace(_tier_nodes_trace(tier, nodes, pos, placement))
    fig.update_xaxes(visible=False)
    n_levels = len({n.tier for n in topology.nodes})
    fig.update_yaxes(visible=False, range=[-0.6, n_levels - 0.4])
    fig.update_layout(height=380, margin={"t": 20, "b": 10, "l": 10, "r": 10}, legend_title="tier")
    return fig


def _add_links(fig: go.Figure, topology: Topology, pos: dict[str, tuple[float, float]]) -> None:
    """Every link as a grey line, labelled at its middle with its one-way latency (ms)."""
    for link in topology.links:
        (xa, ya), (xb, yb) = pos[link.a], pos[link.b]
        fig.add_trace(
            go.Scatter(
                x=[xa, xb],
                y=[ya, yb],
                mode="lines",
                line={"color": "#bbb"},
                hoverinfo="skip",
                showlegend=False,
            )
        )
        fig.add_annotation(
            x=(xa + xb) / 2,
            y=(ya + yb) / 2,
            text=f"{link.latency_ms:g} ms",
            showarrow=False,
            font={"size": 10},
        )


def _tier_nodes_trace(
    tier: str,
    nodes: list[Node],
    pos: dict[str, tuple[float, float]],
    placement: Placement | None,
) -> go.Scatter:
    """The nodes of one tier as labelled markers; hover: memory, speed (and models placed)."""
    hover = [
        f"<b>{n.name}</b><br>memory {n.memory_kb:g} KiB<br>{n.compute_gflops:g} GFLOP/s"
        + (f"<br>models: {', '.join(placement.models_on(n.name)) or 'none'}" if placement else "")
        for n in nodes
    ]
    return go.Scatter(
        x=[pos[n.name][0] for n in nodes],
        y=[pos[n.name][1] for n in nodes],
        mode="markers+text",
        marker={
            "size": 26,
            "color": TIER_COLORS[tier],
            "line": {"width": 1, "color": "white"},
        },
        text=[n.name for n in nodes],
        textposition="bottom center",
        hovertext=hover,
        hoverinfo="text",
        name=tier,
    )


_ZOO_AXES = {
    "flops": "FLOPs per sample",
    "params": "parameters",
    "memory_kb": "memory (KiB)",
    "cpu_latency_ms": "measured CPU latency (ms, batch 1)",
}


def zoo_figure(table: pd.DataFrame) -> go.Figure:
    """Test accuracy of each zoo model against a cost; buttons switch the cost axis (log scale)."""
    fig = go.Figure()
    for model, row in table.iterrows():
        fig.add_trace(
            go.Scatter(
                x=[row["flops"]],
                y=[row["test_acc"]],
                mode="markers+text",
                text=[model],
                textposition="top center",
                marker={"size": 14, "color": TIER_COLORS[row["tier"]]},
                name=f"{model} ({row['tier']})",
            )
        )
    buttons = [
        {
            "label": label,
            "method": "update",
            "args": [{"x": [[v] for v in table[column]]}, {"xaxis.title.text": label}],
        }
        for column, label in _ZOO_AXES.items()
    ]
    fig.update_layout(
        updatemenus=[
            {"buttons": buttons, "direction": "right", "x": 0.0, "y": 1.18, "xanchor": "left"}
        ],
        xaxis={"type": "log", "title": _ZOO_AXES["flops"]},
        yaxis={"title": "test accuracy", "tickformat": ".0%"},
        height=420,
        margin={"t": 70},
    )
    return fig


def tier_tradeoff_figure(
    summaries: dict[float, pd.DataFrame], slider_label: str, active: float | None = None
) -> go.Figure:
    """Accuracy vs mean latency of serving everything at each tier, one slider step per what-if.

    ``summaries`` maps a slider value (e.g. the edge-to-cloud latency) to the output of
    :meth:`idn_core.network.scenario.Scenario.tier_summary`; ``active`` is the value shown first
    (the scenario's own setting), the first value if ``None`` or absent.
    """
    values = list(summaries)
    start = values.index(active) if active in summaries else 0
    first = summaries[values[start]]
    fig = go.Figure(
        go.Scatter(
            x=first.latency_ms,
            y=first.accuracy,
            mode="markers+lines+text",
            text=[f"{t}-only" for t in first.tier],
            textposition="top left",
            marker={"size": 14, "color": [TIER_COLORS[t] for t in first.tier]},
            line={"dash": "dot", "color": "#999"},
            name="serve at one tier",
            cliponaxis=False,  # the device's label sits at x ~ 0 and would be cut
        )
    )
    steps = [
        {
            "label": f"{v:g}",
            "method": "restyle",
            "args": [
                {"x": [summaries[v].latency_ms.tolist()], "y": [summaries[v].accuracy.tolist()]}
            ],
        }
        for v in values
    ]
    x_max = max(s.latency_ms.max() for s in summaries.values()) * 1.1
    fig.update_layout(
        sliders=[
            {
                "active": start,
                "steps": steps,
                "currentvalue": {"prefix": slider_label + ": "},
                "pad": {"t": 40},
            }
        ],
        xaxis={"title": "mean latency (ms)", "range": [-1, x_max]},
        yaxis={"title": "test accuracy", "tickformat": ".0%"},
        height=460,
    )
    return fig
