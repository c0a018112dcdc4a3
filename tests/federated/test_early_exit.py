"""Tests of federated early-exit networks: weightings, aggregation, serving and training."""

from __future__ import annotations

from dataclasses import asdict, replace

import numpy as np
import pandas as pd
import pytest
import torch

from idn_core.federated.early_exit import (
    LOWER_EXITS,
    EarlyExitConfig,
    EarlyExitNet,
    aggregate_exit_updates,
    assign_devices,
    check_participation,
    check_serving_split,
    draw_exits,
    early_exit_key,
    evaluate_serving,
    exit_data_shares,
    exit_flops,
    exit_parameter_names,
    lambda_tilde,
    local_exit_update,
    node_depths,
    node_exit_updates,
    normalised_entropy,
    participation_study,
    plan_early_exit,
    run_early_exit,
    serve_on_tree,
    server_round,
    sweep_early_exit,
    variance_weights,
)
from idn_core.federated.early_exit import training as ee_training
from idn_core.learning import load_dataset, module_state
from idn_core.network import tree_topology

torch.set_num_threads(1)

TINY = {"rounds": 2, "local_steps": 2, "batch_size": 16, "channels": (4, 8, 8)}


@pytest.fixture(scope="module")
def digits():
    return load_dataset("digits", seed=0)


# ----------------------------------------------------------------------------- weightings


def test_variance_adjusted_rule_matches_the_paper_example():
    sigma, sum_p2 = [0.00374, 0.00224, 0.00101], [0.25, 0.5, 1.0]
    np.testing.assert_allclose(variance_weights(sigma, sum_p2), [0.172, 0.239, 0.589], atol=1e-3)
    lam = lambda_tilde("variance", [0.8, 0.15, 0.05], sigma=sigma, sum_p2=sum_p2)
    np.testing.assert_allclose(lam, [0.486, 0.195, 0.319], atol=1e-3)


def test_other_weightings():
    split = [0.05, 0.15, 0.8]
    np.testing.assert_allclose(lambda_tilde("equal", split), [1 / 3] * 3)
    np.testing.assert_allclose(lambda_tilde("serving", split), split)
    np.testing.assert_allclose(lambda_tilde("flops", split, flops=[1, 3, 6]), [0.1, 0.3, 0.6])
    with pytest.raises(ValueError, match="sigma"):
        lambda_tilde("variance", split)
    with pytest.raises(ValueError, match="unknown weighting"):
        lambda_tilde("median", split)


@pytest.mark.parametrize("split", [(0.8, 0.15, 0.1), (0.5, 0.5), (1.1, -0.05, -0.05)])
def test_serving_split_must_sum_to_one(split):
    with pytest.raises(ValueError, match="serving"):
        check_serving_split(split, 3)
    with pytest.raises(ValueError, match="serving"):
        EarlyExitConfig(serving_split=split)


def test_participation_outside_unit_interval_is_rejected(digits):
    holds = np.array([[True, False, False], [True, True, True]])
    with pytest.raises(ValueError, match="participation probability of cloud for exit 1"):
        check_participation(np.array([[1, 0, 0], [1.5, 1, 1]]), holds, ["device-0", "cloud"])
    bad = ((1.0, 0.0, 0.0), (-0.2, 1.0, 0.0), (0.0, 0.0, 1.0))
    with pytest.raises(ValueError, match=r"participation\[1\]\[0\] \(depth 1, exit 1\)"):
        run_early_exit(digits, EarlyExitConfig(participation=bad, **TINY), progress=False)


def test_exits_a_node_does_not_hold_are_rejected(digits):
    bad = ((1.0, 0.5, 0.0), (0.0, 1.0, 0.0), (0.0, 0.0, 1.0))
    with pytest.raises(
        ValueError, match=r"device-0 holds exits \[1\] only; it cannot train exit 2"
    ):
        run_early_exit(digits, EarlyExitConfig(participation=bad, **TINY), progress=False)
    net = EarlyExitNet(64, 10, (4, 8, 8))
    with pytest.raises(ValueError, match="exit 3 does not exist"):
        exit_parameter_names(net, 3)


