"""The cost and gain model, the MILP optimum against brute force, and the greedy baselines."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from idn_core.network import Link, Node, Topology, path_topology, tree_topology
from idn_core.placement import (
    CatalogueModel,
    brute_force_static,
    build_instance,
    from_placement,
    gain,
    greedy_static,
    local_greedy_allocation,
    make_loads,
    marginal_gains,
    optimal_static,
    served,
    subgradient,
    to_placement,
)

# Sizes, FLOPs and accuracies shaped like the book's zoos (KiB, FLOPs, accuracy).
ZOO = [("device", 2.6, 14560, 0.71), ("edge", 9.0, 54720, 0.84), ("regional", 133, 836736, 0.88)]


def catalogue(n_tasks: int = 2, zoo=ZOO) -> list[CatalogueModel]:
    return [
        CatalogueModel(f"t{t}:{name}", f"t{t}", size, flops, acc - 0.02 * t)
        for t in range(n_tasks)
        for name, size, flops, acc in zoo
    ]


def tiny_topology(edge_kb: float = 12.0, device_kb: float = 4.0) -> Topology:
    nodes = [
        Node("device-0", "device", device_kb, 0.05),
        Node("device-1", "device", device_kb, 0.05),
        Node("edge-0", "edge", edge_kb, 2.0),
        Node("cloud", "cloud", 1e6, 50.0),
    ]
    links = [
        Link("device-0", "edge-0", 5),
        Link("device-1", "edge-0", 5),
        Link("edge-0", "cloud", 25),
    ]
    return Topology(nodes, links)


def reference_gain(inst, x, r) -> float:
    """Per-type loop: fill the candidates held, cheapest first, the rest at the repository."""
    total = 0.0
    for rho, (task, device) in enumerate(inst.types):
        path = inst.topology.path(device)
        options = []
        for node in path[:-1]:
            v = inst.nodes.index(node)
            for m, model in enumerate(inst.catalogue):
                if model.task == task and x[v, m] == 1:
                    lat = inst.topology.serving_latency_ms(device, node, model.flops)
                    options.append((lat + inst.alpha * (1 - model.accuracy), inst.capacity[v, m]))
        repo = min(
            inst.topology.serving_latency_ms(device, "cloud", c.flops)
            + inst.alpha * (1 - c.accuracy)
            for c in inst.catalogue
            if c.task == task
        )
        left, cost = r[rho], 0.0
        for g, cap in sorted(options):
            if g >= repo:
                break
            take = min(left, cap)
            cost += take * g
            left -= take
        cost += left * repo
        total += r[rho] * repo - cost
    return total


@pytest.fixture
def inst():
    return build_instance(tiny_topology(), catalogue(), alpha=100.0, capacity=30.0)


def random_allocation(inst, rng) -> np.ndarray:
    x = inst.empty()
    for v in rng.permutation(inst.shape[0]):
        for m in rng.permutation(inst.shape[1]):
            if inst.allowed[v, m] and rng.random() < 0.5:
                x[v, m] = 1
                if x[v] @ inst.sizes_kb > inst.budgets_kb[v]:
                    x[v, m] = 0
    return x


def test_gain_matches_per_request_reference(inst) -> None:
    rng = np.random.default_rng(0)
    for _ in range(20):
        x = random_allocation(inst, rng)
        r = rng.integers(0, 80, len(inst.types)).astype(float)
        assert gain(inst, x, r) == pytest.approx(reference_gain(inst, x, r), rel=1e-9, abs=1e-9)


def test_empty_allocation_gains_nothing_and_serves_all_at_repository(inst) -> None:
    r = np.full(len(inst.types), 10.0)
    assert gain(inst, inst.empty(), r) == 0.0
    s = served(inst, inst.empty(), r)
    assert np.allclose(s[:, -1], r) and np.allclose(s.sum(axis=1), r)


def test_capacity_limits_what_a_model_serves(inst) -> None:
    x = inst.empty()
    v, m = inst.nodes.index("edge-0"), inst.models.index("t0:edge")
    x[v, m] = 1
    r = np.full(len(inst.types), 100.0)
    s = served(inst, x, r)
    assert s[:, :-1].sum(axis=1).max() == pytest.approx(30.0)  # capacity 30 per type


def test_time_batched_gain_equals_per_slot(inst) -> None:
    loads = make_loads(inst, 7, rate=100.0, seed=3)
    x = random_allocation(inst, np.random.default_rng(1))
    assert np.allclose(gain(inst, x, loads), [gain(inst, x, r) for r in loads])


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000))
def test_gain_is_monotone_and_submodular(seed: int) -> None:
    inst = build_instance(tiny_topology(edge_kb=200.0), catalogue(), alpha=100.0, capacity=25.0)
    rng = np.random.default_rng(seed)
    r = rng.integers(0, 60, len(inst.types)).astype(float)
    small = random_allocation(inst, rng) * (rng.random(inst.shape) < 0.5)
    big = np.maximum(small, random_allocation(inst, rng))
    v, m = np.argwhere(inst.allowed)[rng.integers(inst.allowed.sum())]
    add = np.zeros(inst.shape)
    add[v, m] = 1
    g_small, g_big = gain(inst, small, r), gain(inst, big, r)
    assert g_big >= g_small - 1e-9  # monotone (no budgets involved in G itself)
    inc_small = gain(inst, np.maximum(small, add), r) - g_small
    inc_big = gain(inst, np.maximum(big, add), r) - g_big
    assert inc_small >= inc_big - 1e-9  # diminishing returns


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10_000))
def test_subgradient_is_a_supergradient_of_the_relaxation(seed: int) -> None:
    inst = build_instance(tiny_topology(edge_kb=200.0), catalogue(), alpha=100.0, capacity=25.0)
    rng = np.random.default_rng(seed)
    r = rng.integers(0, 60, len(inst.types)).astype(float)
    y, y2 = rng.random(inst.shape) * inst.allowed, rng.random(inst.shape) * inst.allowed
    g = subgradient(inst, y, r)
    assert gain(inst, y2, r) <= gain(inst, y, r) + (g * (y2 - y)).sum() + 1e-6


def test_subgradient_matches_finite_differences_where_smooth(inst) -> None:
    rng = np.random.default_rng(5)
    y = rng.uniform(0.2, 0.8, inst.shape) * inst.allowed
    r = rng.integers(20, 60, len(inst.types)).astype(float) + 0.37
    g = subgradient(inst, y, r)
    for v, m in np.argwhere(inst.allowed):
        e = np.zeros(inst.shape)
        e[v, m] = 1e-6
        fd = (gain(inst, y + e, r) - gain(inst, y - e, r)) / 2e-6
        assert fd == pytest.approx(g[v, m], rel=1e-4, abs=1e-4)


@pytest.mark.parametrize("seed", range(4))
def test_milp_matches_brute_force_on_tiny_instances(seed: int) -> None:
    rng = np.random.default_rng(seed)
    topo = tiny_topology(edge_kb=float(rng.choice([6.0, 12.0, 20.0])))
    inst = build_instance(
        topo, catalogue(2), alpha=float(rng.choice([20.0, 100.0, 400.0])), capacity=20.0
    )
    loads = make_loads(inst, 6, rate=120.0, seed=seed, task_exponent=1.2)
    opt = optimal_static(inst, loads)
    brute = brute_force_static(inst, loads)
    assert opt.gain == pytest.approx(brute.gain, rel=1e-6, abs=1e-6)
    assert gain(inst, opt.x, loads).mean() == pytest.approx(opt.gain)
    inst.check_allocation(opt.x, integral=True)
    greedy = greedy_static(inst, loads)
    assert greedy.gain <= opt.gain + 1e-9
    local = local_greedy_allocation(inst, loads.mean(axis=0))
    assert gain(inst, local, loads).mean() <= opt.gain + 1e-9
    inst.check_allocation(local, integral=True)


def test_milp_on_a_larger_tree_is_feasible_and_beats_greedy() -> None:
    inst = build_instance(
        tree_topology(2, 2, n_regional=1), catalogue(3), alpha=100.0, slot_ms=20.0
    )
    loads = make_loads(inst, 30, rate=400.0, seed=1)
    opt, greedy = optimal_static(inst, loads), greedy_static(inst, loads)
    inst.check_allocation(opt.x, integral=True)
    assert opt.gain >= greedy.gain - 1e-6 and opt.gain > 0


def test_marginal_gains_match_direct_differences(inst) -> None:
    rng = np.random.default_rng(2)
    x = random_allocation(inst, rng)
    r = rng.integers(0, 50, len(inst.types)).astype(float)
    mg = marginal_gains(inst, x, r)
    for v, m in np.argwhere(inst.allowed & (x == 0)):
        x2 = x.copy()
        x2[v, m] = 1
        assert mg[v, m] == pytest.approx(gain(inst, x2, r) - gain(inst, x, r), abs=1e-9)


def test_placement_round_trip_through_deployment_placement(inst) -> None:
    x = random_allocation(inst, np.random.default_rng(4))
    placement = to_placement(inst, x)
    assert set(placement.models_on("cloud")) == set(inst.models)  # the repository holds all
    assert np.array_equal(from_placement(inst, placement), x)


# ----------------------------------------------------------------------------- errors
def test_repository_budget_too_small_is_named() -> None:
    topo = path_topology()
    big = [CatalogueModel("t:huge", "t", 2e6, 1.0, 0.9)]
    with pytest.raises(ValueError, match="repository 'cloud'.*too small"):
        build_instance(topo, big)


def test_negative_capacity_and_alpha_are_rejected() -> None:
    with pytest.raises(ValueError, match="capacities must be finite and >= 0"):
        build_instance(tiny_topology(), catalogue(), capacity=-1.0)
    with pytest.raises(ValueError, match="alpha must be >= 0"):
        build_instance(tiny_topology(), catalogue(), alpha=-5.0)


def test_unknown_model_and_over_budget_allocations_are_rejected(inst) -> None:
    with pytest.raises(KeyError, match="unknown model 'nope'"):
        from_placement(inst, {"edge-0": ["nope"]})
    x = inst.empty()
    x[inst.nodes.index("device-0"), inst.models.index("t0:edge")] = 1  # 9 KiB on a 4 KiB device
    with pytest.raises(ValueError, match="cannot be placed on 'device-0'"):
        inst.check_allocation(x)
    with pytest.raises(ValueError, match="loads must be finite and >= 0"):
        gain(inst, inst.empty(), -np.ones(len(inst.types)))


# ------------------------------------------------------------------ shared capacities
def test_shared_capacity_gain_is_at_most_the_per_type_gain(inst) -> None:
    from idn_core.placement import shared_capacity_gain

    rng = np.random.default_rng(7)
    for _ in range(10):
        x = random_allocation(inst, rng)
        r = rng.integers(0, 80, len(inst.types)).astype(float)
        assert shared_capacity_gain(inst, x, r) <= gain(inst, x, r) + 1e-6


def test_shared_capacity_matches_a_hand_computed_case() -> None:
    from idn_core.placement import shared_capacity_gain

    # One task, two devices under one edge; the edge model serves 30 requests per slot in
    # total. Each device sends 25 requests: per-type capacity serves all 50 at the edge,
    # a shared capacity only 30 of them.
    inst = build_instance(tiny_topology(), catalogue(1), alpha=100.0, capacity=30.0)
    x = inst.empty()
    x[inst.nodes.index("edge-0"), inst.models.index("t0:edge")] = 1
    r = np.array([25.0, 25.0])
    var = inst.nodes.index("edge-0") * inst.shape[1] + inst.models.index("t0:edge")
    k = int(np.flatnonzero(inst.cand[0] == var)[0])
    saving = inst.gamma[0, -1] - inst.gamma[0, k]  # the same for both devices
    assert gain(inst, x, r) == pytest.approx(50 * saving)
    assert shared_capacity_gain(inst, x, r) == pytest.approx(30 * saving)
    assert np.allclose(
        shared_capacity_gain(inst, x, np.stack([r, r / 5])), [30 * saving, 10 * saving]
    )


def test_local_greedy_equals_the_greedy_over_all_candidates(inst) -> None:
    rng = np.random.default_rng(5)
    r = rng.integers(0, 80, len(inst.types)).astype(float)
    expected = inst.empty()
    for v in range(inst.shape[0]):  # the greedy of one node, scoring every candidate
        x, free = inst.empty(), inst.budgets_kb[v]
        while True:
            fits = inst.allowed[v] & (x[v] == 0) & (inst.sizes_kb <= free + 1e-9)
            mg = marginal_gains(inst, x, r)[v]
            score = np.where(fits & (mg > 1e-12), mg / inst.sizes_kb, -np.inf)
            if not np.isfinite(score).any():
                break
            x[v, int(np.argmax(score))] = 1.0
            free -= inst.sizes_kb[int(np.argmax(score))]
        expected[v] = x[v]
    np.testing.assert_array_equal(local_greedy_allocation(inst, r), expected)


def test_optimal_static_solves_a_repeated_program_once(inst, monkeypatch) -> None:
    from idn_core.placement import baselines

    loads = make_loads(inst, 12, rate=300.0, seed=7)
    first = optimal_static(inst, loads)
    calls = []
    monkeypatch.setattr(baselines, "_solve_static", lambda *a: calls.append(a) or first)
    again = optimal_static(inst, loads.copy())
    assert calls == [] and again.gain == first.gain
    np.testing.assert_array_equal(again.x, first.x)
    again.x[:] = 0  # a copy: the stored solution is untouched
    assert optimal_static(inst, loads).x.sum() == first.x.sum() > 0
    optimal_static(inst, loads[:6])  # other loads: solved anew
    assert len(calls) == 1
