"""Tests of carried-evidence forwarding: combination rules, the policy, the carried bytes'
latency, validation-chosen thresholds and the headline against the threshold families."""

from __future__ import annotations

import numpy as np
import pytest
from reference_delivery import (
    assert_same_outcomes,
    reference_carried_evidence,
    reference_carried_ms,
    synthetic,
)

from idn_core.delivery import (
    PLAIN_VARIANT,
    DeliverySetup,
    EvidenceVariant,
    StackedEvidence,
    carried_latency,
    cascade_choice,
    cascade_decision,
    cascade_metrics,
    choose_policies,
    combine_evidence,
    evaluate,
    evidence_choice,
    evidence_choices,
    evidence_curve,
    evidence_decision,
    evidence_headline,
    evidence_variants,
    evidence_verdict,
    log_probabilities,
    paired_gain_lcb,
    prepare_evidence,
    request_weights,
    summarize,
    uniform_weights,
    variant_choice,
)
from idn_core.learning import OutputsTable, fit_temperatures, table_confidences
from idn_core.network import PathLatency, make_requests, tree_topology


def tree_latency(topology, seed: int = 0) -> PathLatency:
    """Path latencies of ``topology`` with models on the device, the edge and the cloud."""
    rng = np.random.default_rng(seed)
    devices = tuple(topology.devices)
    tiers = {n.name: n.tier for n in topology.nodes}
    nodes = np.array(
        [[n for n in topology.path(d) if tiers[n] in ("device", "edge", "cloud")] for d in devices]
    )
    rtt = np.array(
        [[topology.rtt_ms(d, n) for n in row] for d, row in zip(devices, nodes, strict=True)]
    )
    comp = rng.uniform(0.01, 3.0, size=rtt.shape)
    return PathLatency(devices, nodes, ("device", "edge", "cloud"), rtt, comp)


def synthetic_setup(n_samples: int = 400, n_requests: int = 3000, seed: int = 0):
    """A DeliverySetup on synthetic val/test tables (models better up the path) and a tree."""
    val, _, _ = synthetic(seed, n_samples=n_samples, n_devices=4, low=0.2, high=3.0)
    test, _, _ = synthetic(seed + 100, n_samples=n_samples, n_devices=4, low=0.2, high=3.0)
    return setup_from_tables(val, test, n_requests, seed)


def setup_from_tables(val: OutputsTable, test: OutputsTable, n_requests: int, seed: int = 0):
    """A DeliverySetup of three-model val/test tables on a two-edge tree."""
    topology = tree_topology(n_edges=2, devices_per_edge=2)
    latency = tree_latency(topology, seed)
    n_samples = test.n_samples
    val = OutputsTable(val.models, val.logits, val.labels, "val")
    temps = fit_temperatures(val)
    conf_val = {"max_prob calibrated": table_confidences(val, "max_prob", temps)}
    conf_test = {"max_prob calibrated": table_confidences(test, "max_prob", temps)}
    requests = make_requests(n_requests, n_samples, latency.devices, seed=seed)
    setup = DeliverySetup(
        val,
        test,
        latency,
        requests,
        uniform_weights(val.n_samples, latency),
        request_weights(requests, latency),
        temps,
        conf_val,
        conf_test,
    )
    return setup, topology


@pytest.fixture(scope="module")
def synth():
    setup, topology = synthetic_setup()
    rules = ("local", "product", "mean", "stacked")
    return setup, topology, prepare_evidence(setup, topology, rules=rules)


# --- the combination rules -----------------------------------------------------------------


def test_product_and_mean_match_their_closed_forms():
    rng = np.random.default_rng(3)
    p = rng.dirichlet(np.ones(5), size=(3, 7))  # (K, N, C)

    prod = combine_evidence(np.log(p), "product")
    mean = combine_evidence(np.log(p), "mean")

    direct = p[0] * p[1] * p[2]
    np.testing.assert_allclose(prod[2], direct / direct.sum(-1, keepdims=True), rtol=1e-12)
    np.testing.assert_allclose(mean[1], (p[0] + p[1]) / 2, rtol=1e-12)
    np.testing.assert_allclose(prod[0], p[0], rtol=1e-12)  # the device carries nothing yet
    np.testing.assert_allclose(combine_evidence(np.log(p), "local"), p, rtol=1e-12)


