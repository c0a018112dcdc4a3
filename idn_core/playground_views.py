"""Views of the playground (chapter 7): a live ipywidgets dashboard and its static figure.

* :class:`PlaygroundDashboard`: change a link's latency, the models of a node (checked
  against its memory budget, with a clear message otherwise), the delivery policy and its
  parameters; accuracy, latency and the load of every node update on each change.
* :func:`playground_sweep` and :func:`playground_figure`: the same quantities precomputed
  on a grid (cascade threshold x edge-to-cloud latency) and drawn as a plotly figure
  whose slider and buttons work in the static book.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from idn_core._validation import check_non_negative
from idn_core.confidence import SCORES
from idn_core.playground import POLICIES, Playground, PlaygroundResult
from idn_core.plots import TIER_COLORS
from idn_core.topology import Topology

__all__ = ["PlaygroundDashboard", "PlaygroundSweep", "playground_figure", "playground_sweep"]

REFERENCE_POLICIES = ("local", "cloud", "gain-aware", "oracle")
LABEL_POSITION = {"local": "top right", "cloud": "bottom right", "gain-aware": "top left",
                  "oracle": "middle right"}  # fmt: skip


def result_html(result: PlaygroundResult, elapsed_ms: float | None = None) -> str:
    """HTML of a result: the headline metrics and a table of nodes with load bars."""
    s = result.summary
    head = (
        f"<b>accuracy {s['accuracy']:.1%}</b> &middot; mean latency {s['latency_ms']:.1f} ms"
        f" &middot; p95 {s['p95_ms']:.1f} ms &middot; forwarded {s['forwarded']:.0%}"
        f" &middot; {s['models_queried']:.2f} models per request"
    )
    if elapsed_ms is not None:
        head += f" <span style='color:#888'>(evaluated in {elapsed_ms:.0f} ms)</span>"
    top = max(1.0, float(result.per_node.load.max()))
    rows = []
    for r in result.per_node.itertuples():
        bar = (
            f"<div style='background:{TIER_COLORS.get(r.tier, '#888')};height:0.8em;"
            f"width:{100 * r.load / top:.1f}%'></div>"
        )
        rows.append(
            f"<tr><td>{r.node}</td><td>{r.models or '&ndash;'}</td>"
            f"<td>{r.memory_kb:.1f} / {r.budget_kb:g}</td><td>{r.load:.2f}</td>"
            f"<td style='width:30%'>{bar}</td><td>{r.answered:.0%}</td></tr>"
        )
    table = (
        "<table style='border-collapse:collapse;width:100%'><tr><th>node</th><th>models</th>"
        "<th>memory (KiB) / budget</th><th>load</th><th></th><th>answered</th></tr>"
        + "".join(rows)
        + "</table><p style='color:#666'>load = models evaluated on the node per request"
        " of the whole stream; answered = share of requests whose answer comes from it.</p>"
    )
    return f"<p>{head}</p>{table}"


class PlaygroundDashboard:
    """The live dashboard: every control change re-evaluates the configuration.

    Attributes
    ----------
    widget : the ``ipywidgets.VBox`` to display.
    result : the last :class:`~idn_core.playground.PlaygroundResult`.
    elapsed_ms : time the last update took (evaluation and HTML).
    """

    def __init__(self, playground: Playground) -> None:
        import ipywidgets as w

        self.pg = playground
        self.topology: Topology = playground.topology
        # Three columns that fit the book's text width (about 700 px).
        fit = {"layout": w.Layout(width="225px"), "style": {"description_width": "62px"}}
        self.assignment = {k: tuple(v) for k, v in playground.placement().as_dict().items()}
        self.placement = playground.placement(self.assignment)
        self._syncing = False
        uplinks = [n.name for n in self.topology.nodes if n.name != self.topology.cloud]
        self.link = w.Dropdown(options=uplinks, description="uplink of", **fit)
        self.latency = w.FloatSlider(min=0, max=200, step=1, description="latency ms", **fit)
        self.node = w.Dropdown(
            options=[n.name for n in self.topology.nodes], description="node", **fit
        )
        sizes = playground.model_sizes_kb
        self.models = w.SelectMultiple(
            options=[(f"{m} ({sizes[m]:.1f} KiB)", m) for m in playground.models],
            description="models",
            rows=len(playground.models),
            **fit,
        )
        self.policy = w.Dropdown(options=POLICIES, value="cascade", description="policy", **fit)
        self.threshold = w.FloatSlider(0.5, min=0, max=1, step=0.01, description="threshold", **fit)
        self.alpha = w.FloatSlider(
            0.005,
            min=0,
            max=0.05,
            step=0.0005,
            readout_format=".4f",
            description="alpha /ms",
            **fit,
        )
        self.score = w.Dropdown(options=SCORES, description="score", **fit)
        self.message = w.HTML()
        self.output = w.HTML()
        self._show_link()
        self._show_node()
        self.link.observe(lambda _: self._show_link(), names="value")
        self.node.observe(lambda _: self._show_node(), names="value")
        self.latency.observe(self._on_latency, names="value")
        self.models.observe(self._on_models, names="value")
        for control in (self.policy, self.threshold, self.alpha, self.score):
            control.observe(lambda _: self.update(), names="value")
        network = w.VBox([w.HTML("<b>Network</b>"), self.link, self.latency])
        placement = w.VBox([w.HTML("<b>Placement</b>"), self.node, self.models])
        policy = w.VBox(
            [w.HTML("<b>Policy</b>"), self.policy, self.threshold, self.alpha, self.score]
        )
        self.widget = w.VBox([w.HBox([network, placement, policy]), self.message, self.output])
        self.update()

    def _parent_link(self, node: str):
        import networkx as nx

        parent = nx.shortest_path(self.topology.graph, node, self.topology.cloud)[1]
        return self.topology.link(node, parent)

    def _show_link(self) -> None:
        self._syncing = True
        self.latency.value = self._parent_link(self.link.value).latency_ms
        self._syncing = False

    def _show_node(self) -> None:
        self._syncing = True
        self.models.value = self.assignment.get(self.node.value, ())
        self._syncing = False

    def _on_latency(self, change: dict) -> None:
        if self._syncing:
            return
        self.topology = self.pg.with_uplink_latency(self.link.value, change["new"], self.topology)
        self.update()

    def _on_models(self, change: dict) -> None:
        if self._syncing:
            return
        proposal = {**self.assignment, self.node.value: tuple(change["new"])}
        try:
            placement = self.pg.placement(proposal, self.topology)
            for device in self.topology.devices:
                self.pg.chain(placement, device)
        except (ValueError, KeyError) as exc:
            self.message.value = (
                f"<span style='color:#b00020'>Placement refused: {exc}. "
                "The results below keep the last valid placement.</span>"
            )
            return
        self.assignment, self.placement = proposal, placement
        self.message.value = ""
        self.update()

    def update(self) -> PlaygroundResult:
        """Re-evaluate the current configuration and refresh the results panel."""
        start = time.perf_counter()
        self.result = self.pg.run(
            self.topology,
            self.placement,
            policy=self.policy.value,
            threshold=float(self.threshold.value),
            alpha=float(self.alpha.value),
            score=self.score.value,
        )
        self.elapsed_ms = 1000 * (time.perf_counter() - start)
        self.output.value = result_html(self.result, self.elapsed_ms)
        return self.result


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


def playground_figure(sweep: PlaygroundSweep, active: int | None = None) -> go.Figure:
    """Load per node and the accuracy-latency trade-off, with a threshold slider and latency buttons.

    Each button shows one edge-to-cloud latency; the slider moves the cascade threshold
    and updates the load bars and the marker of every latency group at once.
    """
    n_groups, n_steps = len(sweep.uplinks_ms), len(sweep.thresholds)
    active = n_steps // 2 if active is None else active
    if not 0 <= active < n_steps:
        raise ValueError(f"active must lie in [0, {n_steps}), got {active}")
    fig = make_subplots(
        rows=1,
        cols=2,
        column_widths=[0.55, 0.45],
        subplot_titles=("load per node (models evaluated per request)", "accuracy vs latency"),
    )
    per_group = 5
    moving: list[int] = []  # indices of the traces the slider updates, group by group
    for g, (runs, refs) in enumerate(zip(sweep.results, sweep.references, strict=True)):
        nodes = runs[active].per_node
        colors = [TIER_COLORS.get(t, "#888") for t in nodes.tier]
        visible = g == 0
        base = g * per_group
        fig.add_bar(x=nodes.node, y=nodes.load, marker_color=colors, name="load",
                    visible=visible, showlegend=False, row=1, col=1)  # fmt: skip
        fig.add_bar(x=nodes.node, y=nodes.answered, marker_color="#bbb", name="answered",
                    visible=visible, showlegend=g == 0, row=1, col=1)  # fmt: skip
        fig.add_scatter(
            x=[r.summary["latency_ms"] for r in runs], y=[r.summary["accuracy"] for r in runs],
            mode="lines+markers", marker_size=4, line_color="#4c78a8", name="cascade",
            text=[_marker_text(t, r) for t, r in zip(sweep.thresholds, runs, strict=True)],
            hoverinfo="text", visible=visible, showlegend=g == 0, row=1, col=2,
        )  # fmt: skip
        fig.add_scatter(
            x=[r.summary["latency_ms"] for r in refs.values()],
            y=[r.summary["accuracy"] for r in refs.values()],
            mode="markers+text", text=list(refs), textposition=[LABEL_POSITION[p] for p in refs],
            marker={"size": 9, "color": "#555", "symbol": "diamond"}, name="other policies",
            visible=visible, showlegend=g == 0, row=1, col=2,
        )  # fmt: skip
        fig.add_scatter(
            x=[runs[active].summary["latency_ms"]], y=[runs[active].summary["accuracy"]],
            mode="markers", marker={"size": 16, "color": "#e45756", "symbol": "star"},
            name="this threshold", text=[_marker_text(sweep.thresholds[active], runs[active])],
            hoverinfo="text", visible=visible, showlegend=g == 0, row=1, col=2,
        )  # fmt: skip
        moving += [base, base + 1, base + 4]
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
    buttons = []
    for g, ms in enumerate(sweep.uplinks_ms):
        visible = [i // per_group == g for i in range(n_groups * per_group)]
        buttons.append(
            {"label": f"{sweep.tier} uplink {ms:g} ms", "method": "restyle",
             "args": [{"visible": visible}]}
        )  # fmt: skip
    top_load = max(r.per_node.load.max() for runs in sweep.results for r in runs)
    all_runs = [r for runs in sweep.results for r in runs]
    all_runs += [r for refs in sweep.references for r in refs.values()]
    lat = np.array([r.summary["latency_ms"] for r in all_runs])
    acc = np.array([r.summary["accuracy"] for r in all_runs])
    fig.update_layout(
        height=560,
        barmode="group",
        margin={"t": 150},
        legend={"orientation": "h", "x": 0, "y": 1.2, "yanchor": "bottom"},
        sliders=[{"active": active, "steps": steps, "pad": {"t": 70},
                  "currentvalue": {"prefix": "cascade threshold: "}}],
        updatemenus=[{"type": "buttons", "direction": "right", "buttons": buttons,
                      "x": 0, "xanchor": "left", "y": 1.45, "yanchor": "top", "active": 0}],
    )  # fmt: skip
    fig.update_yaxes(range=[0, 1.05 * max(1.0, top_load)], row=1, col=1)
    pad = 0.05 * max(1.0, float(np.ptp(lat)))
    fig.update_xaxes(title_text="mean latency (ms)", row=1, col=2,
                     range=[float(lat.min()) - pad, float(lat.max()) + pad])  # fmt: skip
    fig.update_yaxes(title_text="test accuracy", tickformat=".0%", row=1, col=2,
                     range=[float(acc.min()) - 0.03, float(acc.max()) + 0.03])  # fmt: skip
    return fig
