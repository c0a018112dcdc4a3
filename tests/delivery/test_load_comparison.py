"""The load comparison on the quick CI scenario: the reference rate fills the edge, and
feedback beats fixed thresholds in overload."""

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
from idn_core.network import load_scenario


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
