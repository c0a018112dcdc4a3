"""Tests of idn_core.views.ensembles: chapter 3's trade-off, bagging and boosting figures."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from idn_core.ensembles import ComparisonNumbers, EnsembleComparison
from idn_core.views import (
    bagging_figure,
    boosting_figure,
    ensemble_load_figure,
    ensemble_tradeoff_figure,
)

from .figure_checks import apply_step, assert_static_controls_are_honest, values


def comparison(budget_ms: float = 12.0) -> EnsembleComparison:
    """Two fronts and three families of points, small enough to check by hand."""
    front = {
        "cascade": pd.DataFrame(
            {"latency_ms": [2.0, 8.0, 14.0], "accuracy": [0.40, 0.55, 0.62],
             "models_queried": [1.1, 1.5, 2.0]}
        ),
        "ensemble cascade (soft vote)": pd.DataFrame(
            {"latency_ms": [4.0, 11.0, 25.0], "accuracy": [0.45, 0.60, 0.70],
             "models_queried": [1.3, 2.4, 4.0]}
        ),
    }  # fmt: skip
    points = pd.DataFrame(
        {
            "family": ["single model", "single model", "cascade", "boosting"],
            "policy": ["device only", "cloud only", "best cascade at budget", "exact early stop"],
            "accuracy": [0.26, 0.67, 0.58, 0.50],
            "latency_ms": [0.1, 30.0, 12.0, 9.0],
            "models_queried": [1.0, 1.0, 1.6, 2.2],
        }
    )
    oracle = pd.DataFrame({"latency_ms": [0.1, 10.0, 20.0], "accuracy": [0.5, 0.7, 0.75]})
    numbers = ComparisonNumbers(
        budget_ms=budget_ms,
        cloud_acc=0.67,
        reference_family="max_prob",
        reference_cascade_acc=0.58,
        best_cascade_acc=0.58,
        best_ensemble_acc=0.60,
        best_ensemble_rule="soft vote",
        best_ensemble_latency_ms=11.0,
        ensemble_gain_pp=2.0,
        combine_vs_replace_pp=0.0,
        forwarded_fraction=0.5,
        oracle_acc_at_budget=0.72,
    )
    return EnsembleComparison(points, front, oracle, budget_ms, numbers)


def test_ensemble_tradeoff_is_one_panel_with_one_trace_per_front_and_point_family() -> None:
    comp = comparison()

    fig = ensemble_tradeoff_figure(comp, n_steps=4)

    names = [t.name for t in fig.data]
    assert names == [
        "oracle",
        "cascade",
        "ensemble cascade (soft vote)",
        "single model (points)",
        "cascade (points)",
        "boosting (points)",
        "best within budget",
    ]
    assert len(names) == len(set(names)), "one legend entry per front or family"
    assert all(t.xaxis in (None, "x") for t in fig.data), "a single panel"
    assert not fig.layout.annotations, "no subplot titles to overlap"
    oracle, cascade = fig.data[:2]
    assert list(oracle.x) == [0.1, 10.0, 20.0] and oracle.line.dash == "dot"
    assert list(cascade.y) == [0.40, 0.55, 0.62]
    assert list(fig.data[3].x) == [0.1, 30.0]
    assert fig.layout.xaxis.title.text == "mean latency (ms)"
    assert fig.layout.yaxis.title.text == "test accuracy"


def test_ensemble_load_figure_puts_the_same_policies_against_models_queried() -> None:
    comp = comparison()

    fig = ensemble_load_figure(comp)

    names = [t.name for t in fig.data]
    assert "oracle" not in names and len(names) == len(set(names))
    assert list(fig.data[0].x) == [1.1, 1.5, 2.0] and list(fig.data[0].y) == [0.40, 0.55, 0.62]
    single = next(t for t in fig.data if t.name == "single model (points)")
    assert list(single.x) == [1.0, 1.0]
    assert fig.layout.xaxis.title.text == "models queried per request"
    assert not fig.layout.sliders


def test_ensemble_tradeoff_slider_opens_at_the_budget_and_marks_the_best_point_per_family() -> None:
    comp = comparison(budget_ms=12.0)

    fig = ensemble_tradeoff_figure(comp, n_steps=4)

    slider = fig.layout.sliders[0]
    assert slider.steps[slider.active].label == "12.0"
    marker = fig.data[-1]
    # Within 12 ms: boosting 0.50 (9 ms), cascade front 0.55 (8 ms) and point 0.58 (12 ms),
    # soft-vote front 0.60 (11 ms); single models are never marked.
    assert sorted(zip(marker.x, marker.y, strict=True)) == [(9.0, 0.50), (11.0, 0.60), (12.0, 0.58)]
    assert marker.mode == "markers", "labels in hover only: nothing piles up on the plot"
    assert sorted(marker.text) == [
        "boosting: 50.00%",
        "cascade: 58.00%",
        "ensemble cascade (soft vote): 60.00%",
    ]
    assert fig.layout.title.text == "budget 12.0 ms: the oracle reaches 71.00%"  # 0.7 + 0.2 * 0.05
    assert_static_controls_are_honest(fig)


def test_ensemble_tradeoff_smallest_budget_step_moves_the_budget_line() -> None:
    comp = comparison()

    fig = ensemble_tradeoff_figure(comp, n_steps=4)

    step = fig.layout.sliders[0].steps[0]
    state = apply_step(fig, step)
    (line,) = state["layout"]["shapes"]
    assert line["x0"] == pytest.approx(1.1)  # oracle's lowest latency + 1 ms
    assert state["data"][-1]["y"] == []  # nothing but single models fits in 1.1 ms


def test_bagging_figure_draws_a_band_and_mean_per_committee_and_the_skew_sweep() -> None:
    curves = {
        name: pd.DataFrame({"k": [1, 2, 3], "mean": m, "min": np.subtract(m, 0.02),
                            "max": np.add(m, 0.03)})
        for name, m in (("edge committee", [0.40, 0.45, 0.47]), ("cloud committee", [0.6, 0.63, 0.64]))
    }  # fmt: skip
    skew = pd.DataFrame(
        {"alpha": [0.1, 1.0, 100.0], "member_mean": [0.3, 0.4, 0.5], "member_best": [0.35, 0.45, 0.55],
         "ensemble_soft": [0.4, 0.5, 0.6], "ensemble_log": [0.41, 0.51, 0.61],
         "ensemble_hard": [0.38, 0.48, 0.58]}
    )  # fmt: skip

    fig = bagging_figure(curves, skew)

    assert len(fig.data) == 3 * 2 + 5
    upper, lower, mean = fig.data[3:6]
    assert list(upper.y) == pytest.approx([0.63, 0.66, 0.67])
    assert list(lower.y) == pytest.approx([0.58, 0.61, 0.62]) and lower.fill == "tonexty"
    assert mean.name == "cloud committee" and list(mean.y) == [0.6, 0.63, 0.64]
    sweep = fig.data[6:]
    assert [t.name for t in sweep] == [
        "mean member",
        "best member",
        "soft vote",
        "log vote",
        "hard vote",
    ]
    assert list(sweep[2].y) == skew.ensemble_soft.tolist() and sweep[2].xaxis == "x2"
    assert fig.layout.xaxis2.type == "log"
    assert fig.layout.xaxis.title.text == "members combined"
    assert fig.layout.xaxis2.title.text.startswith("Dirichlet concentration β")


def test_boosting_figure_puts_weights_on_bars_and_shares_on_the_second_axis() -> None:
    alphas, reach, acc = (
        np.array([1.2, 0.8, 0.5]),
        np.array([1.0, 0.4, 0.1]),
        np.array([0.3, 0.4, 0.6]),
    )

    fig = boosting_figure(alphas, reach, acc, ("m0", "m1", "m2"))

    bars, reached, accuracy = fig.data
    assert bars.type == "bar" and list(bars.x) == ["m0", "m1", "m2"]
    np.testing.assert_array_equal(values(bars), alphas)
    np.testing.assert_array_equal(values(reached), reach)
    np.testing.assert_array_equal(values(accuracy), acc)
    assert reached.yaxis == accuracy.yaxis == "y2"
    assert fig.layout.yaxis.title.text == "member weight w_k"
    assert bars.name == "SAMME member weight w_k"
    assert fig.layout.yaxis2.title.text == "share"
    assert fig.layout.xaxis.title.text == "member, in path order"
