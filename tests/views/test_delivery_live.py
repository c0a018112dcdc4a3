"""Tests of idn_core.views.delivery_live: chapter 2's explorer, its static sliders and widget."""

from __future__ import annotations

import numpy as np
import pytest

from idn_core.delivery import cascade_decision, evaluate, prepare_delivery, summarize
from idn_core.network import load_scenario
from idn_core.views import DeliveryExplorer, explorer_slider_figure

from .figure_checks import apply_step, assert_static_controls_are_honest, values

FIXED = {"t_device": 0.6, "t_edge": 0.5, "device_ms": 5.0, "edge_ms": 10.0, "alpha": 1e-3}


@pytest.fixture(scope="module")
def quick():
    scenario = load_scenario(num_samples=3000, epochs=3, progress=False)
    return scenario, prepare_delivery(scenario, n_requests=2000, seed=1, learned=False)


@pytest.fixture
def explorer(quick) -> DeliveryExplorer:
    scenario, setup = quick
    return DeliveryExplorer(scenario, setup, n_grid=8)


def test_explorer_figure_draws_the_state_of_its_arguments(explorer, quick) -> None:
    scenario, setup = quick

    fig = explorer.figure(0.6, 0.5)

    names = [t.name for t in fig.data[:5]]
    assert names == [
        "oracle frontier",
        "threshold cascade (Pareto)",
        "single tiers",
        "gain-aware (price γ)",
        "cascade (thresholds)",
    ]
    conf = setup.conf_test["max_prob calibrated"]
    row = summarize(
        evaluate(cascade_decision(conf, [0.6, 0.5]), scenario.test, setup.requests, setup.latency)
    )
    star = fig.data[4]
    assert (star.x[0], star.y[0]) == pytest.approx((row["latency_ms"], 100 * row["accuracy"]))
    shares = fig.data[5]
    assert list(shares.x) == list(setup.latency.tiers)
    assert values(shares).sum() == pytest.approx(1.0)
    assert list(fig.data[2].text) == [f"{t} only" for t in setup.latency.tiers]
    assert fig.layout.xaxis.title.text == "mean latency (ms)"
    assert fig.layout.yaxis.title.text == "accuracy (%)"
    assert fig.layout.yaxis2.title.text == "share of requests"


@pytest.mark.parametrize(
    ("parameter", "grid"),
    [("t_device", [0.2, 0.6, 0.95]), ("edge_ms", [2.5, 10.0, 40.0]), ("alpha", [1e-5, 1e-3, 1e-1])],
)
def test_explorer_slider_opens_at_the_fixed_value_and_each_step_shows_its_state(
    explorer, parameter: str, grid: list[float]
) -> None:
    fig = explorer_slider_figure(explorer, parameter, np.array(grid), FIXED, "value: ")

    slider = fig.layout.sliders[0]
    assert slider.active == 1
    assert_static_controls_are_honest(fig)
    last = explorer.state(**{**FIXED, parameter: grid[2]})
    moved = apply_step(fig, slider.steps[2])["data"]
    assert moved[4]["x"] == pytest.approx([last["cascade"][0]])
    assert moved[3]["y"] == pytest.approx([100 * last["gain_aware"][1]])
    assert moved[5]["y"] == pytest.approx(list(last["shares"]))


def test_explorer_slider_range_covers_every_state(explorer) -> None:
    grid = np.array([2.5, 40.0])

    fig = explorer_slider_figure(explorer, "edge_ms", grid, FIXED, "ms: ")

    slowest = max(
        explorer.state(**{**FIXED, "edge_ms": v})["single"].latency_ms.max() for v in grid
    )
    assert fig.layout.xaxis.range[1] >= slowest


def sliders_of(box) -> dict:
    return {s.description: s for row in box.children[:2] for s in row.children}


def test_explorer_widget_redraws_the_figure_for_the_moved_slider(explorer, shown) -> None:
    box = explorer.widget()
    shown.figures.clear()

    sliders_of(box)["device thr."].value = 0.3

    (fig,) = shown.figures
    state = explorer.state(0.3, 0.85, 5.0, 10.0, 1e-3)
    assert (fig.data[4].x[0], fig.data[4].y[0]) == pytest.approx(
        (state["cascade"][0], 100 * state["cascade"][1])
    )
    assert list(fig.data[5].y) == pytest.approx(list(state["shares"]))


def test_explorer_widget_errors_surface(explorer, shown, monkeypatch) -> None:
    box = explorer.widget()

    def broken(*args, **kwargs):
        raise RuntimeError("state failed")

    monkeypatch.setattr(explorer, "state", broken)
    with pytest.raises(RuntimeError, match="state failed"):
        sliders_of(box)["edge→cloud ms"].value = 20.0