def test_nodes_without_data_are_rejected(digits):
    parts = [np.arange(10 * i, 10 * i + 10) for i in range(7)]
    parts[5] = np.array([], dtype=int)
    with pytest.raises(ValueError, match="node edge-1 has no training data"):
        run_early_exit(digits, EarlyExitConfig(**TINY), node_data=parts, progress=False)
    with pytest.raises(ValueError, match="no training data"):
        exit_data_shares([5, 0], np.ones((2, 1), bool))
    with pytest.raises(ValueError, match="no data"):
        local_exit_update(
            EarlyExitNet(64, 10, (4, 8, 8)),
            module_state(EarlyExitNet(64, 10, (4, 8, 8))),
            digits.x_train[:0],
            digits.y_train[:0],
            node=0,
            exit_=0,
            steps=2,
            batch_size=4,
            lr=0.1,
            seed=0,
        )


def test_exit_data_shares_and_paper_sum_of_squares():
    depths = node_depths(tree_topology(n_edges=2, devices_per_edge=2), 3)
    assert depths.tolist() == [0, 0, 0, 0, 1, 1, 2]
    eligible = depths[:, None] == np.arange(3)[None, :]
    p = exit_data_shares(np.full(7, 100), eligible)
    np.testing.assert_allclose((p**2).sum(axis=0), [0.25, 0.5, 1.0])
    np.testing.assert_allclose(p.sum(axis=0), 1.0)


# ----------------------------------------------------------------------------- aggregation


def test_aggregation_scales_by_lambda_share_and_participation():
    state = {"a": np.zeros(2), "b": np.ones(1)}
    shares = np.array([[0.5, 0.0], [0.5, 1.0]])
    q = np.array([[1.0, 0.0], [0.5, 1.0]])
    updates = [
        (0, 0, {"a": np.array([1.0, 1.0])}),
        (1, 0, {"a": np.array([2.0, 0.0])}),
        (1, 1, {"a": np.array([0.0, 4.0]), "b": np.array([1.0])}),
    ]
    out = aggregate_exit_updates(state, updates, shares, q, [0.6, 0.4])
    # exit 0: 0.6 * (0.5 * [1, 1] + 0.5 / 0.5 * [2, 0]); exit 1: 0.4 * [0, 4]
    np.testing.assert_allclose(out["a"], [0.6 * 2.5, 0.6 * 0.5 + 1.6])
    np.testing.assert_allclose(out["b"], [1.4])
    assert state["a"].tolist() == [0.0, 0.0]
    with pytest.raises(ValueError, match="does not train"):
        aggregate_exit_updates(state, [(0, 1, {"a": np.ones(2)})], shares, q, [0.6, 0.4])


def test_local_update_touches_only_layers_up_to_its_exit(digits):
    net = EarlyExitNet(64, 10, (4, 8, 8))
    state = module_state(net)
    up = local_exit_update(
        net,
        state,
        digits.x_train[:200],
        digits.y_train[:200],
        node=0,
        exit_=1,
        steps=3,
        batch_size=16,
        lr=0.1,
        seed=0,
    )
    assert set(up.delta) == set(exit_parameter_names(net, 1))
    assert not any(k.startswith(("blocks.2.", "exits.0.", "exits.2.")) for k in up.delta)
    assert all(np.abs(d).sum() > 0 for d in up.delta.values())
    assert up.grad_sigma > 0
    flops = exit_flops(net)
    assert (np.diff(flops) > 0).all()


def test_draw_exits_follows_participation_and_is_seeded():
    q = np.array([[1.0, 0.0, 0.0], [0.5, 1.0, 0.0], [0.0, 0.0, 0.0]])
    draws = [draw_exits(np.random.default_rng(s), q) for s in range(200)]
    assert all(d[0].tolist() == [0] and d[2].size == 0 for d in draws)  # q = 1 always, 0 never
    assert all(1 in d[1] and 2 not in d[1] for d in draws)
    share = np.mean([0 in d[1] for d in draws])
    assert 0.35 < share < 0.65  # exit 0 of node 1 with probability 0.5
    a, b = draw_exits(np.random.default_rng(7), q), draw_exits(np.random.default_rng(7), q)
    assert all(x.tolist() == y.tolist() for x, y in zip(a, b, strict=True))


