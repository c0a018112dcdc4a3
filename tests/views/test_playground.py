"""Tests of idn_core.views.playground: chapter 7's sweep and its static figure."""

from __future__ import annotations

import pytest

from idn_core.delivery import Playground
from idn_core.network import load_scenario
from idn_core.views import PlaygroundSweep, playground_figure, playground_sweep

from .figure_checks import apply_step, assert_static_controls_are_honest

THRESHOLDS, UPLINKS = [0.0, 0.5, 1.0], [10.0, 80.0]


@pytest.fixture(scope="module")
def pg() -> Playground:
    scenario = load_scenario(num_samples=3000, epochs=3, progress=False)
    return Playground(scenario, n_requests=2000, seed=1)


@pytest.fixture(scope="module")
def sweep(pg) -> PlaygroundSweep:
    return playground_sweep(pg, THRESHOLDS, UPLINKS)


def with_edge_uplinks(pg: Playground, ms: float):
    topo = pg.topology
    for node in ("edge-0", "edge-1"):
        topo = pg.with_uplink_latency(node, ms, topo)
    return topo


def test_sweep_runs_the_cascade_at_every_threshold_with_every_edge_uplink(pg, sweep) -> None:
    slow = with_edge_uplinks(pg, 80.0)

    expected = [pg.run(slow, threshold=t).summary for t in THRESHOLDS]

    assert [r.summary for r in sweep.results[1]] == expected
    assert sweep.thresholds == (0.0, 0.5, 1.0) and sweep.uplinks_ms == (10.0, 80.0)
    assert sweep.results[0][0].summary["forwarded"] == 0  # threshold 0 answers locally
    assert list(sweep.references[1]) == ["local", "cloud", "gain-aware", "oracle"]
    assert sweep.references[1]["cloud"].summary == pg.run(slow, policy="cloud").summary


def test_sweep_refuses_empty_grids_a_tier_without_uplinks_and_negative_latency(pg) -> None:
    with pytest.raises(ValueError, match="at least one"):
        playground_sweep(pg, [], UPLINKS)
    with pytest.raises(ValueError, match="tier 'cloud'"):
        playground_sweep(pg, THRESHOLDS, UPLINKS, tier="cloud")
    with pytest.raises(ValueError, match="uplink latency"):
        playground_sweep(pg, THRESHOLDS, [-1.0])


def test_playground_figure_draws_loads_and_tradeoff_of_the_active_threshold(sweep) -> None:
    fig = playground_figure(sweep, active=2)

    load, answered, cascade, others, marker = fig.data[:5]
    run = sweep.results[0][2]
    assert list(load.x) == run.per_node.node.tolist()
    assert list(load.y) == pytest.approx(run.per_node.load.tolist())
    assert list(answered.y) == pytest.approx(run.per_node.answered.tolist())
    assert list(cascade.x) == pytest.approx([r.summary["latency_ms"] for r in sweep.results[0]])
    assert list(others.text) == ["local", "cloud", "gain-aware", "oracle"]
    assert (marker.x[0], marker.y[0]) == pytest.approx(
        (run.summary["latency_ms"], run.summary["accuracy"])
    )
    assert [t.visible for t in fig.data] == [True] * 5 + [False] * 5
    assert fig.layout.xaxis2.title.text == "mean latency (ms)"
    assert fig.layout.yaxis2.title.text == "test accuracy"


@pytest.mark.parametrize("active", [None, 0, 2])
def test_playground_figure_slider_and_buttons_open_at_the_plotted_state(sweep, active) -> None:
    fig = playground_figure(sweep, active=active)

    assert_static_controls_are_honest(fig)


def test_playground_figure_threshold_step_moves_every_latency_groups_marker(sweep) -> None:
    fig = playground_figure(sweep, active=0)

    data = apply_step(fig, fig.layout.sliders[0].steps[1])["data"]

    for g, runs in enumerate(sweep.results):
        assert data[5 * g + 4]["y"] == pytest.approx([runs[1].summary["accuracy"]])
        assert data[5 * g]["y"] == pytest.approx(runs[1].per_node.load.tolist())


def test_playground_figure_keeps_its_legend_after_each_latency_button(sweep) -> None:
    fig = playground_figure(sweep)

    for button in fig.layout.updatemenus[0].buttons:
        data = apply_step(fig, button)["data"]
        legend = [t["name"] for t in data if t["visible"] is True and t.get("showlegend", True)]
        assert legend, f"no legend entry after {button.label!r}"
