"""The live view of the playground (chapter 7): an ipywidgets dashboard.

* :class:`PlaygroundDashboard`: change a link's latency, the models of a node (checked
  against its memory budget, with a clear message otherwise), the delivery policy and its
  parameters; accuracy, latency and the load of every node update on each change.
* its static version for the book is in :mod:`idn_core.views.playground`.
"""

from __future__ import annotations

import time

from idn_core.delivery.playground import POLICIES, Playground, PlaygroundResult
from idn_core.learning.scores import SCORES
from idn_core.network.topology import Topology
from idn_core.views.scenario import TIER_COLORS

__all__ = ["PlaygroundDashboard", "result_html"]


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
    result : the last :class:`~idn_core.delivery.playground.PlaygroundResult`.
    elapsed_ms : time the last update took (evaluation and HTML).
    """

    def __init__(self, playground: Playground) -> None:
        self.pg = playground
        self.topology: Topology = playground.topology
        self.assignment = {k: tuple(v) for k, v in playground.placement().as_dict().items()}
        self.placement = playground.placement(self.assignment)
        self._syncing = False
        self._make_controls()
        self._show_link()
        self._show_node()
        self._observe_controls()
        self.widget = self._layout()
        self.update()

    def _make_controls(self) -> None:
        """The network, placement and policy controls, and the message and results panels."""
        import ipywidgets as w

        pg = self.pg
        # Three columns that fit the book's text width (about 700 px).
        fit = {"layout": w.Layout(width="225px"), "style": {"description_width": "62px"}}
        uplinks = [n.name for n in self.topology.nodes if n.name != self.topology.cloud]
        self.link = w.Dropdown(options=uplinks, description="uplink of", **fit)
        self.latency = w.FloatSlider(min=0, max=200, step=1, description="latency ms", **fit)
        self.node = w.Dropdown(
            options=[n.name for n in self.topology.nodes], description="node", **fit
        )
        sizes = pg.model_sizes_kb
        self.models = w.SelectMultiple(
            options=[(f"{m} ({sizes[m]:.1f} KiB)", m) for m in pg.models],
            description="models",
            rows=len(pg.models),
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
            description="price γ /ms",
            **fit,
        )
        self.score = w.Dropdown(options=SCORES, description="score", **fit)
        self.message = w.HTML()
        self.output = w.HTML()

    def _observe_controls(self) -> None:
        """Wire every control to its handler (selectors show, the others re-evaluate)."""
        self.link.observe(lambda _: self._show_link(), names="value")
        self.node.observe(lambda _: self._show_node(), names="value")
        self.latency.observe(self._on_latency, names="value")
        self.models.observe(self._on_models, names="value")
        for control in (self.policy, self.threshold, self.alpha, self.score):
            control.observe(lambda _: self.update(), names="value")

    def _layout(self):
        """Three titled columns (network, placement, policy) above the message and results."""
        import ipywidgets as w

        network = w.VBox([w.HTML("<b>Network</b>"), self.link, self.latency])
        placement = w.VBox([w.HTML("<b>Placement</b>"), self.node, self.models])
        policy = w.VBox(
            [w.HTML("<b>Policy</b>"), self.policy, self.threshold, self.alpha, self.score]
        )
        return w.VBox([w.HBox([network, placement, policy]), self.message, self.output])

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