def test_server_round_ignores_reply_order_and_keeps_its_inputs(digits):
    """Flower replies arrive in any order: the aggregate must not depend on it."""
    config = EarlyExitConfig(weighting="variance", participation=LOWER_EXITS, **TINY)
    net = EarlyExitNet(64, 10, config.channels)
    state = module_state(net)
    x, y = digits.x_train[:300], digits.y_train[:300]
    updates = []
    for node, exits in ((0, [0]), (1, [0, 1]), (2, [1, 2])):
        part = slice(100 * node, 100 * node + 100)
        updates += node_exit_updates(
            net, state, x[part], y[part], node=node, exits=exits, round_=0, seed=0, config=config
        )
    q = np.array([[1.0, 0.0, 0.0], [0.4, 1.0, 0.0], [0.8, 0.8, 1.0]])
    shares = exit_data_shares([100, 100, 100], q > 0)
    sigma = np.array([np.nan, 0.01, np.nan])
    kw = {
        "config": config,
        "shares": shares,
        "participation": q,
        "sum_p2": (shares**2).sum(axis=0),
        "flops": np.array([1.0, 2.0, 3.0]),
        "round_": 0,
    }
    s1, sig1, row1 = server_round(state, updates, sigma, **kw)
    s2, sig2, row2 = server_round(state, updates[::-1], sigma, **kw)
    assert all(np.array_equal(s1[k], s2[k]) for k in s1)
    assert row1 == row2 and np.array_equal(sig1, sig2)
    assert np.isnan(sigma[0]) and sigma[1] == 0.01  # input not modified
    assert sig1[1] == pytest.approx(
        0.5 * 0.01 + 0.5 * np.mean([u.grad_sigma for u in updates if u.exit == 1])
    )
    assert row1["updates"] == 5 and any(not np.array_equal(s1[k], state[k]) for k in state)


# ----------------------------------------------------------------------------- serving


def test_each_node_serves_its_lowest_entropy_requests_up_to_its_rate():
    topo = tree_topology(n_edges=2, devices_per_edge=2)
    rng = np.random.default_rng(0)
    ent = rng.random((3, 4000))
    arrival = assign_devices(4000, topo.devices, seed=1)
    served = serve_on_tree(ent, arrival, topo, [0.5, 0.3, 0.2])
    np.testing.assert_allclose(np.bincount(served) / 4000, [0.5, 0.3, 0.2], atol=2e-3)
    for d in range(4):
        mine = arrival == d
        assert ent[0, mine & (served == 0)].max() <= ent[0, mine & (served > 0)].min()
    edge0 = np.isin(arrival, [0, 1])  # devices 0 and 1 sit under edge-0
    assert ent[1, edge0 & (served == 1)].max() <= ent[1, edge0 & (served == 2)].min()
    with pytest.raises(ValueError, match="sum to one"):
        serve_on_tree(ent, arrival, topo, [0.5, 0.3, 0.3])


def test_normalised_entropy_bounds():
    logits = np.array([[0.0, 0.0, 0.0], [50.0, 0.0, 0.0]])
    np.testing.assert_allclose(normalised_entropy(logits), [1.0, 0.0], atol=1e-9)


# ----------------------------------------------------------------------------- training


def test_training_records_weightings_and_measured_variance(digits):
    split = (0.8, 0.15, 0.05)
    res = run_early_exit(
        digits, EarlyExitConfig(weighting="variance", **TINY), seed=0, progress=False
    )
    last = res.history.iloc[-1]
    sigma = [last[f"sigma{e}"] for e in (1, 2, 3)]
    assert min(sigma) > 0
    depths = np.array([0, 0, 0, 0, 1, 1, 2])
    p = exit_data_shares(res.node_sizes, depths[:, None] == np.arange(3)[None, :])
    expected = lambda_tilde("variance", split, sigma=sigma, sum_p2=(p**2).sum(axis=0))
    np.testing.assert_allclose([last[f"lambda{e}"] for e in (1, 2, 3)], expected, atol=1e-9)
    again = run_early_exit(
        digits, EarlyExitConfig(weighting="variance", **TINY), seed=0, progress=False
    )
    for k in res.state:
        np.testing.assert_array_equal(res.state[k], again.state[k])
    m = evaluate_serving(res.logits(digits.x_test), digits.y_test, split)
    assert m["exit1_share"] == pytest.approx(0.8, abs=0.01)


