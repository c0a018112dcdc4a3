"""Tests of idn_core.views.federated: chapters 5 and 6's figures, on small tidy tables."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from idn_core.views import (
    delivery_history_figure,
    delivery_tradeoff_figure,
    exit_accuracy_figure,
    fedavg_curves_figure,
    lambda_figure,
    node_accuracy_figure,
    weighting_gain_figure,
)

from .figure_checks import apply_step, assert_static_controls_are_honest, values


def test_fedavg_curves_draw_mean_and_std_band_per_scheme() -> None:
    curves = pd.DataFrame(
        {
            "scheme": ["iid"] * 4 + ["dirichlet"] * 4,
            "seed": [0, 1, 0, 1] * 2,
            "round": [1, 1, 2, 2] * 2,
            "test_acc": [0.40, 0.50, 0.60, 0.70, 0.20, 0.20, 0.30, 0.50],
        }
    )

    fig = fedavg_curves_figure(curves)

    band, iid, _, dirichlet = fig.data
    assert (iid.name, dirichlet.name) == ("iid", "dirichlet")
    assert list(iid.x) == [1, 2] and list(iid.y) == pytest.approx([0.45, 0.65])
    assert list(dirichlet.y) == pytest.approx([0.20, 0.40])
    std = np.std([0.40, 0.50], ddof=1)
    assert values(band)[0] == pytest.approx(0.45 + std) and band.fill == "toself"
    assert fig.layout.xaxis.title.text == "round"
    assert fig.layout.yaxis.title.text == "test accuracy"


def nodes_table() -> pd.DataFrame:
    rows = []
    for scheme, shift in (("iid", 0.0), ("dirichlet", -0.2)):
        for node in (0, 1):
            for seed in (0, 1):
                rows.append({"scheme": scheme, "node": node, "seed": seed,
                             "own_acc": 0.6 + shift + 0.1 * seed, "served_acc": 0.5 + shift + 0.05 * node})  # fmt: skip
    return pd.DataFrame(rows)


def test_node_accuracy_bars_per_scheme_and_slider_switches_scheme() -> None:
    nodes = nodes_table()

    fig = node_accuracy_figure(nodes)

    assert len(fig.data) == 4
    own, served = fig.data[:2]
    assert list(own.x) == ["node 0", "node 1"]
    assert list(own.y) == pytest.approx([0.65, 0.65])
    assert list(served.y) == pytest.approx([0.50, 0.55])
    assert list(fig.data[3].y) == pytest.approx([0.30, 0.35])
    assert [s.label for s in fig.layout.sliders[0].steps] == ["iid", "dirichlet"]
    assert [t["visible"] for t in apply_step(fig, fig.layout.sliders[0].steps[1])["data"]] == [
        False, False, True, True,
    ]  # fmt: skip
    assert fig.layout.yaxis.title.text == "accuracy"
    assert_static_controls_are_honest(fig)


def test_delivery_history_one_panel_per_tier_and_the_system_both_arms() -> None:
    history = pd.DataFrame(
        {
            "arm": ["plain"] * 2 + ["delivery-aware"] * 2,
            "alternation": [1, 1, 1, 1],
            "seed": [0, 1, 0, 1],
            "tier0": [0.3, 0.5, 0.6, 0.6],
            "tier1": [0.5, 0.5, 0.7, 0.7],
            "system": [0.4, 0.6, 0.8, 0.7],
        }
    )

    fig = delivery_history_figure(history, ["device", "edge"])

    assert [a.text for a in fig.layout.annotations] == [
        "device (served)",
        "edge (served)",
        "system",
    ]
    assert [t.name for t in fig.data] == ["plain"] * 3 + ["delivery-aware"] * 3
    assert [t.showlegend for t in fig.data] == [True, False, False] * 2
    assert fig.data[0].y[0] == pytest.approx(0.4) and fig.data[5].y[0] == pytest.approx(0.75)
    assert fig.data[0].error_y.array[0] == pytest.approx(np.std([0.3, 0.5], ddof=1))
    assert fig.layout.xaxis.title.text == "alternation"


def tradeoff_table() -> pd.DataFrame:
    rows = []
    for arm, bonus in (("plain", 0.0), ("delivery-aware", 0.05)):
        for t in (0.5, 0.7, 0.9):
            for seed in (0, 1):
                rows.append({"arm": arm, "threshold": t, "seed": seed,
                             "accuracy": 0.5 + t / 4 + bonus + 0.01 * seed, "latency_ms": 10 * t + seed})  # fmt: skip
    return pd.DataFrame(rows)


def test_delivery_tradeoff_lines_per_arm_and_slider_moves_each_arms_marker() -> None:
    tradeoff = tradeoff_table()

    fig = delivery_tradeoff_figure(tradeoff)

    plain, aware, plain_mark, aware_mark = fig.data
    assert (plain.name, aware.name) == ("plain", "delivery-aware")
    assert list(plain.x) == pytest.approx([5.5, 7.5, 9.5])
    assert list(aware.y) == pytest.approx([0.68, 0.73, 0.78])
    assert (plain_mark.x[0], plain_mark.y[0]) == pytest.approx((5.5, 0.63))
    steps = fig.layout.sliders[0].steps
    assert [s.label for s in steps] == ["0.50", "0.70", "0.90"]
    last = apply_step(fig, steps[2])["data"]
    assert (last[3]["x"][0], last[3]["y"][0]) == pytest.approx((9.5, 0.78))
    assert fig.layout.xaxis.title.text == "mean latency (ms)"
    assert_static_controls_are_honest(fig)


def test_lambda_figure_bars_are_each_weightings_lambda_per_split() -> None:
    splits = [(0.8, 0.15, 0.05), (0.05, 0.15, 0.8)]

    fig = lambda_figure(splits, sigma=[1, 1, 1], sum_p2=[0.25, 0.5, 1], flops=[1, 2, 3])

    assert [t.name for t in fig.data] == ["equal", "serving", "variance", "flops"] * 2
    assert list(fig.data[0].y) == pytest.approx([1 / 3] * 3)
    assert list(fig.data[5].y) == pytest.approx([0.05, 0.15, 0.8])  # serving rule, second split
    for trace in fig.data:
        assert sum(trace.y) == pytest.approx(1.0)
    assert [s.label for s in fig.layout.sliders[0].steps] == ["80-15-5", "5-15-80"]
    assert fig.layout.yaxis.title.text == "lambda-tilde"
    assert_static_controls_are_honest(fig)


def early_exit_table() -> pd.DataFrame:
    rows = []
    for data_split in ("equal", "skewed"):
        for serving in ("80-15-5", "5-15-80"):
            for weighting, bonus in (("equal", 0.0), ("serving", 0.02), ("flops", -0.01)):
                for seed in (0, 1):
                    base = (
                        0.5 + 0.1 * (serving == "5-15-80") + (0.05 if data_split == "skewed" else 0)
                    )
                    rows.append({"data_split": data_split, "serving_split": serving,
                                 "weighting": weighting, "seed": seed,
                                 "exit1_acc": base - 0.2 + bonus, "exit2_acc": base - 0.1 + bonus,
                                 "exit3_acc": base + bonus, "served_acc": base + bonus + 0.01 * seed})  # fmt: skip
    return pd.DataFrame(rows)


def test_exit_accuracy_bars_per_weighting_for_one_data_split() -> None:
    table = early_exit_table()

    fig = exit_accuracy_figure(table, data_split="equal")

    assert [t.name for t in fig.data] == ["equal", "serving", "flops"] * 2
    assert list(fig.data[0].x) == ["exit 1", "exit 2", "exit 3", "served"]
    assert list(fig.data[1].y) == pytest.approx([0.32, 0.42, 0.52, 0.525])
    assert list(fig.data[4].y) == pytest.approx([0.42, 0.52, 0.62, 0.625])
    assert [s.label for s in fig.layout.sliders[0].steps] == ["80-15-5", "5-15-80"]
    assert fig.layout.yaxis.title.text == "test accuracy"
    assert_static_controls_are_honest(fig)


def test_weighting_gain_is_the_paired_difference_to_the_baseline_in_points() -> None:
    table = early_exit_table()

    fig = weighting_gain_figure(table, metric="served_acc")

    assert [a.text for a in fig.layout.annotations if a.text] == ["data equal", "data skewed"]
    assert [t.name for t in fig.data] == ["serving", "flops", "serving", "flops"]
    serving, flops = fig.data[:2]
    assert list(serving.x) == ["80-15-5", "5-15-80"]
    assert list(serving.y) == pytest.approx([2.0, 2.0])
    assert list(flops.y) == pytest.approx([-1.0, -1.0])
    assert fig.layout.yaxis.title.text == "served_acc gain over equal (pp)"
    assert fig.layout.xaxis.title.text == "serving split %"
