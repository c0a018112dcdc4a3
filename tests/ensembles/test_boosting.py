"""Tests of SAMME boosting, exact early stopping and member training (boosting, bagging)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.base import clone
from sklearn.datasets import load_digits
from sklearn.ensemble import AdaBoostClassifier
from sklearn.tree import DecisionTreeClassifier

from idn_core.ensembles import (
    accuracy_vs_members,
    bootstrap_indices,
    early_stop_decision,
    member_specs,
    samme,
    samme_decision_function,
    samme_predict,
    train_bagged,
    train_boosted,
)
from idn_core.learning import load_dataset


@pytest.fixture(scope="module")
def digits_split():
    x, y = load_digits(return_X_y=True)
    order = np.random.default_rng(0).permutation(len(y))
    return x[order[:1000]], y[order[:1000]], x[order[1000:]], y[order[1000:]]


@pytest.mark.parametrize(("depth", "lr", "n"), [(1, 1.0, 12), (2, 0.5, 8), (3, 1.0, 6)])
def test_samme_equals_sklearn_adaboost_given_the_same_weak_learners(digits_split, depth, lr, n):
    x, y, x_te, y_te = digits_split
    ada = AdaBoostClassifier(
        DecisionTreeClassifier(max_depth=depth), n_estimators=n, learning_rate=lr, random_state=0
    ).fit(x, y)
    learners = []

    def train_member(k, w):
        # the same weak learner (AdaBoost's seeded configuration), refitted on OUR weights
        learners.append(clone(ada.estimators_[k]).fit(x, y, sample_weight=w))
        return learners[-1].predict(x)

    result = samme(train_member, y, 10, n, learning_rate=lr)
    preds = np.stack([m.predict(x_te) for m in learners])

    np.testing.assert_allclose(result.alphas, ada.estimator_weights_, rtol=1e-10)
    np.testing.assert_allclose(result.errors, ada.estimator_errors_, rtol=1e-10)
    np.testing.assert_array_equal(samme_predict(preds, result.alphas, 10), ada.predict(x_te))
    np.testing.assert_allclose(
        samme_decision_function(preds, result.alphas, 10), ada.decision_function(x_te), atol=1e-12
    )


def test_samme_weights_emphasise_what_earlier_members_get_wrong(digits_split):
    x, y, _, _ = digits_split
    preds = []

    def train_member(k, w):
        preds.append(DecisionTreeClassifier(max_depth=2, random_state=k).fit(x, y, w).predict(x))
        return preds[-1]

    result = samme(train_member, y, 10, 3)
    wrong0 = preds[0] != y

    assert result.sample_weights.shape == (3, len(y))
    np.testing.assert_allclose(result.sample_weights.sum(1), 1.0)
    np.testing.assert_allclose(result.sample_weights[0], 1 / len(y))
    ratio = result.sample_weights[1][wrong0].mean() / result.sample_weights[1][~wrong0].mean()
    assert ratio == pytest.approx(np.exp(result.alphas[0]))


def test_samme_errors_and_degenerate_members():
    y = np.array([0, 1, 2, 0, 1, 2])
    with pytest.raises(ValueError, match="no better than chance"):
        samme(lambda k, w: (y + 1) % 3, y, 3, 2)
    with pytest.raises(ValueError, match="labels"):
        samme(lambda k, w: y, np.array([0, 5]), 3, 2)
    with pytest.raises(ValueError, match="predictions of shape"):
        samme(lambda k, w: y[:2], y, 3, 2)
    perfect = samme(lambda k, w: y, y, 3, 5)  # a perfect member ends boosting with weight 1
    assert perfect.alphas.tolist() == [1.0] and perfect.errors.tolist() == [0.0]


@settings(max_examples=60, deadline=None)
@given(
    st.integers(1, 6),
    st.integers(1, 40),
    st.integers(2, 5),
    st.integers(0, 10_000),
    st.booleans(),
)
def test_exact_early_stopping_gives_the_full_vote(m, n, c, seed, integer_alphas):
    rng = np.random.default_rng(seed)
    preds = rng.integers(0, c, size=(m, n))
    preds[1:] = np.where(rng.random((m - 1, n)) < 0.6, preds[:1], preds[1:])  # some agreement
    alphas = rng.integers(1, 4, m).astype(float) if integer_alphas else rng.uniform(0.1, 3, m)

    d = early_stop_decision(preds, alphas, c)

    np.testing.assert_array_equal(d.prediction, samme_predict(preds, alphas, c))
    assert (d.queried == (np.arange(m) <= d.answer_tier[:, None])).all()  # prefixes only
    for i in np.flatnonzero(d.answer_tier < m - 1):  # stopped early: decided beyond doubt
        k = d.answer_tier[i]
        votes = np.bincount(preds[: k + 1, i], weights=alphas[: k + 1], minlength=c)
        top2 = np.sort(votes)[-2:]
        assert top2[1] - top2[0] > alphas[k + 1 :].sum()


def test_early_stop_is_tight_and_the_confidence_rule_stops_sooner():
    preds = np.array([[0, 0], [1, 0], [1, 1]])
    alphas = np.array([2.0, 1.0, 1.0])

    exact = early_stop_decision(preds, alphas, 2)
    loose = early_stop_decision(preds, alphas, 2, tau=0.6)

    # sample 0: after member 0 the margin 2 equals what remains (a tie is possible): go on;
    # sample 1: after member 1 the margin 3 exceeds the 1 that remains: stop
    assert exact.answer_tier.tolist() == [2, 1]
    assert loose.answer_tier.tolist() == [0, 0]
    assert (loose.queried.sum(1) <= exact.queried.sum(1)).all()
    with pytest.raises(ValueError, match="alphas"):
        early_stop_decision(preds, np.array([1.0, -1.0, 1.0]), 2)
    with pytest.raises(ValueError, match="tau"):
        early_stop_decision(preds, alphas, 2, tau=0.0)


def test_bootstrap_indices_are_seeded_resamples():
    a, b = bootstrap_indices(100, 2, seed=3), bootstrap_indices(100, 2, seed=3)
    assert all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))
    assert len(np.unique(a[0])) < 100 and a[0].min() >= 0 and a[0].max() < 100
    assert not np.array_equal(a[0], a[1])


def test_member_specs_are_diverse_unless_asked_and_named_uniquely():
    diverse = member_specs("mnist1d", 6)
    same = member_specs("mnist1d", 3, diverse=False, epochs=2)
    assert len({s.name for s in diverse}) == 6
    assert len({(s.arch, str(s.arch_kwargs)) for s in diverse}) == 4
    assert len({str(s.arch_kwargs) for s in same}) == 1 and all(s.epochs == 2 for s in same)


@pytest.fixture(scope="module")
def tiny_digits(tmp_path_factory):
    import os

    old = os.environ.get("IDN_CACHE_DIR")
    os.environ["IDN_CACHE_DIR"] = str(tmp_path_factory.mktemp("cache"))
    yield load_dataset("digits", seed=0)
    if old is None:
        del os.environ["IDN_CACHE_DIR"]
    else:
        os.environ["IDN_CACHE_DIR"] = old


def test_train_bagged_and_boosted_members_on_digits(tiny_digits):
    specs = member_specs("digits", 3, epochs=3)

    bag = train_bagged(tiny_digits, specs, seed=0, progress=False)
    skew = train_bagged(tiny_digits, specs, seed=0, mode="dirichlet", alpha=0.1, progress=False)
    boost = train_boosted(tiny_digits, specs, seed=0, progress=False)

    assert bag.val.n_models == 3 and bag.test.n_samples == len(tiny_digits.y_test)
    assert all(len(i) == len(tiny_digits.y_train) for i in bag.train_indices)
    assert sum(len(i) for i in skew.train_indices) == len(tiny_digits.y_train)
    assert boost.boosting is not None and boost.val.n_models == boost.boosting.n_members
    assert (boost.boosting.alphas > 0).all()
    curve = accuracy_vs_members(bag.test.probs(), bag.test.labels, n_orders=3)
    assert curve.k.tolist() == [1, 2, 3] and (curve["min"] <= curve["max"]).all()
    with pytest.raises(ValueError, match="mode"):
        train_bagged(tiny_digits, specs, mode="jackknife")


def test_compare_puts_every_family_on_one_stream(tiny_digits):
    from idn_core.ensembles import compare
    from idn_core.network import load_scenario

    scenario = load_scenario("digits", epochs=3, progress=False)
    data = scenario.dataset
    edge = train_bagged(data, member_specs("digits", 2, epochs=2), 0, progress=False)
    cloud = train_bagged(data, member_specs("digits", 2, epochs=2, tier="cloud"), 1, progress=False)
    first = scenario.zoo[scenario.path_models[0]]
    specs = [first.spec] + member_specs("digits", 2, epochs=2)
    boosted = train_boosted(data, specs, 0, first=first, progress=False)

    comp = compare(scenario, {1: edge, 2: cloud}, boosted, n_requests=4000, n_grid=8, learned=False)

    pts = comp.points
    assert {"single model", "cascade", "full ensemble", "ensemble cascade", "boosting"} <= set(
        pts.family
    )
    full = pts[pts.family == "full ensemble"]
    assert (full.models_queried == 7).all()  # 3 path models + 2 + 2 committee members
    ch2 = pts[pts.policy == "chapter 2 choice"].iloc[0]
    assert comp.budget_ms == pytest.approx(ch2.latency_ms)
    boost = pts[pts.family == "boosting"].set_index("policy")
    assert boost.loc["exact early stop", "accuracy"] == boost.loc["all members", "accuracy"]
    assert boost.loc["exact early stop", "latency_ms"] <= boost.loc["all members", "latency_ms"]
    assert 0 < comp.numbers.boost_queried_fraction <= 1
    qd = comp.fronts["query-on-doubt (combine)"]
    fw = comp.fronts["forward on doubt (replace)"]
    np.testing.assert_allclose(qd.latency_ms, fw.latency_ms)  # same queries, same latency
    assert comp.oracle.accuracy.max() >= pts.accuracy[pts.family == "cascade"].max()