def test_lower_exit_participation_and_flops_weighting(digits):
    cfg = EarlyExitConfig(weighting="flops", participation=LOWER_EXITS, **TINY)
    res = run_early_exit(digits, cfg, seed=1, progress=False)
    assert res.history.updates.max() > 7  # edges and cloud sometimes train lower exits too
    lam = res.history.iloc[0][["lambda1", "lambda2", "lambda3"]].to_numpy(float)
    np.testing.assert_allclose(lam, res.flops / res.flops.sum())


def test_sweep_trains_split_independent_weightings_once(digits):
    configs = [
        EarlyExitConfig(weighting="equal", serving_split=s, **TINY)
        for s in [(0.8, 0.15, 0.05), (0.05, 0.15, 0.8)]
    ]
    table = sweep_early_exit(digits, configs, seeds=[0], progress=False)
    assert len(table) == 2
    assert table.exit1_acc.nunique() == 1  # same trained model, evaluated under two splits
    assert table.exit1_share.round(2).tolist() == [0.8, 0.05]


# ----------------------------------------------------------------------------- experiments and figures


def test_parse_split_and_scenario_grid():
    from idn_core.federated.early_exit import parse_split, scenario_configs

    assert parse_split("80-15-5") == pytest.approx((0.8, 0.15, 0.05))
    with pytest.raises(ValueError, match="sum to one"):
        parse_split("80-15-10")
    with pytest.raises(ValueError, match="written like"):
        parse_split("eighty")
    grid = scenario_configs(["80-15-5", "5-15-80"], ["equal", "cloud-heavy"])
    assert len(grid) == 2 * 2 * 4
    with pytest.raises(ValueError, match="unknown data split"):
        scenario_configs(["80-15-5"], ["edge-heavy"])


def test_gains_are_paired_by_seed():
    import pandas as pd

    from idn_core.federated.early_exit import gain_at, weighting_gains

    rows = []
    for seed, (eq, sv) in enumerate([(0.50, 0.52), (0.60, 0.61), (0.40, 0.43)]):
        for w, acc in (("equal", eq), ("serving", sv)):
            rows.append(
                {
                    "weighting": w,
                    "seed": seed,
                    "serving_split": "80-15-5",
                    "data_split": "equal",
                    "served_acc": acc,
                }
            )
    table = pd.DataFrame(rows)
    g = weighting_gains(table, "served_acc")
    assert g["mean"].iloc[0] == pytest.approx(2.0)
    assert g["std"].iloc[0] == pytest.approx(1.0)
    assert gain_at(table, "served_acc", "80-15-5")[0] == pytest.approx(2.0)


def test_figures_have_one_slider_step_per_split(digits):
    from idn_core.views import federated as fed_plots

    configs = [
        EarlyExitConfig(weighting=w, serving_split=s, **TINY)
        for s in [(0.8, 0.15, 0.05), (0.05, 0.15, 0.8)]
        for w in ("equal", "serving")
    ]
    table = sweep_early_exit(digits, configs, seeds=[0, 1], progress=False)
    fig = fed_plots.exit_accuracy_figure(table)
    steps = fig.layout.sliders[0].steps
    assert len(steps) == 2 and sum(steps[1].args[0]["visible"]) == 2
    lam_fig = fed_plots.lambda_figure(
        [(0.8, 0.15, 0.05), (0.05, 0.15, 0.8)], [1, 1, 1], [0.25, 0.5, 1], [1, 2, 3]
    )
    assert list(lam_fig.data[1].y) == pytest.approx([0.8, 0.15, 0.05])  # serving rule, first split
    assert len(fed_plots.weighting_gain_figure(table).data) == 1


@pytest.mark.parametrize(
    ("field", "value", "error", "match"),
    [
        ("momentum", float("nan"), ValueError, "momentum"),
        ("momentum", 1.0, ValueError, "momentum"),
        ("momentum", -0.1, ValueError, "momentum"),
        ("server_lr", -1.0, ValueError, "server_lr"),
        ("server_lr", 0.0, ValueError, "server_lr"),
        ("server_lr", float("inf"), ValueError, "server_lr"),
        ("lr", float("nan"), ValueError, "lr"),
        ("data_split", (float("nan"), 0.5, 0.5), ValueError, "data_split"),
        ("participation", ((1.0, 0.0, 0.0), (float("nan"), 1.0, 0.0), (0, 0, 1)), ValueError,
         "participation"),
        ("participation", ((1.0, 0.0, 0.0),), ValueError, "participation"),
        ("channels", (4, 0, 8), ValueError, "channels"),
        ("channels", (), ValueError, "channels"),
        ("rounds", 1.5, TypeError, "rounds"),
    ],
)  # fmt: skip
def test_config_validates_every_field(field, value, error, match):
    # momentum=nan and server_lr=-1 used to be accepted; training then blamed the
    # learning rates (or silently moved the weights backwards).
    with pytest.raises(error, match=match):
        EarlyExitConfig(**{**TINY, field: value})