def test_stacked_rule_is_fitted_out_of_fold_and_predicts_probabilities(synth):
    setup, _, ev = synth
    lp = log_probabilities(setup.val, setup.temperatures)

    stack = StackedEvidence(seed=0).fit(lp, setup.val.labels)
    test = stack.predict_proba(log_probabilities(setup.test, setup.temperatures))

    np.testing.assert_allclose(stack.oof_probs_.sum(-1), 1.0)
    np.testing.assert_allclose(
        test[0], np.exp(log_probabilities(setup.test, setup.temperatures))[0]
    )
    in_sample = stack.predict_proba(lp)
    assert not np.allclose(in_sample[1:], stack.oof_probs_[1:]), "validation scores are out-of-fold"
    np.testing.assert_array_equal(ev.combined_val["stacked"], stack.oof_probs_)


def test_pooling_independent_equal_views_beats_each_view_on_test():
    # Three models whose logits are independent noisy views of the label, equally good:
    # the product adds their logits (averages the noise), so it must beat each one.
    val, _, _ = synthetic(5, n_samples=2000, n_classes=4, low=1.0, high=1.0)
    test, _, _ = synthetic(6, n_samples=2000, n_classes=4, low=1.0, high=1.0)
    lp_val, lp_test = log_probabilities(val), log_probabilities(test)
    local = test.correct().mean(axis=1)

    pooled = {
        "product": combine_evidence(lp_test, "product"),
        "mean": combine_evidence(lp_test, "mean"),
        "stacked": StackedEvidence(seed=0).fit(lp_val, val.labels).predict_proba(lp_test),
    }

    for rule, probs in pooled.items():
        acc = (probs.argmax(-1) == test.labels).mean(axis=1)
        assert acc[2] > local.max() + 0.03, rule
        assert acc[0] == pytest.approx(local[0]), "the device carries nothing yet"


# --- the policy: a special case and exactness ----------------------------------------------


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_ignoring_the_evidence_is_the_plain_threshold_cascade(seed):
    topology = tree_topology(n_edges=2, devices_per_edge=2)
    lat = tree_latency(topology, seed)
    table, _, _ = synthetic(seed, n_devices=4)
    reqs = make_requests(2000, table.n_samples, lat.devices, seed=seed)
    t = np.random.default_rng(seed).uniform(0.1, 0.9, size=2)

    combined = combine_evidence(log_probabilities(table), "local")
    ev_dec = evidence_decision(combined, t)
    plain = cascade_decision(table_confidences(table, "max_prob"), t)

    np.testing.assert_array_equal(ev_dec.queried, plain.queried)
    np.testing.assert_array_equal(ev_dec.answer_tier, plain.answer_tier)
    assert_same_outcomes(
        evaluate(ev_dec, table, reqs, carried_latency(lat, topology, 0.0)),
        _as_reference(evaluate(plain, table, reqs, lat)),
    )


def _as_reference(outcome) -> dict:
    return {
        "answer_tier": outcome.answer_tier,
        "prediction": outcome.prediction,
        "correct": outcome.correct,
        "latency_ms": outcome.latency_ms,
        "n_queried": outcome.n_queried,
    }


def test_local_rule_choice_is_the_calibrated_cascade_choice_when_nothing_is_carried(synth):
    setup, topology, _ = synth
    ev = prepare_evidence(setup, topology, rules=("local",), bytes_per_probability=0.0)

    mine = evidence_choice(ev, "local", 0.01, n_grid=30)
    plain = cascade_choice(setup, "max_prob calibrated", 0.01, 30)

    assert mine["thresholds"] == plain["thresholds"]
    for key in ("accuracy", "latency_ms", "forwarded", "val_latency_ms"):
        assert mine[key] == pytest.approx(plain[key], abs=1e-12)


