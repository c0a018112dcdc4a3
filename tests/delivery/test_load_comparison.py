"""The load comparison on the quick CI scenario: the reference rate fills the edge, and
feedback beats fixed thresholds in overload; on the graded four-tier scenario every tier
of its path is labelled and the reference rate fills its busiest node."""

from __future__ import annotations

import numpy as np
import pytest

from idn_core.delivery import (
    POLICIES_UNDER_LOAD,
    compare_under_load,
    prepare_load,
    stream_at,
    tier_response,
    varying_rate_run,
)
from idn_core.delivery import experiments as dx
from idn_core.network import load_named_scenario, load_scenario


@pytest.fixture(scope="module")
def quick_load():
    scenario = load_scenario(num_samples=3000, epochs=3, progress=False)
    setup = dx.prepare_delivery(scenario, n_requests=2000, seed=1, learned=False)
    return prepare_load(scenario, setup, np.array([0.9, 0.9]), deadline_s=0.05)


def test_reference_rate_puts_the_busiest_node_at_the_load_factor(quick_load):
    frame = tier_response(quick_load, np.array([0.8]), duration_s=3.0, seed=2)
    busiest = frame.utilisation.max()
    assert busiest == pytest.approx(0.8, abs=0.05)
    assert quick_load.edge_capacity_per_s() == pytest.approx(
        1 / quick_load.network.service_s()[0, 1]
    )


def test_stream_follows_its_rate_and_draws_from_the_split(quick_load):
    req = stream_at(quick_load, 0.5, 2.0, seed=0)
    expected = 0.5 * quick_load.reference_rate * 2.0 * len(quick_load.network.devices)
    assert len(req) == pytest.approx(expected, rel=0.05)
    val = stream_at(quick_load, 0.5, 1.0, seed=0, split="val")
    assert val.n_samples == quick_load.val.n_samples
    with pytest.raises(ValueError, match="factor"):
        stream_at(quick_load, -1.0, 1.0, seed=0)


def test_feedback_beats_fixed_thresholds_in_overload(quick_load):
    table, best = compare_under_load(
        quick_load, factors=(0.5, 1.3), duration_s=1.0, seed=0, grid_steps=4
    )
    assert set(table.policy) == set(POLICIES_UNDER_LOAD) and len(best) == 2
    acc = table.pivot(index="factor", columns="policy", values="on_time_accuracy")
    assert acc.loc[1.3, "feedback"] > acc.loc[1.3, "fixed"]
    assert acc.loc[0.5, "feedback"] == pytest.approx(acc.loc[0.5, "fixed"])


def test_varying_rate_run_reports_windows(quick_load):
    frame = varying_rate_run(quick_load, lambda t: 0.6 + 0.8 * (t > 1.0), 2.0, 0.5, seed=0)
    assert len(frame) == 4
    assert np.allclose(frame.factor, [0.6, 0.6, 1.4, 1.4])
    assert frame.feedback.iloc[-1] >= frame.fixed.iloc[-1]


def test_tiers_come_from_the_scenario_and_the_running_scenario_is_unchanged(quick_load):
    assert quick_load.tiers == ("device", "edge", "cloud")
    frame = tier_response(quick_load, np.array([0.8]), duration_s=1.0, seed=2)
    assert frame.tier.tolist() == ["device", "edge", "cloud"]
    named = load_named_scenario(num_samples=3000, epochs=3, progress=False)
    setup = dx.prepare_delivery(named, n_requests=2000, seed=1, learned=False)
    again = prepare_load(named, setup, np.array([0.9, 0.9]), deadline_s=0.05)
    assert again.reference_rate == quick_load.reference_rate
    assert np.array_equal(again.conf_test, quick_load.conf_test)


@pytest.fixture(scope="module")
def graded():
    scenario = load_named_scenario("graded-four-tier", num_samples=2000, epochs=3, progress=False)
    return scenario, dx.prepare_delivery(scenario, n_requests=2000, seed=1, learned=False)


def test_four_tier_path_labels_every_tier_and_fills_its_busiest_node(graded):
    scenario, setup = graded
    ls = prepare_load(scenario, setup, np.array([0.9, 0.9, 0.9]), deadline_s=0.05)
    assert ls.tiers == ("device", "edge", "regional", "cloud")
    frame = tier_response(ls, np.array([0.8]), duration_s=3.0, seed=2)
    assert frame.tier.tolist() == ["device", "edge", "regional", "cloud"]
    assert frame.utilisation.max() == pytest.approx(0.8, abs=0.05)


def test_setup_of_another_scenario_is_refused(graded, quick_load):
    scenario, _ = graded
    three = load_scenario(num_samples=3000, epochs=3, progress=False)
    setup = dx.prepare_delivery(three, n_requests=500, seed=1, learned=False)
    with pytest.raises(ValueError, match="tiers"):
        prepare_load(scenario, setup, np.array([0.9, 0.9]))
    with pytest.raises(TypeError, match="scenario"):
        prepare_load("published-noise", setup, np.array([0.9, 0.9]))
