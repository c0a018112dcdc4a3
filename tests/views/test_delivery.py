"""Tests of idn_core.views.delivery: chapter 2's static figures, on small synthetic inputs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest

from idn_core.delivery import CascadeGrid
from idn_core.views import (
    cascade_tradeoff_figure,
    confidence_histograms,
    gain_aware_alpha_figure,
    reliability_figure,
    slider_figure,
    threshold_heatmaps,
)

from .figure_checks import apply_step, assert_static_controls_are_honest, values

TIERS = ("device", "edge", "cloud")


def curve(points: list[tuple[float, float, int]]) -> pd.DataFrame:
    return pd.DataFrame(points, columns=["confidence", "accuracy", "count"])


def test_confidence_histograms_split_each_tier_into_right_and_wrong_answers() -> None:
    rng = np.random.default_rng(0)
    conf = rng.random((3, 50))
    correct = rng.random((3, 50)) < conf

    fig = confidence_histograms(conf, correct, TIERS, "max probability")

    assert len(fig.data) == 6
    for k in range(3):
        right, wrong = fig.data[2 * k], fig.data[2 * k + 1]
        assert (right.name, wrong.name) == ("right", "wrong")
        np.testing.assert_array_equal(values(right, "x"), conf[k][correct[k]])
        np.testing.assert_array_equal(values(wrong, "x"), conf[k][~correct[k]])
    assert [t.showlegend for t in fig.data] == [True, True] + [False] * 4
    assert [a.text for a in fig.layout.annotations] == ["device model", "edge model", "cloud model"]
    assert fig.layout.xaxis3.title.text == "confidence (max probability)"
    assert fig.layout.yaxis.title.text == "share of answers"


def test_reliability_figure_plots_raw_and_scaled_curves_with_ece_titles() -> None:
    before = {"device": curve([(0.3, 0.2, 10), (0.9, 0.6, 30)]), "cloud": curve([(0.5, 0.5, 5)])}
    after = {"device": curve([(0.3, 0.3, 12), (0.7, 0.65, 28)]), "cloud": curve([(0.5, 0.5, 5)])}
    ece = pd.DataFrame(
        {"tier": ["device", "cloud"], "before": [0.125, 0.02], "after": [0.03, 0.01]}
    )

    fig = reliability_figure(before, after, ece)

    assert [t.name for t in fig.data] == ["perfect calibration", "raw", "temperature-scaled"] * 2
    assert list(fig.data[1].x) == [0.3, 0.9] and list(fig.data[1].y) == [0.2, 0.6]
    assert list(fig.data[2].y) == [0.3, 0.65]
    assert list(fig.data[2].customdata) == [12, 28]
    titles = [a.text for a in fig.layout.annotations]
    assert titles[0] == "device<br><sup>ECE 12.5% → 3.0%</sup>"
    assert titles[1] == "cloud<br><sup>ECE 2.0% → 1.0%</sup>"
    assert fig.layout.yaxis.title.text == "accuracy"
    assert fig.layout.xaxis2.title.text == "mean max probability"


def tradeoff_inputs() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    curves = pd.DataFrame(
        {
            "family": ["max_prob", "max_prob", "max_prob", "margin", "margin"],
            "latency_ms": [20.0, 5.0, 10.0, 8.0, 25.0],
            "accuracy": [0.66, 0.40, 0.55, 0.50, 0.64],
        }
    )
    frontier = pd.DataFrame({"latency_ms": [0.1, 10.0, 18.0], "accuracy": [0.3, 0.6, 0.7]})
    points = pd.DataFrame(
        {
            "policy": ["device only", "edge only", "cloud only"],
            "latency_ms": [0.1, 10.2, 30.1],
            "accuracy": [0.26, 0.46, 0.67],
        }
    )
    chosen = pd.DataFrame({"family": ["max_prob"], "latency_ms": [10.0], "accuracy": [0.55]})
    return curves, frontier, points, chosen


def test_cascade_tradeoff_draws_frontier_families_single_tiers_and_choices_in_percent() -> None:
    curves, frontier, points, chosen = tradeoff_inputs()

    fig = cascade_tradeoff_figure(curves, frontier, points, chosen)

    names = [t.name for t in fig.data]
    assert names == [
        "oracle frontier",
        "max_prob",
        "margin",
        "single tiers",
        "chosen on validation",
    ]
    oracle, family = fig.data[0], fig.data[1]
    assert list(oracle.x) == [0.1, 10.0, 18.0, 30.1]  # flat up to the slowest point
    assert list(oracle.y) == pytest.approx([30.0, 60.0, 70.0, 70.0])
    assert list(family.x) == [5.0, 10.0, 20.0]  # sorted by latency
    assert list(family.y) == pytest.approx([40.0, 55.0, 66.0])
    assert list(fig.data[3].text) == points.policy.tolist()
    assert list(fig.data[4].y) == pytest.approx([55.0])
    assert fig.layout.xaxis.title.text == "mean latency (ms)"
    assert fig.layout.yaxis.title.text == "test accuracy (%)"


def test_cascade_tradeoff_without_choices_has_no_star_trace() -> None:
    curves, frontier, points, _ = tradeoff_inputs()

    fig = cascade_tradeoff_figure(curves, frontier, points)

    assert [t.name for t in fig.data][-1] == "single tiers"


def small_grid() -> CascadeGrid:
    t0, t1 = np.array([0.2, 0.4, 0.6, 0.8]), np.array([0.1, 0.3, 0.5, 0.7, 0.9])
    acc = 0.5 + 0.1 * t0[:, None] + 0.05 * t1[None, :]
    lat = 1 + 10 * t0[:, None] + 20 * t1[None, :]
    return CascadeGrid((t0, t1), acc, lat, np.zeros_like(acc), np.ones_like(acc))


def test_threshold_heatmaps_show_accuracy_and_latency_at_threshold_ranks() -> None:
    grid = small_grid()

    fig = threshold_heatmaps(grid, chosen=np.array([0.61, 0.29]))

    acc, lat, mark_acc, mark_lat = fig.data
    np.testing.assert_allclose(values(acc, "z"), 100 * grid.accuracy)
    np.testing.assert_allclose(values(lat, "z"), grid.latency_ms)
    assert list(acc.x) == [0, 1, 2, 3, 4] and list(acc.y) == [0, 1, 2, 3]
    assert (mark_acc.x[0], mark_acc.y[0]) == (1, 2) == (mark_lat.x[0], mark_lat.y[0])
    assert fig.layout.xaxis.title.text == "edge threshold"
    assert fig.layout.yaxis.title.text == "device threshold"
    assert list(fig.layout.xaxis.ticktext) == ["0.1", "0.3", "0.5", "0.7", "0.9"]
    assert list(fig.layout.xaxis.tickvals) == [0, 1, 2, 3, 4]  # no repeated tick
    assert [a.text for a in fig.layout.annotations] == ["accuracy (%)", "mean latency (ms)"]


def test_threshold_heatmaps_tick_labels_are_distinct_for_thresholds_near_one() -> None:
    t = np.array([0.9, 0.99, 0.997, 0.9991, 0.9995, 0.9998, 0.9999])
    grid = CascadeGrid((t, t), np.ones((7, 7)), np.ones((7, 7)), np.zeros((7, 7)), np.ones((7, 7)))

    fig = threshold_heatmaps(grid)

    labels = list(fig.layout.yaxis.ticktext)
    assert len(set(labels)) == len(labels), labels


def test_threshold_heatmaps_centre_the_colour_scale_on_the_reference_accuracy() -> None:
    grid = small_grid()
    acc = 100 * grid.accuracy
    reference = 0.56

    fig = threshold_heatmaps(grid, reference_accuracy=reference)

    scale = fig.data[0].colorscale
    assert scale[1][1] == "#f7f7f7"
    assert scale[1][0] == pytest.approx((100 * reference - acc.min()) / (acc.max() - acc.min()))
    assert len(fig.data) == 2  # no chosen pair, no markers


def test_gain_aware_alpha_figure_plots_test_rows_sorted_by_alpha() -> None:
    curve_ = pd.DataFrame(
        {
            "split": ["test", "val", "test", "test"],
            "alpha": [1e-2, 1e-3, 1e-4, 1e-3],
            "accuracy": [0.40, 0.99, 0.66, 0.60],
            "latency_ms": [2.0, 99.0, 30.0, 20.0],
        }
    )

    fig = gain_aware_alpha_figure(curve_, cloud_accuracy=0.67)

    accuracy, latency = fig.data
    assert list(accuracy.x) == [1e-4, 1e-3, 1e-2]
    assert list(accuracy.y) == pytest.approx([66.0, 60.0, 40.0])
    assert list(latency.y) == [30.0, 20.0, 2.0] and latency.yaxis == "y2"
    (line,) = fig.layout.shapes
    assert line.y0 == pytest.approx(67.0)
    assert fig.layout.xaxis.type == "log"
    assert fig.layout.yaxis.title.text == "test accuracy (%)"
    assert fig.layout.yaxis2.title.text == "mean latency (ms)"


def slider_base() -> go.Figure:
    fig = go.Figure()
    fig.add_scatter(x=[0, 1], y=[0, 1], name="fixed")
    fig.add_scatter(x=[0], y=[0], name="moving a")
    fig.add_scatter(x=[0], y=[0], name="moving b")
    return fig


def test_slider_figure_restyles_the_last_traces_and_starts_at_the_active_state() -> None:
    states = [(f"s{i}", {"x": [[i], [i, i]], "y": [[10 * i], [i, 2 * i]]}) for i in range(3)]

    fig = slider_figure(slider_base(), states, n_dynamic=2, label="value: ", active=1)

    slider = fig.layout.sliders[0]
    assert slider.active == 1 and [s.label for s in slider.steps] == ["s0", "s1", "s2"]
    assert all(list(s.args[1]) == [1, 2] for s in slider.steps)
    assert list(fig.data[1].y) == [10] and list(fig.data[2].y) == [1, 2]
    assert list(fig.data[0].y) == [0, 1]
    assert apply_step(fig, slider.steps[2])["data"][2]["y"] == [2, 4]
    assert_static_controls_are_honest(fig)


def test_slider_figure_refuses_states_for_more_traces_than_it_moves() -> None:
    states = [("s0", {"x": [[0], [0], [0]]})]

    with pytest.raises(ValueError):
        slider_figure(slider_base(), states, n_dynamic=2, label="value: ")


def test_distinct_labels_use_the_fewest_digits_that_keep_values_apart() -> None:
    from idn_core.views import distinct_labels

    assert distinct_labels(np.array([0.1, 0.25, 0.5])) == ["0.1", "0.25", "0.5"]
    crowded = np.array([0.99, 0.997, 0.9993, 0.99931])
    labels = distinct_labels(crowded)
    assert labels == ["0.99", "0.997", "0.9993", "0.99931"]  # 5 digits: the first that separates
    assert len(set(labels)) == len(crowded)
    # equal values keep equal labels; values no 8-digit label separates stay as close as it gets
    assert distinct_labels(np.array([0.5, 0.5, 0.75])) == ["0.5", "0.5", "0.75"]
    assert len(set(distinct_labels(np.array([1.0, 1.0 + 1e-12])))) == 1
