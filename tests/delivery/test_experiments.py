"""Tests of chapter 2's experiment helpers, figures and explorer on the quick CI scenario."""

from __future__ import annotations

import numpy as np
import pytest

from idn_core.delivery import cascade_decision, evaluate, summarize
from idn_core.delivery import diagnostics as diag
from idn_core.delivery import experiments as dx
from idn_core.network import load_scenario
from idn_core.views import DeliveryExplorer, explorer_slider_figure


@pytest.fixture(scope="module")
def quick():
    scenario = load_scenario(num_samples=3000, epochs=3, progress=False)
    return scenario, dx.prepare_delivery(scenario, n_requests=5000, seed=1, learned=False)


def test_explorer_state_matches_the_per_request_evaluator(quick):
    scenario, setup = quick
    explorer = DeliveryExplorer(scenario, setup, n_grid=10)
    conf = setup.conf_test["max_prob calibrated"]

    state = explorer.state(0.6, 0.4)  # default link latencies: the scenario's own

    row = summarize(
        evaluate(cascade_decision(conf, [0.6, 0.4]), scenario.test, setup.requests, setup.latency)
    )
    assert state["cascade"] == pytest.approx((row["latency_ms"], row["accuracy"]))
    assert state["shares"].sum() == pytest.approx(1.0)


def test_explorer_updates_its_figure_in_place_and_link_latency_moves_the_cloud(quick):
    scenario, setup = quick
    explorer = DeliveryExplorer(scenario, setup, n_grid=10)

    first = explorer.update(0.5, 0.5)
    second = explorer.update(0.5, 0.5, edge_ms=30.0)

    assert first is second
    cloud_x = second.data[2].x[-1]
    assert cloud_x == pytest.approx(setup.cloud_latency_ms + 2 * (30.0 - 10.0), rel=1e-6)


def test_slider_figure_has_one_step_per_value_and_starts_at_the_fixed_value(quick):
    scenario, setup = quick
    explorer = DeliveryExplorer(scenario, setup, n_grid=10)
    values = np.array([2.5, 10.0, 20.0])

    fig = explorer_slider_figure(
        explorer, "edge_ms", values, {"t_device": 0.5, "t_edge": 0.5, "edge_ms": 10.0}, "ms: "
    )

    slider = fig.layout.sliders[0]
    assert len(slider.steps) == 3 and slider.active == 1
    assert list(fig.data[2].x) == slider.steps[1].args[0]["x"][2]


def test_choices_respect_the_tolerance_on_validation(quick):
    _, setup = quick

    choices = dx.choose_policies(setup, 0.005, n_grid=20, alphas=np.geomspace(1e-4, 1e-1, 7))

    assert (choices.val_gap_lcb >= -0.005 - 1e-12).all()
    assert choices.chosen.sum() >= 1
    head = dx.headline(setup, choices)
    assert 0 <= head["oracle_latency_ratio"] <= 1


def test_tolerance_coverage_reports_each_rule(quick):
    scenario, setup = quick

    cov = diag.tolerance_coverage(scenario, setup, 0.005, n_splits=3, n_grid=15)

    assert cov.rule.tolist() == ["naive", "prediction bound", "bound + bootstrap"]
    assert ((cov.coverage >= 0) & (cov.coverage <= 1)).all()
    # a stricter rule never chooses a cheaper setting on average
    assert cov.mean_latency_ratio.iloc[0] <= cov.mean_latency_ratio.iloc[1] + 1e-9
