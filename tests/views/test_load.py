"""Tests of idn_core.views.load: the busy network's static figures, on small frames."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from idn_core.views import (
    capacity_region_figure,
    knee_figure,
    load_policy_figure,
    policy_rate_slider_figure,
    simpy_check_figure,
    varying_rate_figure,
)

from .figure_checks import apply_step, assert_static_controls_are_honest, values

POLICIES = ("fixed", "best static", "feedback")


def comparison() -> pd.DataFrame:
    rows = []
    for i, f in enumerate((0.5, 0.9, 1.2)):
        for j, p in enumerate(POLICIES):
            acc = 0.99 - (0.5 * i * (p == "fixed")) - 0.01 * j
            rows.append(
                {
                    "factor": f,
                    "policy": p,
                    "on_time_accuracy": acc,
                    "anytime_accuracy": acc + 0.005 * i,
                }
            )
    return pd.DataFrame(rows)


def test_slider_opens_on_the_plotted_rate_and_every_step_changes_the_bars():
    table = comparison()
    fig = policy_rate_slider_figure(table, active=2)
    assert_static_controls_are_honest(fig)
    at_12 = table[table.factor == 1.2]
    assert np.allclose(values(fig.data[0]), 100 * at_12.on_time_accuracy)
    state = apply_step(fig, fig.layout.sliders[0].steps[0])
    assert np.allclose(state["data"][0]["y"], 100 * table[table.factor == 0.5].on_time_accuracy)
    with pytest.raises(ValueError, match="active"):
        policy_rate_slider_figure(table, active=3)


def test_policy_figure_buttons_switch_between_plain_and_anytime():
    table = comparison()
    fig = load_policy_figure(table)
    assert [t.name for t in fig.data] == list(POLICIES)
    assert_static_controls_are_honest(fig)
    state = apply_step(fig, fig.layout.updatemenus[0].buttons[1])
    fixed = table[table.policy == "fixed"]
    assert np.allclose(state["data"][0]["y"], 100 * fixed.anytime_accuracy)


def test_capacity_region_is_the_largest_factor_above_the_level():
    fig = capacity_region_figure(comparison(), level=0.95)
    assert list(fig.data[0].x) == list(POLICIES)
    assert list(fig.data[0].y) == [0.5, 1.2, 1.2]  # fixed drops below 95 % past 0.5
    with pytest.raises(ValueError, match="level"):
        capacity_region_figure(comparison(), level=1.5)


def test_knee_and_varying_rate_and_simpy_figures_plot_their_inputs():
    knee = pd.DataFrame(
        {
            "factor": [0.5, 1.0, 0.5, 1.0],
            "tier": ["device", "device", "edge", "edge"],
            "mean_s": [0.001, 0.002, 0.01, 0.2],
            "p95_s": [0.002, 0.003, 0.012, 0.4],
            "utilisation": [0.2, 0.4, 0.5, 1.0],
        }
    )
    fig = knee_figure(knee, 0.05)
    assert np.allclose(values(fig.data[3]), [10.0, 200.0])  # edge mean in ms
    frame = pd.DataFrame(
        {"time_s": [0.5, 1.5], "factor": [0.6, 1.4], "fixed": [0.99, 0.3],
         "feedback": [0.99, 0.97], "feedback_share": [0.6, 0.4]}
    )  # fmt: skip
    fig = varying_rate_figure(frame)
    assert np.allclose(values(fig.data[3]), [99.0, 97.0])
    fig = simpy_check_figure(np.array([1.0, 2.0]), np.array([1.0, 2.0 + 1e-12]))
    assert values(fig.data[1]).max() == pytest.approx(1e-12, rel=1e-3)
    with pytest.raises(ValueError, match="engine_s"):
        simpy_check_figure(np.array([1.0]), np.array([1.0, 2.0]))
    with pytest.raises(ValueError, match="tiers"):
        knee_figure(knee.drop(columns="p95_s"), 0.05)
    with pytest.raises(TypeError, match="frame"):
        varying_rate_figure([1, 2])