@pytest.mark.parametrize("n_regional", [0, 1])
@pytest.mark.parametrize("seed", [0, 1])
def test_evaluator_matches_the_per_request_reference(seed, n_regional):
    topology = tree_topology(n_edges=2, devices_per_edge=2, n_regional=n_regional)
    lat = tree_latency(topology, seed)
    table, _, _ = synthetic(seed, n_samples=80, n_classes=5, n_devices=4)
    reqs = make_requests(3000, table.n_samples, lat.devices, seed=seed)
    t = np.random.default_rng(seed).uniform(0.2, 0.95, size=2)
    size = 5000.0  # large enough for the carried bytes to show in the latency

    carried = carried_latency(lat, topology, size)
    out = evaluate(
        evidence_decision(combine_evidence(log_probabilities(table), "product"), t),
        table,
        reqs,
        carried,
    )

    extra = reference_carried_ms(topology, lat.nodes, size)
    ref = reference_carried_evidence(
        table.probs(), t, table.labels, reqs.sample, reqs.device, lat.rtt_ms, lat.compute_ms, extra
    )
    assert_same_outcomes(out, ref)
    assert (carried.rtt_ms[:, 1:] > lat.rtt_ms[:, 1:]).all()
    np.testing.assert_array_equal(carried.rtt_ms[:, 0], lat.rtt_ms[:, 0])


def test_carried_bytes_cost_what_the_links_say():
    topology = tree_topology(n_edges=1, devices_per_edge=1)  # 100 Mbit/s links
    lat = tree_latency(topology)

    extra = carried_latency(lat, topology, 1250.0).rtt_ms - lat.rtt_ms

    # 1,250 bytes = 0.1 ms at 100 Mbit/s: one output on the uplink, two on the next link.
    np.testing.assert_allclose(extra, [[0.0, 0.1, 0.3]], atol=1e-12)


def test_what_each_tier_returns_is_chosen_on_validation(synth):
    setup, topology, ev = synth
    forced = {
        m: prepare_evidence(setup, topology, rules=("product",), predict=m)
        for m in ("combined", "local")
    }

    own = ev.predictions("product", "test")
    combined = ev.combined_test["product"].argmax(-1)
    np.testing.assert_array_equal(forced["combined"].predictions("product", "test"), combined)
    np.testing.assert_array_equal(
        forced["local"].predictions("product", "test"), setup.test.predictions()
    )
    better = [
        reference_gain_lcb(c, o) > 0
        for c, o in zip(
            ev.combined_val["product"].argmax(-1) == setup.val.labels,
            setup.val.correct(),
            strict=True,
        )
    ]
    better[0] = False
    np.testing.assert_array_equal(ev.predict_combined["product"], better)
    for k in range(3):
        expected = combined[k] if better[k] else setup.test.predictions()[k]
        np.testing.assert_array_equal(own[k], expected)


@pytest.mark.parametrize("decide", [None, [False, False, False], [False, True, False]])
@pytest.mark.parametrize("rule", ["product", "stacked"])
def test_exact_sweep_metrics_match_the_evaluator(synth, rule, decide):
    setup, _, ev = synth
    t = np.array([0.55, 0.35])
    mask = None if decide is None else np.array(decide)
    probs = ev.decision_probs(rule, "test", mask)
    decision = evidence_decision(probs, t, predictions=ev.predictions(rule, "test"))
    if decide == [False, False, False]:  # the tiers' own confidences, by an independent path
        own = table_confidences(setup.test, "max_prob", setup.temperatures)
        np.testing.assert_allclose(ev.confidences(rule, "test", mask), own, atol=1e-12)

    row = summarize(evaluate(decision, setup.test, setup.requests, ev.latency))
    exact = cascade_metrics(
        ev.confidences(rule, "test", mask)[:2], ev.correct(rule, "test"), ev.w_test, t
    ).iloc[0]

    assert row["accuracy"] == pytest.approx(exact.accuracy, abs=1e-12)
    assert row["latency_ms"] == pytest.approx(exact.latency_ms, rel=1e-9)


# --- significance of a tier's pooled class, the variants --------------------------------------


