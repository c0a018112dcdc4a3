"""Tests of FedAvg (idn_core.federated.fedavg) and delivery-aware training (idn_core.federated.delivery_aware)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from idn_core.delivery import cascade_answer
from idn_core.federated import (
    check_serving_shares,
    client_seed,
    client_update,
    max_confidence,
    node_test_indices,
    per_node_accuracy,
    reach_weights,
    run_delivery_training,
    run_fedavg,
    sample_clients,
    served_accuracy,
    share_thresholds,
    tradeoff_curve,
    weighted_average,
)
from idn_core.learning import (
    ModelSpec,
    fit,
    load_dataset,
    module_state,
    partition_dirichlet,
    partition_iid,
)

torch.set_num_threads(1)

SPEC = ModelSpec("mlp-fed", "edge", "mlp", {"hidden": [16]}, batch_size=64, lr=1e-2)


@pytest.fixture(scope="module")
def digits():
    return load_dataset("digits", seed=0)


# ----------------------------------------------------------------------------- aggregation


def test_weighted_average_matches_hand_computation():
    a = {"w": np.array([0.0, 2.0], np.float32), "n": np.array(3)}
    b = {"w": np.array([4.0, 6.0], np.float32), "n": np.array(5)}
    out = weighted_average([a, b], [3, 1])
    np.testing.assert_allclose(out["w"], [1.0, 3.0])
    assert out["w"].dtype == np.float32
    assert int(out["n"]) == 5  # integer buffers take the maximum
    assert a["w"].tolist() == [0.0, 2.0]  # inputs untouched


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.floats(-5, 5), min_size=2, max_size=5),
    st.lists(st.floats(0.01, 10), min_size=5, max_size=5),
)
def test_weighted_average_is_a_convex_combination(values, weights):
    states = [{"w": np.array([v])} for v in values]
    out = weighted_average(states, weights[: len(values)])["w"][0]
    assert min(values) - 1e-9 <= out <= max(values) + 1e-9
    scaled = weighted_average(states, [7 * w for w in weights[: len(values)]])["w"][0]
    assert scaled == pytest.approx(out)


@pytest.mark.parametrize(
    ("weights", "match"), [([0, 0], "not all zero"), ([1, -1], "non-negative"), ([1], "one weight")]
)
def test_weighted_average_rejects_bad_weights(weights, match):
    s = {"w": np.zeros(2)}
    with pytest.raises(ValueError, match=match):
        weighted_average([s, s], weights)


def test_weighted_average_rejects_mismatched_states():
    with pytest.raises(ValueError, match="names"):
        weighted_average([{"a": np.zeros(1)}, {"b": np.zeros(1)}], [1, 1])


def test_sample_clients_is_seeded_and_without_replacement():
    a = sample_clients(10, 0.3, np.random.default_rng(4))
    b = sample_clients(10, 0.3, np.random.default_rng(4))
    assert a.tolist() == b.tolist() and len(set(a.tolist())) == 3
    assert len(sample_clients(10, 0.01, np.random.default_rng(0))) == 1
    with pytest.raises(ValueError, match="fraction"):
        sample_clients(10, 1.5, np.random.default_rng(0))


def test_client_seeds_differ_per_round_and_client():
    seeds = {client_seed(0, r, c) for r in range(5) for c in range(5)}
    assert len(seeds) == 25


# ----------------------------------------------------------------------------- FedAvg loop


def test_one_client_one_round_equals_local_fit(digits):
    x, y = digits.x_train[:300], digits.y_train[:300]
    torch.manual_seed(3)
    init = module_state(SPEC.build(x.shape[1], 10))
    fed = run_fedavg(SPEC, x, y, [np.arange(300)], rounds=1, local_epochs=2, seed=3, progress=False)
    direct = SPEC.build(x.shape[1], 10)
    direct.load_state_dict({k: torch.as_tensor(v) for k, v in init.items()})
    from dataclasses import replace

    fit(direct, x, y, replace(SPEC, epochs=2), seed=client_seed(3, 0, 0), progress=False)
    for k, v in module_state(direct).items():
        np.testing.assert_allclose(fed.state[k], v, atol=1e-6)


def test_fedavg_learns_on_non_iid_data_and_is_reproducible(digits):
    parts = partition_dirichlet(digits.y_train, 5, alpha=0.5, seed=0, min_size=5)
    kw = {"rounds": 5, "local_epochs": 3, "fraction": 0.6, "seed": 1, "progress": False}
    evaluate = lambda s: {"n_params": float(sum(v.size for v in s.values()))}  # noqa: E731
    a = run_fedavg(SPEC, digits.x_train, digits.y_train, parts, evaluate=evaluate, **kw)
    b = run_fedavg(SPEC, digits.x_train, digits.y_train, parts, **kw)
    acc = (a.predict_logits(digits.x_test).argmax(1) == digits.y_test).mean()
    assert acc > 0.6  # chance is 0.1
    assert a.history["clients"].tolist() == [3] * 5
    assert "n_params" in a.history
    for k in a.state:
        np.testing.assert_array_equal(a.state[k], b.state[k])


def test_fedavg_sample_weights_change_the_model(digits):
    parts = partition_iid(len(digits.y_train), 3, seed=0)
    w = (digits.y_train < 5).astype(float) + 0.01
    kw = {"rounds": 2, "seed": 0, "progress": False}
    plain = run_fedavg(SPEC, digits.x_train, digits.y_train, parts, **kw)
    weighted = run_fedavg(SPEC, digits.x_train, digits.y_train, parts, sample_weight=w, **kw)
    pred = weighted.predict_logits(digits.x_test).argmax(1)
    plain_pred = plain.predict_logits(digits.x_test).argmax(1)
    assert (pred < 5).mean() > (plain_pred < 5).mean()


def test_fedavg_rejects_node_without_data(digits):
    with pytest.raises(ValueError, match="client 1 has no data"):
        run_fedavg(
            SPEC, digits.x_train, digits.y_train, [np.arange(10), np.array([], int)], rounds=1
        )
    with pytest.raises(ValueError, match="without data"):
        client_update(
            {},
            SPEC,
            digits.x_train[:0],
            digits.y_train[:0],
            input_length=64,
            n_classes=10,
            local_epochs=1,
            seed=0,
        )


@pytest.mark.parametrize(
    "bad, match",
    [
        (np.nan, "finite"),
        (np.inf, "finite"),
        (-1.0, ">= 0"),
        (0.0, "zero on every client"),
    ],
)
def test_fedavg_rejects_sample_weights_that_cannot_train(digits, bad, match):
    # issue 15: these returned the seeded initial weights with a normal-looking history
    x, y = digits.x_train[:120], digits.y_train[:120]
    parts = partition_iid(len(y), 2, seed=0)
    w = np.ones(len(y))
    w[parts[0]] = bad
    w[parts[1]] = bad if bad == 0 else 1.0
    with pytest.raises(ValueError, match=f"sample_weight.*{match}|{match}.*sample_weight"):
        run_fedavg(SPEC, x, y, parts, rounds=1, sample_weight=w, progress=False)


def test_fedavg_reports_clients_whose_weights_sum_to_zero(digits):
    x, y = digits.x_train[:240], digits.y_train[:240]
    parts = partition_iid(len(y), 3, seed=0)
    w = np.ones(len(y))
    w[parts[1]] = 0.0
    torch.manual_seed(2)
    init = module_state(SPEC.build(x.shape[1], 10))

    with pytest.warns(UserWarning, match=r"clients \[1\] have sample weights summing to zero"):
        res = run_fedavg(SPEC, x, y, parts, rounds=2, seed=2, sample_weight=w, progress=False)

    assert res.skipped_clients == (1,)
    assert res.history["skipped"].tolist() == [1, 1]
    assert res.history["clients"].tolist() == [3, 3]
    assert any(not np.array_equal(res.state[k], init[k]) for k in init)  # the others trained


def test_client_update_checks_weights_and_flags_a_zero_total(digits):
    x, y = digits.x_train[:50], digits.y_train[:50]
    torch.manual_seed(0)
    state = module_state(SPEC.build(x.shape[1], 10))
    kw = {"input_length": x.shape[1], "n_classes": 10, "local_epochs": 1, "seed": 0}
    with pytest.raises(ValueError, match="sample_weight must be finite"):
        client_update(state, SPEC, x, y, sample_weight=np.full(50, np.nan), **kw)
    with pytest.raises(ValueError, match=r"sample_weight must have shape \(50,\)"):
        client_update(state, SPEC, x, y, sample_weight=np.ones(49), **kw)

    idle = client_update(state, SPEC, x, y, sample_weight=np.zeros(50), **kw)

    assert idle.skipped and idle.weight == 0
    for k in state:
        np.testing.assert_array_equal(idle.state[k], state[k])


def test_node_test_indices_follow_each_nodes_label_mix(digits):
    parts = partition_dirichlet(digits.y_train, 3, alpha=0.2, seed=2, min_size=20)
    labels = [digits.y_train[p] for p in parts]
    idx = node_test_indices(labels, digits.y_test, size=2000, seed=0)
    for lab, ix in zip(labels, idx, strict=True):
        train_mix = np.bincount(lab, minlength=10) / len(lab)
        test_mix = np.bincount(digits.y_test[ix], minlength=10) / len(ix)
        assert np.abs(train_mix - test_mix).max() < 0.05
    logits = np.eye(10)[digits.y_test]
    assert per_node_accuracy(logits, digits.y_test, idx).tolist() == [1.0, 1.0, 1.0]


# ----------------------------------------------------------------------------- delivery-aware


def test_share_thresholds_serve_the_requested_shares():
    rng = np.random.default_rng(0)
    conf = rng.random((2, 10_000))
    thr = share_thresholds(conf, [0.5, 0.3, 0.2])
    tiers = cascade_answer(conf, thr)
    shares = np.bincount(tiers, minlength=3) / len(tiers)
    np.testing.assert_allclose(shares, [0.5, 0.3, 0.2], atol=2e-3)
    assert cascade_answer(conf, share_thresholds(conf, [0.0, 0.0, 1.0])).min() == 2


@pytest.mark.parametrize("shares", [[0.5, 0.3, 0.3], [0.5, 0.5], [1.2, -0.1, -0.1]])
def test_shares_must_be_a_split(shares):
    with pytest.raises(ValueError, match="serving shares"):
        check_serving_shares(shares, 3)


def test_reach_weights_hard_match_the_cascade_and_decrease_along_the_path():
    rng = np.random.default_rng(1)
    conf = rng.random((2, 500))
    thr = np.array([0.6, 0.4])
    hard = reach_weights(conf, thr, temperature=0.0, floor=0.0)
    tiers = cascade_answer(conf, thr)
    np.testing.assert_array_equal(hard[1] > 0, tiers >= 1)
    np.testing.assert_array_equal(hard[2] > 0, tiers >= 2)
    soft = reach_weights(conf, thr, temperature=0.05, floor=0.1)
    assert (soft[0] == 1).all() and (soft[1] >= soft[2]).all() and (soft >= 0.1).all()


def test_served_accuracy_counts_each_request_at_its_tier():
    labels = np.array([0, 1, 1, 0])
    logits = np.stack(
        [np.eye(2)[[0, 0, 0, 0]], np.eye(2)[[1, 1, 1, 1]]]
    )  # tier 0 says 0, tier 1 says 1
    out = served_accuracy(logits, labels, np.array([0, 1, 0, 1]))
    assert out["system"] == 0.5 and out["tier0"] == 0.5 and out["tier1"] == 0.5
    assert out["share0"] == 0.5


def test_tradeoff_curve_spans_device_only_to_cloud_only():
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(3, 200, 10))
    labels = rng.integers(0, 10, 200)
    curve = tradeoff_curve(logits, labels, [1.0, 10.0, 50.0], n_points=11)
    assert curve.latency_ms.iloc[0] == 1.0 and curve.latency_ms.iloc[-1] == 50.0
    assert max_confidence(logits).shape == (3, 200)


def test_delivery_training_runs_both_arms_with_an_identical_first_tier(digits):
    specs = [
        ModelSpec("d", "device", "mlp", {"hidden": []}, batch_size=64, lr=1e-2),
        ModelSpec("c", "cloud", "mlp", {"hidden": [32]}, batch_size=64, lr=1e-2),
    ]
    parts = partition_iid(len(digits.y_train), 3, seed=0)
    res = run_delivery_training(
        specs,
        digits.x_train,
        digits.y_train,
        parts,
        digits.x_val,
        digits.y_val,
        shares=[0.6, 0.4],
        rounds=2,
        alternations=1,
        rounds_per_alternation=1,
        seed=0,
        progress=False,
    )
    h = res.history
    assert set(h.arm) == {"plain", "delivery-aware"} and h.alternation.max() == 1
    for k in res.plain[0]:
        np.testing.assert_array_equal(res.plain[0][k], res.aware[0][k])
    assert any(not np.array_equal(res.plain[1][k], res.aware[1][k]) for k in res.plain[1])
    last = h[h.alternation == 1]
    np.testing.assert_allclose(last.share0, 0.6, atol=0.1)


# ----------------------------------------------------------------------------- studies


def test_fedavg_study_and_partition_schemes(digits):
    from idn_core.federated import fedavg_study, make_partitions

    parts = make_partitions("quantity", digits.y_train, 4, seed=0, skew=0.5)
    assert sum(len(p) for p in parts) == len(digits.y_train)
    with pytest.raises(ValueError, match="unknown partition scheme"):
        make_partitions("random", digits.y_train, 4)
    curves, nodes = fedavg_study(
        digits,
        SPEC,
        schemes=("iid", "dirichlet"),
        seeds=(0,),
        n_clients=3,
        rounds=2,
        node_test_size=100,
        progress=False,
    )
    assert len(curves) == 2 * 2 and len(nodes) == 2 * 3
    # serving only its most confident half, a node is at least as accurate as on all its requests
    assert (nodes.served_acc >= nodes.own_acc - 1e-9).mean() > 0.8


def test_tier_latencies_grow_along_the_path():
    from idn_core.federated import CASCADE_SPECS, tier_latencies_ms

    lat = tier_latencies_ms(CASCADE_SPECS, 40)
    assert (np.diff(lat) > 0).all()
    with pytest.raises(ValueError, match="2 models for a path of 3"):
        tier_latencies_ms(CASCADE_SPECS[:2], 40)


def test_run_fedavg_is_exactly_its_pure_parts(digits):
    """What a Flower ClientApp/Strategy pair would do: client_update then weighted_average."""
    parts = partition_iid(len(digits.y_train), 3, seed=0)
    fed = run_fedavg(SPEC, digits.x_train, digits.y_train, parts, rounds=2, seed=5, progress=False)
    torch.manual_seed(5)
    state = module_state(SPEC.build(64, 10))
    rng = np.random.default_rng(5)
    for r in range(2):
        chosen = sample_clients(3, 1.0, rng)
        ups = [
            client_update(
                state,
                SPEC,
                digits.x_train[parts[k]],
                digits.y_train[parts[k]],
                input_length=64,
                n_classes=10,
                local_epochs=1,
                seed=client_seed(5, r, int(k)),
            )
            for k in chosen
        ]
        state = weighted_average([u.state for u in ups], [u.weight for u in ups])
    for k in state:
        np.testing.assert_array_equal(state[k], fed.state[k])


def test_weighted_average_names_the_key_and_shapes_of_mismatched_arrays():
    a, b = {"w": np.zeros((2, 3))}, {"w": np.zeros((3,))}
    # (2, 3) and (3,) used to broadcast silently into a (2, 3) "average".
    with pytest.raises(ValueError, match=r"'w' has shape \(3,\) in client state 1 but \(2, 3\)"):
        weighted_average([a, b], [1, 1])
    with pytest.raises(ValueError, match="'w' has shape"):
        weighted_average([a, {"w": np.zeros((2, 4))}], [1, 1])


@pytest.mark.parametrize(("seed", "error"), [(-1, ValueError), ("3", TypeError), (0.5, TypeError)])
def test_client_seed_names_a_bad_seed(seed, error):
    with pytest.raises(error, match="seed"):
        client_seed(seed, 0, 0)