def test_exit_weight_maths_rejects_non_finite_inputs():
    with pytest.raises(ValueError, match="FLOPs"):
        lambda_tilde("flops", [0.5, 0.5], flops=[1.0, np.inf])
    with pytest.raises(ValueError, match="sizes must be finite"):
        exit_data_shares([np.nan, 3.0], np.ones((2, 2), bool))
    state = {"w": np.zeros(2)}
    with pytest.raises(ValueError, match="weights must be finite"):
        aggregate_exit_updates(state, [], np.ones((1, 2)), np.ones((1, 2)), [np.nan, 1.0])
    with pytest.raises(ValueError, match=r"update of node 0 for 'w' has shape \(\)"):
        aggregate_exit_updates(
            state, [(0, 0, {"w": 1.0})], np.ones((1, 2)), np.ones((1, 2)), [1, 0]
        )


def test_node_data_indices_must_lie_in_the_training_split(digits):
    parts = [np.arange(10 * i, 10 * i + 10) for i in range(7)]
    parts[2] = np.array([-1, 0, 1])  # -1 used to wrap to the last training sample
    with pytest.raises(ValueError, match=r"node_data of .* must lie in \[0, "):
        run_early_exit(digits, EarlyExitConfig(**TINY), node_data=parts, progress=False)
    with pytest.raises(ValueError, match="seed"):
        run_early_exit(digits, EarlyExitConfig(**TINY), seed=-1, progress=False)


def test_participation_study_runs_each_participation_as_configured(digits):
    base = EarlyExitConfig(**{**TINY, "rounds": 1})

    study = participation_study(digits, base, seeds=[1], progress=False)

    assert study[["participation", "seed"]].values.tolist() == [
        ["deepest exit only", 1], ["lower exits too", 1],
    ]  # fmt: skip
    deepest, lower = study.iloc[0], study.iloc[1]
    # 7 nodes each train their deepest exit in the round; with lower exits, edges add exit 1
    # with probability 0.4 and the cloud exits 1-2 with 0.8 each: at most 2 + 2 more
    assert deepest.updates_per_round == 7
    assert 7 < lower.updates_per_round <= 11
    run = run_early_exit(digits, replace(base, participation=LOWER_EXITS), seed=1, progress=False)
    expected = evaluate_serving(
        run.logits(digits.x_test), digits.y_test, base.serving_split, seed=1
    )
    assert lower.updates_per_round == run.history.updates.mean()
    for key, value in expected.items():
        assert lower[key] == pytest.approx(value), key
    assert any(deepest[key] != pytest.approx(value) for key, value in expected.items())


# ----------------------------------------------------------------------------- cached runs


def _entries(folder) -> list:
    return sorted((folder / "early_exit").glob("*.pt"))


def _assert_same_run(a, b) -> None:
    assert list(a.state) == list(b.state)
    for k in a.state:
        np.testing.assert_array_equal(a.state[k], b.state[k])
    pd.testing.assert_frame_equal(a.history, b.history)
    np.testing.assert_array_equal(a.node_sizes, b.node_sizes)
    np.testing.assert_array_equal(a.flops, b.flops)


def test_cached_run_is_the_run_and_a_hit_trains_nothing(digits, tmp_path, monkeypatch):
    cfg = EarlyExitConfig(weighting="variance", **TINY)
    plain = run_early_exit(digits, cfg, seed=2, progress=False)  # the uncached reference
    first = run_early_exit(digits, cfg, seed=2, progress=False, cache=True, cache_dir=tmp_path)
    _assert_same_run(first, plain)
    assert len(_entries(tmp_path)) == 1 and first.timings == {"cached": True}

    def no_training(*args, **kwargs):
        raise AssertionError("a cache hit must not train")

    monkeypatch.setattr(ee_training, "_run_inprocess", no_training)
    again = run_early_exit(digits, cfg, seed=2, progress=False, cache=True, cache_dir=tmp_path)
    _assert_same_run(again, plain)
    np.testing.assert_array_equal(again.logits(digits.x_test), plain.logits(digits.x_test))


