"""Tests of idn_core.views.scenario: signals, tree layout, topology, zoo and tier trade-off figures."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from idn_core.learning import Dataset
from idn_core.network import Link, Node, Placement, Topology
from idn_core.views import (
    signals_figure,
    tier_tradeoff_figure,
    topology_figure,
    tree_layout,
    zoo_figure,
)
from idn_core.views.scenario import TIER_COLORS

from .figure_checks import (
    apply_step,
    assert_active_steps_match,
    assert_static_controls_are_honest,
    values,
)


def small_topology() -> Topology:
    nodes = [
        Node("device-0", "device", 4.0, 0.05),
        Node("device-1", "device", 4.0, 0.05),
        Node("edge-0", "edge", 128.0, 2.0),
        Node("cloud", "cloud", 1e6, 50.0),
    ]
    links = [
        Link("device-0", "edge-0", 5),
        Link("device-1", "edge-0", 7),
        Link("edge-0", "cloud", 25),
    ]
    return Topology(nodes, links)


def small_dataset(n_per_class: int = 3, length: int = 8) -> Dataset:
    rng = np.random.default_rng(0)
    y = np.repeat(np.arange(10), n_per_class)
    x = rng.normal(size=(y.size, length)).astype(np.float32) + y[:, None]
    return Dataset("toy", x, y, x[:10], y[:10], x[:10], y[:10], 10)


def zoo_table() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "tier": ["device", "edge", "cloud"],
            "params": [300, 15000, 220000],
            "flops": [600.0, 3e4, 4.4e5],
            "memory_kb": [1.2, 58.0, 870.0],
            "cpu_latency_ms": [0.05, 0.3, 1.9],
            "test_acc": [0.26, 0.46, 0.67],
        },
        index=pd.Index(["cnn-device", "cnn-edge", "cnn-cloud"], name="model"),
    )


def tier_summary(edge_cloud_ms: float) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "tier": ["device", "edge", "cloud"],
            "model": ["cnn-device", "cnn-edge", "cnn-cloud"],
            "accuracy": [0.26, 0.46, 0.67],
            "latency_ms": [0.1, 10.2, 10.2 + 2 * edge_cloud_ms],
        }
    )


# ---------------------------------------------------------------- signals_figure
def test_signals_figure_draws_one_training_signal_of_each_class_in_its_panel() -> None:
    data = small_dataset()

    fig = signals_figure(data, seed=3)

    assert len(fig.data) == 10
    assert [a.text for a in fig.layout.annotations] == [f"class {c}" for c in range(10)]
    for c, trace in enumerate(fig.data):
        own = data.x_train[data.y_train == c]
        assert any(np.array_equal(values(trace), signal) for signal in own), f"class {c}"
        assert trace.xaxis == ("x" if c == 0 else f"x{c + 1}")


def test_signals_figure_seed_chooses_which_signals() -> None:
    data = small_dataset(n_per_class=20)

    figs = [signals_figure(data, seed=s) for s in (0, 1)]

    picked = [[tuple(values(t)) for t in f.data] for f in figs]
    assert picked[0] != picked[1]


# ---------------------------------------------------------------- tree_layout
def test_tree_layout_puts_tiers_on_rows_and_parents_above_their_children() -> None:
    topo = small_topology()

    pos = tree_layout(topo)

    assert pos == {
        "device-0": (0.0, 0.0),
        "device-1": (1.0, 0.0),
        "edge-0": (0.5, 1.0),
        "cloud": (0.5, 2.0),
    }


# ---------------------------------------------------------------- topology_figure
def test_topology_figure_draws_links_and_one_trace_per_tier_at_the_layout_positions() -> None:
    topo = small_topology()
    pos = tree_layout(topo)

    fig = topology_figure(topo)

    links, tiers = fig.data[:3], fig.data[3:]
    assert [t.name for t in tiers] == ["device", "edge", "cloud"]
    for trace in tiers:
        assert trace.marker.color == TIER_COLORS[trace.name]
        for name, x, y in zip(trace.text, trace.x, trace.y, strict=True):
            assert (x, y) == pos[name]
    assert all(t.showlegend is False for t in links)
    assert sorted(a.text for a in fig.layout.annotations) == ["25 ms", "5 ms", "7 ms"]
    assert fig.layout.legend.title.text == "tier"


def test_topology_figure_hover_lists_memory_and_placed_models() -> None:
    topo = small_topology()
    placement = Placement(topo, {"edge-0": ["cnn-edge"], "cloud": ["cnn-cloud"]},
                          {"cnn-edge": 58.0, "cnn-cloud": 870.0})  # fmt: skip

    fig = topology_figure(topo, placement)

    hover = {name: h for t in fig.data[3:] for name, h in zip(t.text, t.hovertext, strict=True)}
    assert "memory 128 KiB" in hover["edge-0"] and "models: cnn-edge" in hover["edge-0"]
    assert "models: none" in hover["device-0"]
    assert "models" not in topology_figure(topo).data[4].hovertext[0]


# ---------------------------------------------------------------- zoo_figure
def test_zoo_figure_plots_each_model_at_its_flops_and_accuracy() -> None:
    table = zoo_table()

    fig = zoo_figure(table)

    assert [t.name for t in fig.data] == [
        "cnn-device (device)",
        "cnn-edge (edge)",
        "cnn-cloud (cloud)",
    ]
    assert [t.x[0] for t in fig.data] == table.flops.tolist()
    assert [t.y[0] for t in fig.data] == table.test_acc.tolist()
    assert fig.layout.xaxis.type == "log"
    assert fig.layout.xaxis.title.text == "FLOPs per sample"
    assert fig.layout.yaxis.title.text == "test accuracy"


def test_zoo_figure_buttons_switch_the_cost_axis_to_each_column() -> None:
    table = zoo_table()

    fig = zoo_figure(table)

    buttons = fig.layout.updatemenus[0].buttons
    assert [b.label for b in buttons][2] == "memory (KiB)"
    state = apply_step(fig, buttons[2])
    assert [t["x"] for t in state["data"]] == [[v] for v in table.memory_kb]
    assert state["layout"]["xaxis"]["title"]["text"] == "memory (KiB)"
    assert "ms" in buttons[3].label
    assert_static_controls_are_honest(fig)


# ---------------------------------------------------------------- tier_tradeoff_figure
def test_tier_tradeoff_plots_the_first_what_if_and_labels_each_tier() -> None:
    summaries = {ms: tier_summary(ms) for ms in (2.5, 10.0, 20.0)}

    fig = tier_tradeoff_figure(summaries, "edge-cloud latency (ms)")

    (trace,) = fig.data
    assert list(trace.x) == summaries[2.5].latency_ms.tolist()
    assert list(trace.y) == summaries[2.5].accuracy.tolist()
    assert list(trace.text) == ["device-only", "edge-only", "cloud-only"]
    assert fig.layout.xaxis.title.text == "mean latency (ms)"
    assert fig.layout.xaxis.range[1] == pytest.approx(1.1 * summaries[20.0].latency_ms.max())
    steps = fig.layout.sliders[0].steps
    assert [s.label for s in steps] == ["2.5", "10", "20"]
    assert steps[2].args[0]["x"] == [summaries[20.0].latency_ms.tolist()]
    assert fig.layout.sliders[0].currentvalue.prefix == "edge-cloud latency (ms): "


def test_tier_tradeoff_slider_without_active_is_honest() -> None:
    summaries = {ms: tier_summary(ms) for ms in (2.5, 10.0, 20.0)}

    fig = tier_tradeoff_figure(summaries, "edge-cloud latency (ms)")

    assert_static_controls_are_honest(fig)


def test_tier_tradeoff_plots_the_active_what_if() -> None:
    summaries = {ms: tier_summary(ms) for ms in (2.5, 10.0, 20.0)}

    fig = tier_tradeoff_figure(summaries, "edge-cloud latency (ms)", active=10.0)

    assert list(fig.data[0].x) == summaries[10.0].latency_ms.tolist()
    assert list(fig.data[0].y) == summaries[10.0].accuracy.tolist()


def test_tier_tradeoff_slider_opens_at_the_active_what_if() -> None:
    summaries = {ms: tier_summary(ms) for ms in (2.5, 10.0, 20.0)}

    fig = tier_tradeoff_figure(summaries, "edge-cloud latency (ms)", active=10.0)

    assert_active_steps_match(fig)
    assert fig.layout.sliders[0].active == 1  # chapter 1 used to open at "2.5" showing 10 ms
    assert fig.data[0].cliponaxis is False  # the "device-only" label at x ~ 0 stays visible
