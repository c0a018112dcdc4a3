"""Tests of confidence scores, calibration, delivery policies, threshold search and the oracle."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from reference_delivery import synthetic
from sklearn.linear_model import LogisticRegression

from idn_core.delivery import (
    GainAwareForwarding,
    LearnedForwarding,
    cascade_answer,
    cascade_decision,
    cascade_grid,
    choose_within_tolerance,
    forward_to,
    local_only,
    oracle_accuracy_at,
    oracle_accuracy_at_fraction,
    oracle_decision,
    oracle_frontier,
    threshold_candidates,
    uniform_weights,
)
from idn_core.learning import (
    confidence,
    expected_calibration_error,
    fit_temperature,
    reliability_curve,
    softmax,
)
from idn_core.network import PathLatency


def test_scores_on_known_vectors():
    p = np.array([[0.25, 0.25, 0.25, 0.25], [1.0, 0.0, 0.0, 0.0], [0.6, 0.3, 0.1, 0.0]])

    assert confidence(p, "max_prob").tolist() == pytest.approx([0.0, 1.0, (0.6 - 0.25) / 0.75])
    assert confidence(p, "margin").tolist() == pytest.approx([0.0, 1.0, 0.3])
    h = -(0.6 * np.log(0.6) + 0.3 * np.log(0.3) + 0.1 * np.log(0.1))
    assert confidence(p, "neg_entropy").tolist() == pytest.approx([0.0, 1.0, 1 - h / np.log(4)])


@pytest.mark.parametrize(
    ("probs", "score", "match"),
    [
        (np.array([[0.5, 0.6]]), "max_prob", "sum to one"),
        (np.array([[np.nan, 1.0]]), "margin", "NaN"),
        (np.array([[1.5, -0.5]]), "neg_entropy", "negative"),
        (np.array([[0.5, 0.5]]), "entropy", "unknown score"),
    ],
)
def test_bad_probabilities_and_scores_are_rejected(probs, score, match):
    with pytest.raises(ValueError, match=match):
        confidence(probs, score)


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10_000), scale=st.floats(0.01, 30.0))
def test_scores_lie_in_unit_interval(seed, scale):
    p = softmax(np.random.default_rng(seed).normal(size=(50, 7)) * scale)
    for s in ("max_prob", "margin", "neg_entropy"):
        c = confidence(p, s)
        assert (c >= 0).all() and (c <= 1).all()


def test_temperature_scaling_recovers_overconfidence_and_lowers_calibration_error():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 5, 4000)
    true_logits = rng.normal(size=(4000, 5))
    true_probs = softmax(true_logits)
    labels = np.array([rng.choice(5, p=row) for row in true_probs])
    overconfident = true_logits * 3.0  # a model three times too sure of itself

    t = fit_temperature(overconfident, labels)

    assert t == pytest.approx(3.0, rel=0.15)
    before = expected_calibration_error(softmax(overconfident), labels)
    after = expected_calibration_error(softmax(overconfident / t), labels)
    assert after < before / 2
    curve = reliability_curve(softmax(overconfident), labels, n_bins=10)
    assert curve["count"].sum() == 4000


def test_thresholds_out_of_range_nan_or_wrong_count_are_rejected():
    conf = np.array([[0.2, 0.9], [0.5, 0.5]])
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        cascade_decision(conf, [1.2])
    with pytest.raises(ValueError, match="NaN"):
        cascade_decision(conf, [np.nan])
    with pytest.raises(ValueError, match="2 thresholds"):
        cascade_answer(conf, [0.5])
    with pytest.raises(ValueError, match="confidences must lie"):
        cascade_answer(conf * 2, [0.5, 0.5])
    with pytest.raises(ValueError, match="confidences contain NaN"):
        cascade_answer(np.array([[np.nan, 0.5]]), [0.5])


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10_000), n_tiers=st.integers(2, 4))
def test_lowest_threshold_serves_locally_and_highest_forwards_everything(seed, n_tiers):
    table, _, conf = synthetic(seed, n_tiers)
    h = n_tiers - 1

    low = cascade_decision(conf, np.zeros(h))
    high = cascade_decision(conf, np.ones(h))

    assert (low.answer_tier == 0).all() and low.queried.sum(1).max() == 1
    assert (high.answer_tier == h).all() and high.queried.all()


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10_000), n_tiers=st.integers(2, 4))
def test_mean_latency_is_monotone_in_each_threshold(seed, n_tiers):
    table, lat, conf = synthetic(seed, n_tiers)
    w = uniform_weights(table.n_samples, lat)
    grids = [threshold_candidates(conf[h], 8) for h in range(n_tiers - 1)]

    grid = cascade_grid(conf[: n_tiers - 1], table.correct(), w, grids)

    for axis in range(n_tiers - 1):
        assert (np.diff(grid.latency_ms, axis=axis) >= -1e-12).all()


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10_000), n_tiers=st.integers(2, 4), data=st.data())
def test_cascade_between_worst_model_and_oracle_when_correctness_is_nested(seed, n_tiers, data):
    # With nested correctness (a model is right wherever the one below it is right, the
    # usual "harder samples need bigger models" situation) every cascade is at least as
    # accurate as the weakest model and never beats the oracle.
    table, lat, conf = synthetic(seed, n_tiers)
    correct = np.logical_or.accumulate(table.correct(), axis=0)
    t = np.array(data.draw(st.lists(st.floats(0, 1), min_size=n_tiers - 1, max_size=n_tiers - 1)))

    answer = cascade_decision(conf, t).answer_tier
    acc = correct[answer, np.arange(table.n_samples)].mean()

    assert correct.mean(axis=1).min() - 1e-12 <= acc <= correct.any(axis=0).mean() + 1e-12


def test_cascade_can_be_worse_than_every_model_without_nesting():
    # Why the lower bound needs an assumption: confidences that point the wrong way.
    correct = np.array([[True, False], [False, True]])
    conf = np.array([[0.1, 0.9]])  # the device is sure exactly where it is wrong

    answer = cascade_decision(conf, [0.5]).answer_tier

    assert correct[answer, [0, 1]].mean() == 0.0 < correct.mean(axis=1).min()


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10_000), n_tiers=st.integers(2, 4), data=st.data())
def test_oracle_at_least_as_accurate_as_any_policy_with_the_same_forwarded_fraction(
    seed, n_tiers, data
):
    table, lat, conf = synthetic(seed, n_tiers)
    w = uniform_weights(table.n_samples, lat)
    t = np.array(data.draw(st.lists(st.floats(0, 1), min_size=n_tiers - 1, max_size=n_tiers - 1)))
    correct = table.correct()

    answer = cascade_decision(conf, t).answer_tier
    acc = correct[answer, np.arange(table.n_samples)].mean()
    forwarded = (answer > 0).mean()

    assert acc <= oracle_accuracy_at_fraction(correct, w, forwarded) + 1e-12
    rand = np.random.default_rng(seed).integers(0, n_tiers, table.n_samples)  # any policy at all
    assert (
        correct[rand, np.arange(table.n_samples)].mean()
        <= oracle_accuracy_at_fraction(correct, w, (rand > 0).mean()) + 1e-12
    )


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 10_000))
def test_oracle_frontier_bounds_every_cascade_and_ends_at_oracle_accuracy(seed):
    table, lat, conf = synthetic(seed, 3)
    w = uniform_weights(table.n_samples, lat)
    correct = table.correct()

    front = oracle_frontier(correct, w)
    grid = cascade_grid(conf[:2], correct, w, [threshold_candidates(conf[h], 7) for h in range(2)])

    assert front.accuracy.iloc[0] == pytest.approx(correct[0].mean())
    assert front.accuracy.iloc[-1] == pytest.approx(correct.any(axis=0).mean())
    assert (np.diff(front.latency_ms) >= 0).all()
    bound = np.interp(grid.latency_ms.ravel(), front.latency_ms, front.accuracy)
    assert (grid.accuracy.ravel() <= bound + 1e-9).all()
    assert oracle_accuracy_at(front, front.latency_ms.iloc[-1] + 5) == pytest.approx(
        front.accuracy.iloc[-1]
    )


def test_oracle_forwards_only_when_it_helps():
    correct = np.array(
        [[True, False, False, False], [False, True, False, False], [True, True, True, False]]
    )

    dec = oracle_decision(correct)

    assert dec.answer_tier.tolist() == [0, 1, 2, 0]
    assert dec.queried.tolist() == [
        [True, False, False],
        [True, True, False],
        [True, False, True],
        [True, False, False],
    ]
    assert oracle_decision(correct, skip=False).queried[2].tolist() == [True, True, True]


def test_local_only_and_forward_to():
    assert (local_only(5, 3).answer_tier == 0).all()
    dec = forward_to(2, 5, 3)
    assert dec.queried.sum() == 5 and (dec.answer_tier == 2).all()
    with pytest.raises(ValueError, match="tier must lie"):
        forward_to(3, 5, 3)


def test_threshold_search_respects_budget_and_target():
    table, lat, conf = synthetic(2, 3, n_samples=200)
    w = uniform_weights(table.n_samples, lat)
    grid = cascade_grid(
        conf[:2],
        table.correct(),
        w,
        [threshold_candidates(conf[h], 20) for h in range(2)],
        reference=table.correct()[2],
    )
    frame = grid.frame()
    budget = float(frame.latency_ms.quantile(0.4))

    best = grid.best_under_latency(budget)
    cheap = grid.cheapest_reaching(0.6)

    feasible = frame[frame.latency_ms <= budget + 1e-9]
    chosen = frame[(frame.t0 == best[0]) & (frame.t1 == best[1])].iloc[0]
    assert chosen.latency_ms <= budget + 1e-9 and chosen.accuracy == pytest.approx(
        feasible.accuracy.max()
    )
    reach = frame[frame.accuracy >= 0.6 - 1e-12]
    picked = frame[(frame.t0 == cheap[0]) & (frame.t1 == cheap[1])].iloc[0]
    assert picked.latency_ms == pytest.approx(reach.latency_ms.min())
    bounded = grid.cheapest_reaching(use_bound=True, tolerance=0.005)
    row = frame[(frame.t0 == bounded[0]) & (frame.t1 == bounded[1])].iloc[0]
    assert row.gap_lcb >= -0.005 and row.gap >= row.gap_lcb
    with pytest.raises(ValueError, match="budget"):
        grid.best_under_latency(0.0)


def test_threshold_candidates_are_quantiles_from_zero_to_one():
    rng = np.random.default_rng(0)
    conf = np.r_[0.99 + 0.01 * rng.random(900), rng.random(100) * 0.99]  # an overconfident model

    t = threshold_candidates(conf, 50)

    assert t[0] == 0.0 and t[-1] == 1.0 and (np.diff(t) > 0).all()
    linear = np.linspace(0, 1, 50)
    assert ((t >= 0.99) & (t < 1)).sum() >= 40 > ((linear >= 0.99) & (linear < 1)).sum()


def test_gain_aware_extremes_and_monotone_forwarding():
    table, lat, conf = synthetic(4, 3, n_samples=400)
    correct = table.correct()
    latencies = lat.answer_latency_ms()[:1]

    forwards = []
    for alpha in (0.0, 1e-3, 1e-2, 1e6):
        dec = GainAwareForwarding(alpha).fit(conf[:2], correct, latencies).decide(conf[:2])
        forwards.append((dec.answer_tier > 0).mean())

    assert forwards[-1] == 0.0
    assert forwards[0] > 0.3
    assert all(a >= b - 0.02 for a, b in zip(forwards, forwards[1:], strict=False))
    with pytest.raises(ValueError, match="alpha"):
        GainAwareForwarding(-1.0).fit(conf[:2], correct, latencies)


def test_gain_aware_per_device_latencies_give_per_device_decisions():
    table, lat, conf = synthetic(6, 3, n_samples=300)

    latencies = lat.answer_latency_ms()
    rule = GainAwareForwarding(1e-2).fit(conf[:2], table.correct(), latencies)
    dec = rule.decide(conf[:2])

    assert dec.queried.shape == (len(lat.devices), table.n_samples, 3)
    # Each device's decision is the rule fitted on that device's latencies alone ...
    for d in range(len(lat.devices)):
        alone = GainAwareForwarding(1e-2).fit(conf[:2], table.correct(), latencies[d : d + 1])
        single = alone.decide(conf[:2])
        np.testing.assert_array_equal(dec.answer_tier[d], single.answer_tier)
        np.testing.assert_array_equal(dec.queried[d], single.queried)
    # ... and the three devices, with their different latencies, all decide differently.
    assert all(
        (dec.answer_tier[a] != dec.answer_tier[b]).any()
        for a in range(len(lat.devices))
        for b in range(a)
    )


def test_learned_forwarding_gives_out_of_fold_and_test_confidences():
    table, lat, conf = synthetic(8, 3, n_samples=400, low=1.0, high=3.0)
    probs = table.probs()

    rule = LearnedForwarding(LogisticRegression(max_iter=500), n_folds=3).fit(
        probs, table.correct()
    )
    scores = rule.confidences(probs)

    assert scores.shape == rule.oof_conf_.shape == (2, 400)
    assert ((scores >= 0) & (scores <= 1)).all()
    helps = ~table.correct()[0] & table.correct()[1:].any(axis=0)
    assert rule.oof_conf_[0][helps].mean() < rule.oof_conf_[0][~helps].mean()  # learned something
    with pytest.raises(ValueError, match="never"):
        LearnedForwarding().fit(probs, np.ones_like(table.correct()))
    with pytest.raises(ValueError, match="disagree"):
        LearnedForwarding().fit(probs[:, :10], table.correct())


def test_path_latency_rejects_bad_shapes():
    with pytest.raises(ValueError, match="shape"):
        PathLatency(
            ("a",), np.array([["x", "y"]]), ("t0", "t1", "t2"), np.zeros((1, 3)), np.zeros((1, 3))
        )


def test_choice_within_tolerance_is_more_cautious_with_bootstrap_and_prediction_bound():
    table, lat, conf = synthetic(9, 3, n_samples=500)
    w = uniform_weights(table.n_samples, lat)
    grids = [threshold_candidates(conf[h], 30) for h in range(2)]
    ref = table.correct()[2]

    naive = cascade_grid(
        conf[:2], table.correct(), w, grids, reference=ref, z=0.0
    ).cheapest_reaching(use_bound=True)
    t, info = choose_within_tolerance(
        conf[:2], table.correct(), w, grids, ref, n_future=500, n_boot=10
    )

    naive_lat = cascade_grid(
        conf[:2], table.correct(), w, [[naive[0]], [naive[1]]]
    ).latency_ms.item()
    assert info["gap_lcb"] >= -0.005 and info["optimism"] >= 0
    assert info["latency_ms"] >= naive_lat - 1e-12
    assert info["gap"] >= info["gap_lcb"]
    with pytest.raises(ValueError, match="strictly increasing"):
        cascade_grid(conf[:2], table.correct(), w, [grids[0][::-1], grids[1]])
