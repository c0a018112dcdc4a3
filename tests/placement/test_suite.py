"""INFIDA on small, tightly packed instances against the brute-forced optimum and the greedy."""

from __future__ import annotations

import numpy as np
import pytest

from idn_core.network import Link, Node, Topology
from idn_core.placement import (
    SUITE_SETTINGS,
    CatalogueModel,
    batch_gain,
    brute_force_static,
    build_instance,
    gain,
    greedy_static,
    infida_policy,
    infida_suite,
    instance_ratios,
    make_loads,
    small_instance,
    suite_summary,
    swap_candidates,
)


def knapsack_instance():
    """One device of 4 KiB and models of 2, 3, 3 and 4 KiB: only one of them fits, and the
    2 KiB model, best per KiB, is not the best one."""
    nodes = [Node("device-0", "device", 4.0, 0.05), Node("cloud", "cloud", 1e6, 50.0)]
    topology = Topology(nodes, [Link("device-0", "cloud", 30.0)])
    catalogue = [
        CatalogueModel("a:small", "a", 2.0, 10000, 0.80),
        CatalogueModel("a:big", "a", 4.0, 20000, 0.90),
        CatalogueModel("b:m1", "b", 3.0, 15000, 0.85),
        CatalogueModel("b:m2", "b", 3.0, 15000, 0.82),
    ]
    capacity = np.array([[30.0] * 4, [1e3] * 4])
    return build_instance(topology, catalogue, alpha=100.0, capacity=capacity)


def test_book_infida_is_at_least_the_greedy_on_the_2_3_3_4_instance() -> None:
    inst = knapsack_instance()
    loads = make_loads(inst, 1000, rate=40.0, seed=0, task_exponent=1.0)
    book = dict(SUITE_SETTINGS["book"])
    ratios = instance_ratios(inst, loads, {"book": book, "no repair": {**book, "repair": False}})
    assert ratios["greedy"] < 0.9  # the greedy keeps the 2 KiB model: the trap is real
    assert ratios["no repair"] < ratios["greedy"]  # DepRound + refill by y falls into it too
    assert ratios["book"] >= ratios["greedy"] and ratios["book"] >= 0.99


def test_suite_meets_its_targets_with_the_book_settings() -> None:
    table = infida_suite(4, horizon=300, settings={"book": SUITE_SETTINGS["book"]})
    assert len(table) >= 3
    summary = suite_summary(table, "book")
    assert summary["ge_greedy_share"] >= 0.95
    assert summary["median_ratio_opt"] >= 0.95
    assert (table["greedy / opt"] <= 1 + 1e-9).all() and (table["book / opt"] <= 1 + 1e-9).all()


def test_suite_instances_are_small_tight_and_seeded() -> None:
    a, b = small_instance(3), small_instance(3)
    assert np.array_equal(a.sizes_kb, b.sizes_kb) and np.array_equal(a.capacity, b.capacity)
    for seed in range(10):
        inst = small_instance(seed)
        loads = make_loads(inst, 20, rate=60.0, seed=seed)
        brute_force_static(inst, loads, max_allocations=5000)  # raises if too many
        device = inst.nodes.index("device-0")
        assert inst.sizes_kb[inst.allowed[device]].sum() > inst.budgets_kb[device]  # tight
    with pytest.raises(ValueError, match="seed"):
        small_instance(-1)
    with pytest.raises(TypeError, match="seed"):
        small_instance(1.5)


def test_suite_arguments_are_checked() -> None:
    with pytest.raises(ValueError, match="n_instances"):
        infida_suite(0)
    with pytest.raises(ValueError, match="horizon"):
        infida_suite(1, horizon=1)
    table = infida_suite(1, horizon=20, settings={"book": SUITE_SETTINGS["book"]})
    with pytest.raises(ValueError, match="setting 'paper'"):
        suite_summary(table, "paper")


def test_swap_candidates_bring_in_one_model_and_stay_within_budget() -> None:
    s = np.array([1.0, 2.0, 5.0])
    y = np.array([[0.99, 0.1, 0.78]])
    x = np.array([[1.0, 1.0, 0.0]])
    out = swap_candidates(y, x, s, np.array([5.0]), np.ones((1, 3), bool), threshold=0.05)
    assert out.tolist() == [[[0.0, 0.0, 1.0]]]  # the 5 KiB model evicts both small ones
    inst = small_instance(2)
    rng = np.random.default_rng(0)
    y = rng.uniform(0, 1, inst.shape) * inst.allowed
    xs = swap_candidates(y, inst.empty(), inst.sizes_kb, inst.budgets_kb, inst.allowed)
    for x in xs:
        inst.check_allocation(x, integral=True)
    r = make_loads(inst, 1, rate=60.0, seed=0)[0]
    assert np.allclose(batch_gain(inst, xs, r), [gain(inst, x, r) for x in xs])
    with pytest.raises(ValueError, match="allowed"):
        swap_candidates(y, inst.empty(), inst.sizes_kb, inst.budgets_kb, inst.allowed[:1])
    with pytest.raises(ValueError, match="per_node"):
        swap_candidates(y, inst.empty(), inst.sizes_kb, inst.budgets_kb, inst.allowed, per_node=0)
    with pytest.raises(ValueError, match="xs must be"):
        batch_gain(inst, inst.empty(), r)


def test_repair_keeps_budgets_and_the_greedy_is_a_fair_reference() -> None:
    inst = small_instance(7)
    loads = make_loads(inst, 60, rate=60.0, seed=7)
    policy = infida_policy(inst, len(loads), float(loads.max()))
    for r in loads:
        inst.check_allocation(policy.allocation(), integral=True)
        policy.observe(r)
    assert greedy_static(inst, loads).gain <= brute_force_static(inst, loads).gain + 1e-9