def reference_gain_lcb(better: np.ndarray, base: np.ndarray, z: float = 1.645) -> float:
    """The paired bound from the discordant counts alone (McNemar's layout)."""
    n = better.size
    n10 = int(np.sum(better & ~base))  # only ``better`` right
    n01 = int(np.sum(~better & base))  # only ``base`` right
    mean = (n10 - n01) / n
    var = ((n10 + n01) / n - mean**2) * n / (n - 1)
    return mean - z * np.sqrt(var / n)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_paired_gain_bound_matches_the_discordant_count_formula(seed):
    rng = np.random.default_rng(seed)
    a, b = rng.random(500) < 0.8, rng.random(500) < 0.75

    assert paired_gain_lcb(a, b) == pytest.approx(reference_gain_lcb(a, b), abs=1e-12)
    assert paired_gain_lcb(a, a) == 0.0
    assert paired_gain_lcb(a, b, z=0.0) == pytest.approx(a.mean() - b.mean(), abs=1e-12)


def test_variants_are_the_plain_cascade_and_every_decision_mask():
    four = evidence_variants(4, np.array([False, False, True, True]))
    masks = {v.decide for v in four[1:]}

    assert not four[0].carries and four[0].label(("d", "e", "r", "c")) == PLAIN_VARIANT
    # brute force: tier 0 and the last tier never decide on evidence, tiers 1..2 do or not
    assert masks == {(False, a, b, False) for a in (False, True) for b in (False, True)}
    assert all(v.predict == (False, False, True, True) for v in four[1:])
    # nothing returned pooled: the all-own mask would be the plain cascade again, so it goes
    three = evidence_variants(3, np.zeros(3, bool))
    assert [v.decide for v in three] == [(False,) * 3, (False, True, False)]
    assert three[1].label(("device", "edge", "cloud")) == "combined confidence at edge"
    both = EvidenceVariant((False, True, True, False), (False, False, True, True))
    assert both.label(("d", "e", "r", "c")) == "combined confidence at e, r; combined class at r, c"


