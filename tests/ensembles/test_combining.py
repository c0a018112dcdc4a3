"""Tests of combination rules, ensemble policies and their latencies (idn_core.ensembles.combining & co)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.datasets import load_digits
from sklearn.ensemble import VotingClassifier
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.naive_bayes import GaussianNB
from sklearn.tree import DecisionTreeClassifier

from idn_core.delivery import cascade_metrics, evaluate, request_weights, summarize
from idn_core.ensembles import (
    Stacking,
    combine,
    ensemble_cascade_decision,
    full_ensemble_decision,
    hard_vote,
    log_vote,
    path_ensemble,
    query_on_doubt_decision,
    running_combination,
    soft_vote,
    stacked_running,
    stage_decision,
    stage_latency,
    stage_running,
    vote_weights,
)
from idn_core.learning import OutputsTable, softmax
from idn_core.network import QUERY_MODES, PathLatency, make_requests, member_latency, with_mode


@pytest.fixture(scope="module")
def fitted_members():
    """Three different pre-fitted scikit-learn classifiers on digits and a held-out split."""
    x, y = load_digits(return_X_y=True)
    rng = np.random.default_rng(0)
    order = rng.permutation(len(y))
    tr, te = order[:900], order[900:]
    members = [
        LogisticRegression(max_iter=200).fit(x[tr], y[tr]),
        DecisionTreeClassifier(max_depth=6, random_state=0).fit(x[tr], y[tr]),
        GaussianNB().fit(x[tr], y[tr]),
    ]
    return members, x[tr], y[tr], x[te], y[te]


def _probs(rng, m, n, c):
    return softmax(rng.normal(size=(m, n, c)) * 2)


@pytest.mark.parametrize("weights", [None, [1.0, 2.0, 0.5]])
def test_soft_vote_equals_sklearn_voting_classifier(fitted_members, weights):
    members, x_tr, y_tr, x_te, _ = fitted_members
    probs = np.stack([m.predict_proba(x_te) for m in members])
    voter = VotingClassifier(
        [(f"m{i}", FrozenEstimator(m)) for i, m in enumerate(members)],
        voting="soft",
        weights=weights,
    ).fit(x_tr, y_tr)

    ours = soft_vote(probs, None if weights is None else np.array(weights))

    np.testing.assert_allclose(ours, voter.predict_proba(x_te), rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(ours.argmax(1), voter.predict(x_te))


@pytest.mark.parametrize("weights", [None, [1.0, 2.0, 0.5]])
def test_hard_vote_equals_sklearn_voting_classifier(fitted_members, weights):
    members, x_tr, y_tr, x_te, _ = fitted_members
    preds = np.stack([m.predict(x_te) for m in members])
    voter = VotingClassifier(
        [(f"m{i}", FrozenEstimator(m)) for i, m in enumerate(members)],
        voting="hard",
        weights=weights,
    ).fit(x_tr, y_tr)

    ours = hard_vote(preds, 10, None if weights is None else np.array(weights))

    np.testing.assert_array_equal(ours, voter.predict(x_te))


def test_hard_vote_ties_go_to_the_lowest_class():
    preds = np.array([[3, 1], [1, 2], [0, 0]])  # sample 0: 3, 1, 0 all tied
    assert hard_vote(preds, 4).tolist() == [0, 0]
    assert hard_vote(preds, 4, np.array([1.0, 1.0, 0.5])).tolist() == [1, 1]


def test_log_vote_is_a_weighted_product_of_experts():
    rng = np.random.default_rng(1)
    p = _probs(rng, 3, 50, 5)
    w = np.array([0.5, 1.0, 2.0])

    out = log_vote(p, w)

    expected = np.prod(p ** w[:, None, None], axis=0)
    np.testing.assert_allclose(out, expected / expected.sum(1, keepdims=True), rtol=1e-9)


def test_combine_hard_returns_vote_shares_and_running_starts_with_member_zero():
    rng = np.random.default_rng(2)
    p = _probs(rng, 4, 30, 3)

    shares = combine(p, "hard", np.array([1.0, 2.0, 3.0, 4.0]))
    run = running_combination(p, "soft")

    np.testing.assert_allclose(shares.sum(1), 1.0)
    assert set(np.round(shares.ravel() * 10).astype(int)) <= set(range(11))
    np.testing.assert_allclose(run[0], p[0])
    np.testing.assert_allclose(run[-1], p.mean(0))


def test_vote_weights_follow_accuracy_and_give_chance_level_zero():
    correct = np.zeros((3, 100), dtype=bool)
    correct[0, :90] = True  # 90 %
    correct[1, :60] = True  # 60 %
    correct[2, :5] = True  # 5 %, below chance for 10 classes

    w = vote_weights(correct, "log_odds", n_classes=10)
    acc = vote_weights(correct, "accuracy")

    assert w[0] > w[1] > 0 and w[2] == 0
    assert acc[0] > acc[1] > acc[2]
    assert np.all(vote_weights(correct, "equal") == 1)


def test_bad_inputs_raise_clear_errors():
    p = _probs(np.random.default_rng(3), 2, 5, 3)
    with pytest.raises(ValueError, match="member weights"):
        soft_vote(p, np.array([1.0, -1.0]))
    with pytest.raises(ValueError, match="2 member weights"):
        soft_vote(p, np.array([1.0]))
    with pytest.raises(ValueError, match="sum to one"):
        soft_vote(p * 2)
    with pytest.raises(ValueError, match="rule"):
        combine(p, "median")
    with pytest.raises(ValueError, match=r"lie in \[0, 3\)"):
        hard_vote(np.array([[0, 3]]), 3)
    with pytest.raises(ValueError, match="weighting"):
        vote_weights(np.ones((2, 3), bool), "magic")


def test_stacking_fits_held_out_outputs_and_beats_its_worst_member(fitted_members):
    members, _, _, x_te, y_te = fitted_members
    probs = np.stack([m.predict_proba(x_te) for m in members])
    half = len(y_te) // 2

    st_ = Stacking(c=0.1).fit(probs[:, :half], y_te[:half])
    acc = (st_.predict_proba(probs[:, half:]).argmax(1) == y_te[half:]).mean()
    member_acc = (probs[:, half:].argmax(2) == y_te[half:]).mean(1)

    assert st_.oof_proba_.shape == (half, 10)
    assert acc > member_acc.min()
    with pytest.raises(ValueError, match="every one of the 10 classes"):
        Stacking().fit(probs[:, :50], np.zeros(50, dtype=int))
    with pytest.raises(RuntimeError, match="fit"):
        Stacking().predict_proba(probs)


def test_stacked_running_keeps_a_singleton_first_stage(fitted_members):
    members, _, _, x_te, y_te = fitted_members
    probs = np.stack([m.predict_proba(x_te) for m in members])

    run_v, run_t = stacked_running(probs, y_te, probs, np.array([0, 1, 1]))

    assert run_v.shape == run_t.shape == (2, len(y_te), 10)
    np.testing.assert_allclose(run_t[0], probs[0])
    with pytest.raises(ValueError, match="non-decreasing"):
        stacked_running(probs, y_te, probs, np.array([1, 0, 0]))


def test_ensemble_cascade_extreme_thresholds():
    p = _probs(np.random.default_rng(4), 3, 40, 4)
    run = running_combination(p, "soft")

    stay = ensemble_cascade_decision(run, np.zeros(2))
    go = ensemble_cascade_decision(run, np.ones(2))

    assert stay.queried.sum(1).tolist() == [1] * 40
    np.testing.assert_array_equal(stay.prediction, p[0].argmax(1))
    assert go.queried.all()
    np.testing.assert_array_equal(go.prediction, p.mean(0).argmax(1))


def test_query_on_doubt_extremes_and_errors():
    conf = np.array([0.1, 0.5, 0.9])
    local, doubt = np.array([1, 1, 1]), np.array([2, 2, 2])

    never = query_on_doubt_decision(conf, 0.0, local, doubt, (2,), 3)
    always = query_on_doubt_decision(conf, 1.0, local, doubt, (1, 2), 3)
    some = query_on_doubt_decision(conf, 0.5, local, doubt, (2,), 3)

    assert never.prediction.tolist() == [1, 1, 1] and not never.queried[:, 1:].any()
    assert always.prediction.tolist() == [2, 2, 2] and always.queried.all()
    assert some.answer_tier.tolist() == [2, 0, 0]
    assert some.queried.tolist() == [[True, False, True], [True, False, False]] + [
        [True, False, False]
    ]
    with pytest.raises(ValueError, match="remote tiers"):
        query_on_doubt_decision(conf, 0.5, local, doubt, (0,), 3)
    with pytest.raises(ValueError, match="confidences"):
        query_on_doubt_decision(np.array([np.nan]), 0.5, local[:1], doubt[:1], (2,), 3)
    with pytest.raises(ValueError, match="threshold"):
        query_on_doubt_decision(conf, 1.5, local, doubt, (2,), 3)


def _path(rng, n_dev=2):
    rtt = np.sort(rng.uniform(0, 50, size=(n_dev, 3)), axis=1)
    rtt[:, 0] = 0.0
    nodes = np.array([[f"d{d}", f"e{d // 2}", "c"] for d in range(n_dev)])
    devices = tuple(f"d{d}" for d in range(n_dev))
    return PathLatency(
        devices, nodes, ("device", "edge", "cloud"), rtt, rng.uniform(0, 2, (n_dev, 3))
    )


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 10_000))
def test_latency_modes_are_ordered_parallel_relay_round_trips(seed):
    rng = np.random.default_rng(seed)
    base = _path(rng)
    tables = {m: with_mode(base, m).pattern_table() for m in QUERY_MODES}

    assert np.all(tables["parallel"] <= tables["relay"] + 1e-9)
    assert np.all(tables["relay"] <= tables["round_trips"] + 1e-9)
    np.testing.assert_allclose(tables["relay"], base.pattern_table())
    np.testing.assert_allclose(tables["parallel"], base.pattern_table(parallel=True))
    single = [1, 2, 4]  # one tier queried: every mode agrees
    np.testing.assert_allclose(tables["round_trips"][:, single], tables["parallel"][:, single])


def test_member_latency_counts_one_trip_per_node():
    base = PathLatency(
        ("d",),
        np.array([["d", "e", "c"]]),
        ("device", "edge", "cloud"),
        np.array([[0.0, 10.0, 30.0]]),
        np.zeros((1, 3)),
    )
    gflops = {"d": 1.0, "e": 2.0, "c": 10.0}

    lat = member_latency(base, [0, 1, 1, 2], [1e6, 2e6, 4e6, 1e7], gflops, "round_trips")
    q = np.array([[False, True, True, False], [True, True, True, True]])

    got = lat.latency_ms(q, np.array([0, 0]))
    # edge: one round trip (10 ms) + 1 ms + 2 ms; all: 10 + 30 + 1 + 1 + 2 + 1
    np.testing.assert_allclose(got, [13.0, 45.0])
    with pytest.raises(ValueError, match="non-decreasing"):
        member_latency(base, [1, 0], [1.0, 1.0], gflops)
    with pytest.raises(ValueError, match="no compute speed"):
        member_latency(base, [0, 1], [1.0, 1.0], {"d": 1.0})
    with pytest.raises(ValueError, match="query mode"):
        with_mode(base, "teleport")


def test_stage_decision_through_the_evaluator_matches_stage_level_metrics():
    rng = np.random.default_rng(5)
    base = _path(rng, n_dev=2)
    n, c = 300, 4
    labels = rng.integers(0, c, n)
    logits = rng.normal(size=(4, n, c)) + 2.5 * np.eye(c)[labels] * rng.uniform(0, 1, (4, 1, 1))
    table = OutputsTable(("dev", "e1", "e2", "cloud"), logits, labels)
    gflops = {nm: 1.0 for nm in base.nodes.ravel()}
    ens = path_ensemble(base, table, table, [0, 1, 1, 2], [1e5] * 4, gflops)
    stage = ens.stage_of_member()
    run = stage_running(table.probs(), stage, "soft")
    thresholds = np.array([0.3, 0.2])
    requests = make_requests(5000, n, base.devices, seed=1)

    decision = stage_decision(run, stage, thresholds)
    row = summarize(evaluate(decision, table, requests, ens.latency))
    st_lat = stage_latency(ens.latency, stage)
    conf = np.stack([np.clip((run[s].max(1) - 1 / c) / (1 - 1 / c), 0, 1) for s in range(2)])
    grid = cascade_metrics(
        conf, run.argmax(2) == labels, request_weights(requests, st_lat), thresholds
    )

    assert row["accuracy"] == pytest.approx(grid.accuracy[0])
    assert row["latency_ms"] == pytest.approx(grid.latency_ms[0])
    assert decision.queried[:, 1].tolist() == decision.queried[:, 2].tolist()  # one stage


def test_full_ensemble_queries_every_member_at_relay_cost():
    rng = np.random.default_rng(6)
    base = _path(rng, n_dev=2)
    table = OutputsTable(("a", "b", "c"), rng.normal(size=(3, 50, 3)), rng.integers(0, 3, 50))
    requests = make_requests(200, 50, base.devices, seed=0)

    out = evaluate(full_ensemble_decision(table.probs().mean(0), 3), table, requests, base)

    assert np.all(out.n_queried == 3)
    np.testing.assert_allclose(out.latency_ms, base.pattern_table()[requests.device, 7])
    np.testing.assert_array_equal(out.prediction, table.probs().mean(0).argmax(1)[requests.sample])
