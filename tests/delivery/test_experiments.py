"""Tests of chapter 2's experiment helpers, figures and explorer on the quick CI scenario."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from idn_core.delivery import (
    Decision,
    GainAwareForwarding,
    cascade_decision,
    evaluate,
    forward_to,
    oracle_accuracy_at,
    summarize,
)
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


def path_cascade(conf: np.ndarray, thresholds, path: list[int], n_tiers: int) -> Decision:
    """A cascade over the tiers ``path`` written out: answer at the first hop whose
    confidence reaches its threshold (else the last tier; threshold 1 always forwards),
    querying the path up to it."""
    answer = np.full(conf.shape[1], len(path) - 1)
    for h in reversed(range(len(path) - 1)):
        answer = np.where((conf[h] >= thresholds[h]) & (thresholds[h] < 1), h, answer)
    queried = np.zeros((conf.shape[1], n_tiers), dtype=bool)
    for j, tier in enumerate(path):
        queried[:, tier] = answer >= j
    return Decision(queried, np.asarray(path)[answer])


def reference_metrics(setup, decision) -> tuple[float, float]:
    """Test accuracy and mean latency of ``decision`` by the per-request evaluator."""
    row = summarize(evaluate(decision, setup.test, setup.requests, setup.latency))
    return row["accuracy"], row["latency_ms"]


def test_oracle_test_frontier_spans_local_only_to_the_oracle_on_the_requests(quick):
    _, setup = quick

    front = dx.oracle_test_frontier(setup)

    sample = setup.requests.sample
    correct = setup.test.correct()
    local = reference_metrics(setup, forward_to(0, setup.test.n_samples, setup.test.n_models))
    assert (front.accuracy.iloc[0], front.latency_ms.iloc[0]) == pytest.approx(local)
    assert front.accuracy.iloc[-1] == pytest.approx(correct.any(axis=0)[sample].mean())
    assert front.latency_ms.is_monotonic_increasing and front.accuracy.is_monotonic_increasing
    # concave: each extra ms buys less accuracy than the one before
    slope = np.diff(front.accuracy) / np.maximum(np.diff(front.latency_ms), 1e-12)
    assert (np.diff(slope) <= 1e-9).all()


@pytest.mark.parametrize("tiers", [None, (0, 2)])
def test_family_curve_rows_match_the_per_request_evaluator_and_stay_under_the_oracle(quick, tiers):
    _, setup = quick
    family = "max_prob calibrated"

    curve = dx.family_curve(setup, family, tiers, n_grid=15)

    front = dx.oracle_test_frontier(setup)
    path = list(tiers or range(setup.test.n_models))
    conf = setup.conf_test[family][path[:-1]]
    for _, row in curve.iterrows():
        thresholds = [row[f"t{h}"] for h in range(len(path) - 1)]
        decision = path_cascade(conf, thresholds, path, setup.test.n_models)
        assert (row.accuracy, row.latency_ms) == pytest.approx(reference_metrics(setup, decision))
        assert row.accuracy <= oracle_accuracy_at(front, row.latency_ms) + 1e-9
    assert curve.forwarded.min() == 0 and curve.forwarded.max() > 0.5  # local-only and beyond


def test_gain_aware_curve_matches_the_evaluator_and_forwards_less_as_alpha_grows(quick):
    _, setup = quick
    alphas = np.array([0.0, 1e-3, 1e-2, 1e-1])

    curve = dx.gain_aware_curve(setup, alphas)

    assert curve.groupby("alpha").split.apply(list).tolist() == [["val", "test"]] * 4
    test = curve[curve.split == "test"].set_index("alpha")
    front = dx.oracle_test_frontier(setup)
    lat_row = setup.latency.answer_latency_ms().mean(axis=0, keepdims=True)
    family = "max_prob calibrated"
    h = setup.test.n_models - 1
    for alpha, row in test.iterrows():
        rule = GainAwareForwarding(alpha).fit(
            setup.conf_val[family][:h], setup.val.correct(), lat_row
        )
        decision = rule.decide(setup.conf_test[family][:h])
        assert (row.accuracy, row.latency_ms) == pytest.approx(reference_metrics(setup, decision))
        assert row.accuracy <= oracle_accuracy_at(front, row.latency_ms) + 1e-9
    assert test.forwarded.is_monotonic_decreasing
    assert test.forwarded.iloc[0] > 0.5 and test.forwarded.iloc[-1] == 0  # alpha 0.1 stays local
    cloud = setup.test.correct()[-1][setup.requests.sample].mean()
    assert test.gap.tolist() == pytest.approx((test.accuracy - cloud).tolist())


def test_what_if_perfect_hops_capture_more_than_the_real_cascade(quick):
    scenario, setup = quick

    out = diag.what_if(scenario, setup, tolerance=0.005)

    names = list(scenario.zoo.models)
    x, y = scenario.zoo.dataset.split("test")
    acc = {
        n: float((m.predict_logits(x).argmax(1) == y).mean())
        for n, m in scenario.zoo.models.items()
    }
    assert out["regional_as_edge_acc"] == pytest.approx(
        [acc[names[0]], acc[names[2]], acc[names[3]]], abs=1e-4
    )
    assert out["edge_as_device_regional_as_edge_acc"] == pytest.approx(
        [acc[names[1]], acc[names[2]], acc[names[3]]], abs=1e-4
    )
    # the real cascade, chosen by the same rule on the same requests
    real = dx.cascade_choice(setup, "max_prob calibrated", 0.005, 100)
    head = dx.headline(setup, pd.DataFrame([{**real, "chosen": True, "gap_pp": 0.0}]))
    captured = head["oracle_savings_captured"]
    for key in ("perfect_device_hop", "perfect_edge_hop"):
        assert captured < out[key] <= 1.0, key