def lucky_pooling_tables(seed: int, n: int = 2000) -> OutputsTable:
    """Val/test tables where pooling at the cloud changes many classes for no gain.

    80 % of the samples: every model confidently right. 10 %: the cloud right by a small
    margin, the device and edge confidently agreeing on a wrong class (pooled: wrong).
    10 % (plus a few on validation): the cloud wrong by a small margin, the lower models
    confidently right (pooled: right). On validation the pooled cloud is right on 4 more
    samples than the cloud alone, out of 400 that change: noise, not skill.
    """
    rng = np.random.default_rng(seed)
    n_classes = 3
    labels = rng.integers(0, n_classes, n)
    wrong = (labels + 1 + rng.integers(0, 2, n)) % n_classes
    group = np.repeat([0, 1, 2], [n - 2 * (n // 10), n // 10, n // 10])
    rng.shuffle(group)
    logits = rng.normal(0.0, 0.1, size=(3, n, n_classes))
    rows = np.arange(n)
    low_margin = np.where(group == 0, 4.0, 3.0)  # the lower models' confidence
    low_class = np.where(group == 1, wrong, labels)
    for k in (0, 1):
        logits[k, rows, low_class] += low_margin
    cloud_class = np.where(group == 2, wrong, labels)
    logits[2, rows, cloud_class] += np.where(group == 0, 4.0, 1.0)
    return OutputsTable(("dev", "edge", "cloud"), logits, labels, "test")


def test_lucky_pooling_at_the_cloud_does_not_beat_the_plain_cascade():
    # The raised-noise failure, built on purpose: returning the cloud's pooled class (right
    # on 4 more of 2,000 validation samples) makes the gap to cloud-only so noisy that no
    # setting passes the bound and the old rule forwarded everything, carried bytes added.
    val = lucky_pooling_tables(0, 2004)
    base = val.logits.copy()
    extra = np.where(val.labels[:4, None] == np.arange(3), 1.0, 0.0)  # 4 more pooled-right
    base[2, :4] = -extra  # the cloud alone is wrong on them...
    base[0, :4] = base[1, :4] = 3.0 * extra  # ...the lower models right
    val = OutputsTable(val.models, base, val.labels, "val")
    test = lucky_pooling_tables(1, 2000)
    setup, topology = setup_from_tables(val, test, n_requests=20_000)
    ev = prepare_evidence(setup, topology, rules=("product",))
    pooled_right = ev.combined_val["product"][2].argmax(-1) == val.labels
    assert pooled_right.sum() > val.correct()[2].sum(), "pooling wins on raw counts"

    forced = prepare_evidence(setup, topology, rules=("product",), predict="combined")
    k3 = (False, True, True)
    old = variant_choice(forced, "product", EvidenceVariant((False, True, False), k3), 0.005, 40)
    row = evidence_choices(ev, 0.005, 40).iloc[0]
    plain = cascade_choice(setup, "max_prob calibrated", 0.005, 40)

    assert old["thresholds"] == [1.0, 1.0], "the old rule forwarded everything"
    assert not ev.predict_combined["product"][2], "4 of 400 changed classes is not significant"
    assert row.val_latency_ms <= plain["val_latency_ms"] + 1e-9
    assert row.latency_ms < old["latency_ms"] and row.thresholds != [1.0, 1.0]


def test_the_family_contains_the_plain_cascade_and_never_loses_on_validation(synth):
    setup, _, ev = synth
    plain = cascade_choice(setup, "max_prob calibrated", 0.01, 30)

    rows = evidence_choices(ev, 0.01, n_grid=30)
    none = (False, False, False)
    as_plain = variant_choice(ev, "mean", EvidenceVariant(none, none), 0.01, 30)

    assert (rows.val_latency_ms <= plain["val_latency_ms"] + 1e-9).all(), rows
    assert as_plain["thresholds"] == plain["thresholds"] and not as_plain["carries"]
    for key in ("accuracy", "latency_ms", "val_latency_ms"):
        assert as_plain[key] == pytest.approx(plain[key], abs=1e-12)
    for _, row in rows.iterrows():
        assert row.carries == (row.variant != PLAIN_VARIANT)


# --- chosen on validation, reported on test -------------------------------------------------


def test_chosen_accuracy_lies_between_the_device_and_the_oracle(synth):
    setup, _, ev = synth
    corr = setup.test.correct()
    device, oracle = float(setup.w_test.count @ corr[0]), float(setup.w_test.count @ corr.any(0))

    rows = evidence_choices(ev, tolerance=0.01, n_grid=30)

    assert ((rows.accuracy >= device) & (rows.accuracy <= oracle)).all(), rows
    assert rows.chosen.sum() >= 1


def test_every_curve_point_lies_between_all_and_any_combined_row_right(synth):
    _, _, ev = synth
    for rule in ("product", "mean", "stacked"):
        corr = ev.correct(rule, "test")
        low, high = ev.w_test.count @ corr.all(0), ev.w_test.count @ corr.any(0)

        curve = evidence_curve(ev, rule, n_grid=20)

        assert (curve.accuracy >= low - 1e-12).all() and (curve.accuracy <= high + 1e-12).all()
        assert curve.family.iloc[0] == f"carried evidence ({rule})"


def test_headline_compares_with_the_threshold_families(synth):
    setup, _, ev = synth
    alphas = np.geomspace(1e-4, 1e-1, 5)
    choices = choose_policies(setup, 0.01, n_grid=30, alphas=alphas)

    head = evidence_headline(ev, choices, 0.01, n_grid=30)

    rule = head["evidence_rule"]
    assert head["evidence_captured"] == pytest.approx(head[f"captured:{rule}"])
    assert head["captured_gain"] == pytest.approx(
        head["evidence_captured"] - head["threshold_captured"]
    )
    saving = 1 - head["oracle_latency_ratio"]
    assert head["evidence_captured"] == pytest.approx((1 - head["evidence_latency_ratio"]) / saving)
    assert head["carried_bytes"] == 4 * setup.val.n_classes
    threshold = choices[choices.chosen].iloc[0]
    assert head["threshold_latency_ratio"] == pytest.approx(threshold.latency_ratio)
    assert head["threshold_gap_pp"] == pytest.approx(threshold.gap_pp)
    chosen = evidence_choices(ev, 0.01, n_grid=30).query("chosen").iloc[0]
    assert head["evidence_variant"] == chosen.variant
    assert head["evidence_carries"] == float(chosen.carries)


@pytest.mark.parametrize(
    ("gain", "words"),
    [
        (0.0041, "gains 0.004"),
        (-0.0316, "loses 0.032"),
        (0.0004, "gains or loses less than 0.001"),
        (-0.0004, "gains or loses less than 0.001"),
        (0.0, "gains or loses less than 0.001"),
    ],
)
def test_verdict_words_follow_the_sign_and_size_of_the_gain(gain, words):
    assert evidence_verdict(gain) == words


# --- seeds and bad input --------------------------------------------------------------------


def test_stacked_rule_is_deterministic_per_seed(synth):
    setup, topology, ev = synth
    again = prepare_evidence(setup, topology, rules=("stacked",), seed=0)
    other = prepare_evidence(setup, topology, rules=("stacked",), seed=1)

    np.testing.assert_array_equal(again.combined_val["stacked"], ev.combined_val["stacked"])
    np.testing.assert_array_equal(again.combined_test["stacked"], ev.combined_test["stacked"])
    assert not np.array_equal(other.combined_val["stacked"], ev.combined_val["stacked"])


def test_bad_input_is_refused_with_named_arguments(synth):
    setup, topology, ev = synth
    lp = np.log(np.full((2, 3, 4), 0.25))
    with pytest.raises(ValueError, match="rule"):
        combine_evidence(lp, "vote")
    with pytest.raises(ValueError, match="log_probs"):
        combine_evidence(np.full((2, 3, 4), np.nan), "product")
    with pytest.raises(ValueError, match="log_probs"):
        combine_evidence(lp[0], "product")
    with pytest.raises(ValueError, match="normalised"):
        combine_evidence(lp + 0.1 * (lp < 0) - 1.0, "mean")
    with pytest.raises(ValueError, match="thresholds"):
        evidence_decision(np.exp(lp), [0.5, 0.5])
    with pytest.raises(ValueError, match="thresholds"):
        evidence_decision(np.exp(lp), [np.nan])
    with pytest.raises(ValueError, match="combined"):
        evidence_decision(np.full((2, 3, 4), 0.5), [0.5])
    with pytest.raises(ValueError, match="bytes_per_output"):
        carried_latency(setup.latency, topology, -1.0)
    with pytest.raises(TypeError, match="topology"):
        carried_latency(setup.latency, "tree", 1.0)
    with pytest.raises(ValueError, match="not on its path"):
        carried_latency(setup.latency, tree_topology(n_edges=4, devices_per_edge=1), 1.0)
    with pytest.raises(ValueError, match="rules"):
        prepare_evidence(setup, topology, rules=())
    with pytest.raises(ValueError, match="each once"):
        prepare_evidence(setup, topology, rules=("product", "product"))
    with pytest.raises(ValueError, match="rule"):
        prepare_evidence(setup, topology, rules=("vote",))
    with pytest.raises(TypeError, match="seed"):
        prepare_evidence(setup, topology, seed=1.5)
    with pytest.raises(ValueError, match="predict"):
        prepare_evidence(setup, topology, predict="vote")
    with pytest.raises(ValueError, match="predictions"):
        evidence_decision(np.exp(lp), [0.5], predictions=np.zeros((2, 3)))
    with pytest.raises(ValueError, match="predictions"):
        evidence_decision(np.exp(lp), [0.5], predictions=np.full((2, 3), 4))
    with pytest.raises(ValueError, match="split"):
        ev.confidences("product", "train")
    with pytest.raises(ValueError, match="tolerance"):
        evidence_choice(ev, "product", tolerance=-0.1)
    with pytest.raises(ValueError, match="c must"):
        StackedEvidence(c=0.0)
    with pytest.raises(ValueError, match="temperatures"):
        log_probabilities(setup.val, np.array([1.0, -1.0, 1.0]))
    with pytest.raises(RuntimeError, match="fit"):
        StackedEvidence().predict_proba(lp)
    with pytest.raises(ValueError, match="decide"):
        ev.confidences("product", "val", np.array([True, False]))
    with pytest.raises(ValueError, match="tier 0"):
        EvidenceVariant((True, False, False), (False, False, False))
    with pytest.raises(ValueError, match="predict"):
        evidence_variants(3, np.array([0, 1, 1]))
    with pytest.raises(TypeError, match="bool"):
        paired_gain_lcb(np.array([1, 0]), np.array([True, False]))
    with pytest.raises(ValueError, match="captured_gain"):
        evidence_verdict(float("nan"))
    with pytest.raises(ValueError, match="N >= 2"):
        paired_gain_lcb(np.array([True]), np.array([False]))
