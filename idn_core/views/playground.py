"""Static figure of the playground (chapter 7): the dashboard's quantities on a grid.

:func:`playground_sweep` evaluates the confidence cascade for every threshold of a grid,
with the uplinks of every edge at each latency of a list (plus the other policies as
references); :func:`playground_figure` draws the load of every node and the
accuracy-latency trade-off, with a threshold slider and latency buttons that work in the
static book (no kernel).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from idn_core._util.validation import check_non_negative
from idn_core.delivery.playground import Playground, PlaygroundResult
from idn_core.views.scenario import TIER_COLORS

__all__ = ["REFERENCE_POLICIES", "PlaygroundSweep", "playground_figure", "playground_sweep"]

REFERENCE_POLICIES = ("local", "cloud", "gain-aware", "oracle")
LABEL_POSITION = {"local": "top right", "cloud": "bottom right", "gain-aware": "top left",
                  "oracle": "middle right"}  # fmt: skip


@dataclass(frozen=True)
class PlaygroundSweep:
    """Cascade results on a grid: ``results[i][j]`` for ``uplinks_ms[i]``, ``thresholds[j]``.

    ``references[i]`` maps each of :data:`REFERENCE_POLICIES` to its result at ``uplinks_ms[i]``.
    """

    thresholds: tuple[float, ...]
    uplinks_ms: tuple[float, ...]
    tier: str
    results: tuple[tuple[PlaygroundResult, ...], ...]
    references: tuple[dict[str, PlaygroundResult], ...]


def playground_sweep(
    playground: Playground,
    thresholds: Sequence[float],
    uplinks_ms: Sequence[float],
    tier: str = "edge",
    alpha: float = 0.005,
) -> PlaygroundSweep:
    """Evaluate the cascade for every threshold with the uplinks of all ``tier`` nodes at each latency."""
    if len(thresholds) == 0 or len(uplinks_ms) == 0:
        raise ValueError("need at least one threshold and one uplink latency")
    nodes = [n.name for n in playground.topology.nodes if n.tier == tier]
    if not nodes or tier == "cloud":
        raise ValueError(f"no node of tier {tier!r} with an uplink in the topology")
    results, references = [], []
    for ms in uplinks_ms:
        check_non_negative("uplink latency (ms)", ms)
        topo = playground.topology
        for node in nodes:
            topo = playground.with_uplink_latency(node, ms, topo)
        results.append(tuple(playground.run(topo, threshold=float(t)) for t in thresholds))
        references.append(
            {p: playground.run(topo, policy=p, alpha=alpha) for p in REFERENCE_POLICIES}
        )
    return PlaygroundSweep(
        tuple(float(t) for t in thresholds),
        tuple(float(v) for v in uplinks_ms),
        tier,
        tuple(results),
        tuple(references),
    )


def _marker_text(t: float, r: PlaygroundResult) -> str:
    return f"threshold {t:.2f}: {r.summary['accuracy']:.1%}, {r.summary['latency_ms']:.1f} ms"


#: Traces per latency group: load bars, answered bars, cascade line, other policies, marker.
_PER_GROUP = 5
#: Of each group, the traces the threshold slider restyles (load, answered, marker).
_MOVING = (0, 1, 4)


def playground_figure(sweep: PlaygroundSweep, active: int | None = None) -> go.Figure:
    """Load per node and the accuracy-latency trade-off, with a threshold slider and latency buttons.

    Each button shows one edge-to-cloud latency; the slider moves the cascade threshold
    and updates the load bars and the marker of every latency group at once.
    """
    n_steps = len(sweep.thresholds)
    active = n_steps // 2 if active is None else active
    if not 0 <= active < n_steps:
        raise ValueError(f"active must lie in [0, {n_steps}), got {active}")
    fig = make_subplots(
        rows=1,
        cols=2,
        column_widths=[0.55, 0.45],
        subplot_titles=("load per node (models evaluated per request)", "accuracy vs latency"),
    )
    for g, (runs, refs) in enumerate(zip(sweep.results, sweep.references, strict=True)):
        _add_latency_group(fig, g, runs, refs, sweep.thresholds, active)
    moving = [g * _PER_GROUP + i for g in range(len(sweep.uplinks_ms)) for i in _MOVING]
    fig.update_layout(
        height=560,
        barmode="group",
        margin={"t": 150},
        legend={"orientation": "h", "x": 0, "y": 1.2, "yanchor": "bottom"},
        sliders=[{"active": active, "steps": _threshold_steps(sweep, moving), "pad": {"t": 70},
                  "currentvalue": {"prefix": "cascade threshold: "}}],
        updatemenus=[{"type": "buttons", "direction": "right", "buttons": _latency_buttons(sweep),
                      "x": 0, "xanchor": "left", "y": 1.45, "yanchor": "top", "active": 0}],
    )  # fmt: skip
    _fit_axes(fig, sweep)
    return fig


def _add_latency_group(
    fig: go.Figure,
    g: int,
    runs: tuple[PlaygroundResult, ...],
    refs: dict[str, PlaygroundResult],
    thresholds: tuple[float, ...],
    active: int,
) -> None:
    """The :data:`_PER_GROUP` traces of latency group ``g`` (visible for the first group)."""
    nodes = runs[active].per_node
    colors = [TIER_COLORS.get(t, "#888") for t in nodes.tier]
    visible = g == 0
    fig.add_bar(x=nodes.node, y=nodes.load, marker_color=colors, name="load",
                visible=visible, showlegend=False, row=1, col=1)  # fmt: skip
    fig.add_bar(x=nodes.node, y=nodes.answered, marker_color="#bbb", name="answered",
                visible=visible, showlegend=True, row=1, col=1)  # fmt: skip
    fig.add_scatter(
        x=[r.summary["latency_ms"] for r in runs], y=[r.summary["accuracy"] for r in runs],
        mode="lines+markers", marker_size=4, line_color="#4c78a8", name="cascade",
        text=[_marker_text(t, r) for t, r in zip(thresholds, runs, strict=True)],
        hoverinfo="text", visible=visible, showlegend=True, row=1, col=2,
    )  # fmt: skip
    fig.add_scatter(
        x=[r.summary["latency_ms"] for r in refs.values()],
        y=[r.summary["accuracy"] for r in refs.values()],
        mode="markers+text", text=list(refs), textposition=[LABEL_POSITION[p] for p in refs],
        marker={"size": 9, "color": "#555", "symbol": "diamond"}, name="other policies", cliponaxis=False,
        visible=visible, showlegend=True, row=1, col=2,
    )  # fmt: skip
    fig.add_scatter(
        x=[runs[active].summary["latency_ms"]], y=[runs[active].summary["accuracy"]],
        mode="markers", marker={"size": 16, "color": "#e45756", "symbol": "star"},
        name="this threshold", text=[_marker_text(thresholds[active], runs[active])],
        hoverinfo="text", visible=visible, showlegend=True, row=1, col=2,
    )  # fmt: skip


def _threshold_steps(sweep: PlaygroundSweep, moving: list[int]) -> list[dict]:
    """One slider step per threshold, restyling the ``moving`` traces of every group."""
    steps = []
    for j, t in enumerate(sweep.thresholds):
        xs, ys, texts = [], [], []
        for runs in sweep.results:
            r = runs[j]
            xs += [r.per_node.node.tolist(), r.per_node.node.tolist(), [r.summary["latency_ms"]]]
            ys += [r.per_node.load.tolist(), r.per_node.answered.tolist(), [r.summary["accuracy"]]]
            texts += [None, None, [_marker_text(t, r)]]
        steps.append(
            {"label": f"{t:.2f}", "method": "restyle",
             "args": [{"x": xs, "y": ys, "text": texts}, moving]}
        )  # fmt: skip
    return steps


def _latency_buttons(sweep: PlaygroundSweep) -> list[dict]:
    """One button per uplink latency, showing that latency group only."""
    n_traces = len(sweep.uplinks_ms) * _PER_GROUP
    buttons = []
    for g, ms in enumerate(sweep.uplinks_ms):
        visible = [i // _PER_GROUP == g for i in range(n_traces)]
        buttons.append(
            {"label": f"{sweep.tier} uplink {ms:g} ms", "method": "restyle",
             "args": [{"visible": visible}]}
        )  # fmt: skip
    return buttons


def _fit_axes(fig: go.Figure, sweep: PlaygroundSweep) -> None:
    """Axis ranges that hold every state of the sweep (loads, latencies in ms, accuracies)."""
    top_load = max(r.per_node.load.max() for runs in sweep.results for r in runs)
    all_runs = [r for runs in sweep.results for r in runs]
    all_runs += [r for refs in sweep.references for r in refs.values()]
    lat = np.array([r.summary["latency_ms"] for r in all_runs])
    acc = np.array([r.summary["accuracy"] for r in all_runs])
    fig.update_yaxes(range=[0, 1.05 * max(1.0, top_load)], row=1, col=1)
    pad = 0.05 * max(1.0, float(np.ptp(lat)))
    fig.update_xaxes(title_text="mean latency (ms)", row=1, col=2,
                     range=[float(lat.min()) - pad, float(lat.max()) + pad])  # fmt: skip
    fig.update_yaxes(title_text="test accuracy", tickformat=".0%", row=1, col=2,
                     range=[float(acc.min()) - 0.03, float(acc.max()) + 0.03])  # fmt: skip