def test_every_input_of_a_cached_run_is_in_its_key(digits):
    cfg = EarlyExitConfig(**TINY)
    plan = plan_early_exit(digits, cfg, seed=0)
    key = early_exit_key(digits, cfg, plan, 0)
    assert key == early_exit_key(digits, cfg, plan_early_exit(digits, cfg, seed=0), 0)
    other_cfg = replace(cfg, lr=0.05)
    fewer = replace(digits, x_train=digits.x_train[:-10], y_train=digits.y_train[:-10])
    nudged = replace(digits, x_train=digits.x_train.copy())
    nudged.x_train[0, 0] += 1e-3
    parts = [p[:-1] for p in plan.parts]
    moved = plan_early_exit(digits, cfg, seed=0, node_data=parts)
    keys = {
        "seed (and its plan)": early_exit_key(digits, cfg, plan_early_exit(digits, cfg, seed=1), 1),
        "seed only": early_exit_key(digits, cfg, plan, 1),
        "config": early_exit_key(digits, other_cfg, plan, 0),
        "dataset size": early_exit_key(fewer, cfg, plan_early_exit(fewer, cfg, seed=0), 0),
        "dataset values": early_exit_key(nudged, cfg, plan, 0),
        "generator settings": early_exit_key(
            replace(digits, config={**digits.config, "seed": 99}), cfg, plan, 0
        ),
        "node data": early_exit_key(digits, cfg, moved, 0),
    }
    assert key not in keys.values() and len(set(keys.values())) == len(keys), keys


def test_a_code_change_misses_the_cache(digits, tmp_path, monkeypatch):
    cfg = EarlyExitConfig(**TINY)
    run_early_exit(digits, cfg, progress=False, cache=True, cache_dir=tmp_path)
    monkeypatch.setattr(ee_training, "_code_digest", lambda: "edited")
    run_early_exit(digits, cfg, progress=False, cache=True, cache_dir=tmp_path)
    assert len(_entries(tmp_path)) == 2


@pytest.mark.parametrize("damage", ["truncate", "flip"])
def test_a_damaged_entry_is_rejected_and_retrained(digits, tmp_path, damage):
    cfg = EarlyExitConfig(**TINY)
    good = run_early_exit(digits, cfg, seed=3, progress=False, cache=True, cache_dir=tmp_path)
    (entry,) = _entries(tmp_path)
    data = bytearray(entry.read_bytes())
    if damage == "truncate":
        data = data[: len(data) - 100]
    else:
        data[-50] ^= 0xFF
    entry.write_bytes(bytes(data))
    with pytest.warns(UserWarning, match="truncated" if damage == "truncate" else "sha256"):
        again = run_early_exit(digits, cfg, seed=3, progress=False, cache=True, cache_dir=tmp_path)
    _assert_same_run(again, good)
    assert entry.read_bytes() != bytes(data)  # rewritten whole


def test_cache_argument_is_checked(digits):
    cfg = EarlyExitConfig(**TINY)
    with pytest.raises(TypeError, match="config"):
        early_exit_key(digits, asdict(cfg), plan_early_exit(digits, cfg), 0)
    with pytest.raises(TypeError, match="plan"):
        early_exit_key(digits, cfg, None, 0)
    with pytest.raises(TypeError, match="cache"):
        run_early_exit(digits, EarlyExitConfig(**TINY), cache="yes")
    with pytest.raises(ValueError, match="cache=True"):
        run_early_exit(digits, EarlyExitConfig(**TINY), backend="flower", cache=True)


def test_sweep_with_and_without_cache_agree(digits, tmp_path, monkeypatch):
    monkeypatch.setenv("IDN_CACHE_DIR", str(tmp_path))
    configs = [EarlyExitConfig(weighting=w, **TINY) for w in ("equal", "serving")]
    cold = sweep_early_exit(digits, configs, seeds=[0], progress=False)
    assert len(_entries(tmp_path)) == 2
    warm = sweep_early_exit(digits, configs, seeds=[0], progress=False)
    plain = sweep_early_exit(digits, configs, seeds=[0], progress=False, cache=False)
    pd.testing.assert_frame_equal(cold, warm)
    pd.testing.assert_frame_equal(cold, plain)
