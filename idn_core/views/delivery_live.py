"""Chapter 2's explorer: thresholds, link latencies and alpha, live (ipywidgets) and static (sliders).

:class:`DeliveryExplorer` recomputes everything a figure needs from the outputs tables
and the exact request weights, so an update takes milliseconds: :meth:`figure` is what
an ipywidgets callback calls, and the ``*_slider_figure`` functions precompute a few
states into plotly sliders for the static book.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from idn_core.delivery.evaluation import pareto_front
from idn_core.delivery.experiments import DeliverySetup
from idn_core.delivery.oracle_bound import oracle_frontier
from idn_core.delivery.policies import GainAwareForwarding, cascade_answer
from idn_core.delivery.sample_weights import SampleWeights, uniform_weights
from idn_core.delivery.search import cascade_grid, cascade_metrics, threshold_candidates
from idn_core.network.latency import PathLatency
from idn_core.network.scenario import Scenario, scenario_latency
from idn_core.network.topology import Link, Topology
from idn_core.views.delivery import ORACLE_STYLE, slider_figure
from idn_core.views.display import show
from idn_core.views.scenario import TIER_COLORS


class DeliveryExplorer:
    """Fast what-if evaluation of a 3-tier path for the widgets and static sliders.

    Parameters
    ----------
    scenario : the running :class:`~idn_core.Scenario` (its topology's shape is kept).
    setup : :func:`~idn_core.delivery.experiments.prepare_delivery` output for it.
    family : confidence family used by the cascade and the gain-aware rule.
    n_grid : thresholds per hop for the cascade's Pareto curve.
    """

    def __init__(
        self,
        scenario: Scenario,
        setup: DeliverySetup,
        family: str = "max_prob calibrated",
        n_grid: int = 40,
    ) -> None:
        self.scenario, self.setup, self.family = scenario, setup, family
        self.share = setup.requests.counts() / len(setup.requests)  # (D, N)
        self.conf_val, self.conf_test = setup.conf_val[family], setup.conf_test[family]
        self.corr_val, self.corr_test = setup.val.correct(), setup.test.correct()
        self.tiers = setup.latency.tiers
        self.grids = [
            threshold_candidates(self.conf_val[h], n_grid) for h in range(len(self.tiers) - 1)
        ]
        self._latency = lru_cache(maxsize=64)(self._latency_uncached)
        self._gain = lru_cache(maxsize=256)(self._gain_uncached)
        self._curves = lru_cache(maxsize=64)(self._curves_uncached)
        self._figure: go.Figure | None = None

    # ------------------------------------------------------------------ model
    def topology(self, device_ms: float, edge_ms: float) -> Topology:
        """The scenario's topology with every device uplink at ``device_ms`` and edge uplink at ``edge_ms``."""
        topo = self.scenario.topology
        new = {"device": device_ms, "edge": edge_ms}
        links = []
        for link in topo.links:
            lower = min(
                (topo.node(link.a), topo.node(link.b)),
                key=lambda n: ("device", "edge", "regional", "cloud").index(n.tier),
            )
            ms = new.get(lower.tier, link.latency_ms)
            links.append(Link(link.a, link.b, ms, link.bandwidth_mbps))
        return Topology(topo.nodes, links, topo.payload_bytes)

    def _latency_uncached(
        self, device_ms: float, edge_ms: float
    ) -> tuple[PathLatency, SampleWeights, SampleWeights]:
        lat = scenario_latency(self.scenario, self.topology(device_ms, edge_ms))
        w_test = SampleWeights(self.share.sum(axis=0), self.share.T @ lat.pattern_table())
        return lat, w_test, uniform_weights(self.setup.val.n_samples, lat)

    def _gain_uncached(self, alpha: float, device_ms: float, edge_ms: float) -> GainAwareForwarding:
        lat, _, _ = self._latency(device_ms, edge_ms)
        h = len(self.tiers) - 1
        return GainAwareForwarding(alpha).fit(
            self.conf_val[:h], self.corr_val, lat.answer_latency_ms().mean(0, keepdims=True)
        )

    def _curves_uncached(self, device_ms: float, edge_ms: float) -> dict:
        lat, w, wv = self._latency(device_ms, edge_ms)
        h = len(self.tiers) - 1
        grid = cascade_grid(self.conf_val[:h], self.corr_val, wv, self.grids)
        front = pareto_front(grid.frame())
        curve = cascade_metrics(
            self.conf_test[:h], self.corr_test, w, front[["t0", "t1"]].to_numpy()
        )
        oracle = oracle_frontier(self.corr_test, w)
        # The frontier has one vertex per helpful sample; 80 points draw it faithfully.
        xs = np.linspace(oracle.latency_ms.iloc[0], oracle.latency_ms.iloc[-1], 80)
        oracle = pd.DataFrame(
            {"latency_ms": xs, "accuracy": np.interp(xs, oracle.latency_ms, oracle.accuracy)}
        )
        single = pd.DataFrame(
            {
                "policy": [f"{t} only" for t in self.tiers],
                "latency_ms": [w.pattern_latency[:, 1 << k].sum() for k in range(h + 1)],
                "accuracy": [w.count @ self.corr_test[k] for k in range(h + 1)],
            }
        )
        return {"frontier": oracle, "curve": curve.sort_values("latency_ms"), "single": single}

    def state(
        self,
        t_device: float,
        t_edge: float,
        device_ms: float = 5.0,
        edge_ms: float = 10.0,
        alpha: float = 1e-3,
    ) -> dict:
        """Everything the explorer draws, on the test requests (exact over the request stream)."""
        device_ms, edge_ms = float(device_ms), float(edge_ms)
        _, w, _ = self._latency(device_ms, edge_ms)
        h = len(self.tiers) - 1
        n = np.arange(self.corr_test.shape[1])
        answer = cascade_answer(self.conf_test[:h], np.array([t_device, t_edge], dtype=float))
        lat = w.cascade_latency()
        ga = self._gain(float(alpha), device_ms, edge_ms).decide(self.conf_test[:h]).answer_tier
        return {
            "cascade": (float(lat[n, answer].sum()), float(w.count @ self.corr_test[answer, n])),
            "gain_aware": (float(lat[n, ga].sum()), float(w.count @ self.corr_test[ga, n])),
            "shares": np.bincount(answer, weights=w.count, minlength=h + 1),
            **self._curves(device_ms, edge_ms),
        }

    # ------------------------------------------------------------------ figures
    def figure(
        self,
        t_device: float,
        t_edge: float,
        device_ms: float = 5.0,
        edge_ms: float = 10.0,
        alpha: float = 1e-3,
    ) -> go.Figure:
        """A new figure: trade-off plot (oracle frontier, cascade curve, current points) and answer shares."""
        st = self.state(t_device, t_edge, device_ms, edge_ms, alpha)
        fig = make_subplots(
            rows=1,
            cols=2,
            column_widths=[0.72, 0.28],
            subplot_titles=["accuracy vs latency (test)", "who answers"],
        )
        for trace in _state_traces(st, self.tiers):
            fig.add_trace(trace, 1, 2 if isinstance(trace, go.Bar) else 1)
        fig.update_xaxes(title_text="mean latency (ms)", row=1, col=1)
        fig.update_yaxes(title_text="accuracy (%)", row=1, col=1)
        fig.update_yaxes(title_text="share of requests", range=[0, 1], row=1, col=2)
        fig.update_layout(
            height=500,
            margin={"t": 110, "b": 40, "l": 60, "r": 10},
            legend={"orientation": "h", "x": 0, "y": 1.22, "yanchor": "bottom"},
        )
        return fig

    def update(
        self,
        t_device: float,
        t_edge: float,
        device_ms: float = 5.0,
        edge_ms: float = 10.0,
        alpha: float = 1e-3,
    ) -> go.Figure:
        """Update the explorer's figure in place (as a live widget does) and return it."""
        if self._figure is None:
            self._figure = self.figure(t_device, t_edge, device_ms, edge_ms, alpha)
            return self._figure
        data = _restyle(
            self.state(t_device, t_edge, device_ms, edge_ms, alpha),
            self.tiers,
            list(range(len(self._figure.data))),
        )
        with self._figure.batch_update():
            for trace, x, y in zip(self._figure.data, data["x"], data["y"], strict=True):
                trace.x, trace.y = x, y
        return self._figure

    def widget(self):
        """An ipywidgets dashboard: sliders for both thresholds, both link latencies and alpha."""
        import ipywidgets as widgets

        sliders = {
            "t_device": widgets.FloatSlider(
                value=0.9, min=0, max=1, step=0.01, description="device thr."
            ),
            "t_edge": widgets.FloatSlider(
                value=0.85, min=0, max=1, step=0.01, description="edge thr."
            ),
            "device_ms": widgets.FloatSlider(
                value=5.0, min=0.5, max=40, step=0.5, description="device→edge ms"
            ),
            "edge_ms": widgets.FloatSlider(
                value=10.0, min=0.5, max=80, step=0.5, description="edge→cloud ms"
            ),
            "alpha": widgets.FloatLogSlider(
                value=1e-3, base=10, min=-5, max=-1, description="price γ /ms"
            ),
        }
        out = widgets.Output()

        def redraw(_=None) -> None:
            with out:
                out.clear_output(wait=True)
                show(self.update(**{k: s.value for k, s in sliders.items()}))

        for s in sliders.values():
            s.observe(redraw, names="value")
        redraw()
        return widgets.VBox(
            [
                widgets.HBox(list(sliders.values())[:3]),
                widgets.HBox(list(sliders.values())[3:]),
                out,
            ]
        )


def _state_traces(st: dict, tiers: tuple[str, ...]) -> list:
    """The traces of one explorer state, in figure order: curves, points, answer shares."""
    bar = go.Bar(
        x=list(tiers),
        y=st["shares"],
        marker_color=[TIER_COLORS.get(t, "#777") for t in tiers],
        showlegend=False,
    )
    return [*_curve_traces(st), *_policy_traces(st), bar]


def _curve_traces(st: dict) -> list[go.Scatter]:
    """Oracle frontier, the cascade's Pareto curve and the single tiers (accuracy in %)."""
    front, curve, single = st["frontier"], st["curve"], st["single"]
    return [
        go.Scatter(
            x=front.latency_ms,
            y=100 * front.accuracy,
            mode="lines",
            name="oracle frontier",
            line=ORACLE_STYLE,
        ),
        go.Scatter(
            x=curve.latency_ms,
            y=100 * curve.accuracy,
            mode="lines",
            name="threshold cascade (Pareto)",
            line={"color": "#1f77b4"},
        ),
        go.Scatter(
            x=single.latency_ms,
            y=100 * single.accuracy,
            mode="markers+text",
            text=single.policy,
            textposition=["bottom right"] * (len(single) - 1) + ["bottom left"],
            name="single tiers",
            marker={"symbol": "diamond", "size": 9, "color": "#444"},
        ),
    ]


def _policy_traces(st: dict) -> list[go.Scatter]:
    """The gain-aware point and the cascade point of the state (accuracy in %)."""
    return [
        go.Scatter(
            x=[st["gain_aware"][0]],
            y=[100 * st["gain_aware"][1]],
            mode="markers",
            name="gain-aware (price γ)",
            marker={"symbol": "square", "size": 12, "color": "#2ca02c"},
        ),
        go.Scatter(
            x=[st["cascade"][0]],
            y=[100 * st["cascade"][1]],
            mode="markers",
            name="cascade (thresholds)",
            marker={
                "symbol": "star",
                "size": 15,
                "color": "gold",
                "line": {"width": 1, "color": "black"},
            },
        ),
    ]


def _restyle(st: dict, tiers: tuple[str, ...], which: list[int]) -> dict:
    traces = _state_traces(st, tiers)
    return {"x": [list(traces[i].x) for i in which], "y": [list(traces[i].y) for i in which]}


def explorer_slider_figure(
    explorer: DeliveryExplorer, parameter: str, values: np.ndarray, fixed: dict, label: str
) -> go.Figure:
    """Static version of the explorer: one slider over ``parameter`` (others at ``fixed``).

    Every state is precomputed; all traces (frontier, curve, points, shares) follow the slider.
    """
    states = [explorer.state(**{**fixed, parameter: float(v)}) for v in values]
    fig = explorer.figure(
        **{**fixed, parameter: float(values[0])}
    )  # traces restyled to the active state
    which = list(range(len(fig.data)))
    data = [
        (f"{v:.3g}", _restyle(s, explorer.tiers, which))
        for v, s in zip(values, states, strict=True)
    ]
    all_x = np.concatenate(
        [np.r_[s["frontier"].latency_ms, s["single"].latency_ms] for s in states]
    )
    fig.update_xaxes(range=[0, 1.05 * all_x.max()], row=1, col=1)
    active = int(
        np.argmin(np.abs(np.asarray(values, float) - float(fixed.get(parameter, values[0]))))
    )
    return slider_figure(fig, data, len(which), label, active=active)
