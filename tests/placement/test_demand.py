"""Seeded demand (stationary, shifting, diurnal) and the per-slot simulation."""

from __future__ import annotations

import numpy as np
import pytest

from idn_core.placement import (
    LocalGreedy,
    StaticPolicy,
    build_instance,
    expected_rates,
    gain,
    make_loads,
    optimal_static,
    regret_over_time,
    simulate_slots,
    zipf_popularity,
)

from .test_instance import catalogue, tiny_topology


@pytest.fixture
def inst():
    return build_instance(tiny_topology(edge_kb=12.0), catalogue(3), alpha=100.0, capacity=30.0)


def test_loads_are_seeded_and_shaped(inst) -> None:
    a = make_loads(inst, 50, rate=200.0, seed=4)
    assert a.shape == (50, len(inst.types)) and (a >= 0).all()
    assert np.array_equal(a, make_loads(inst, 50, rate=200.0, seed=4))
    assert not np.array_equal(a, make_loads(inst, 50, rate=200.0, seed=5))
    assert a.sum(axis=1).mean() == pytest.approx(200.0, rel=0.1)


def test_zipf_popularity_is_a_permuted_power_law() -> None:
    p = zipf_popularity(5, 1.0, np.random.default_rng(0))
    assert p.sum() == pytest.approx(1.0)
    assert np.allclose(np.sort(p)[::-1] / np.sort(p)[::-1][0], 1 / np.arange(1, 6))


def test_shifting_changes_the_task_mix_between_phases(inst) -> None:
    lam = expected_rates(inst, 40, kind="shifting", n_phases=4, seed=1)
    assert np.allclose(lam[:10], lam[0]) and not np.allclose(lam[0], lam[-1])


def test_diurnal_volume_follows_the_day(inst) -> None:
    lam = expected_rates(inst, 200, kind="diurnal", day=100, amplitude=0.5, seed=0)
    total = lam.sum(axis=1)
    assert total.max() / total.min() > 1.2
    assert np.allclose(lam[:100], lam[100:])  # one period is 100 slots


def test_simulation_of_a_static_policy_equals_direct_gain(inst) -> None:
    loads = make_loads(inst, 20, rate=150.0, seed=0)
    opt = optimal_static(inst, loads)
    res = simulate_slots(inst, loads, [StaticPolicy(inst, opt.x, "opt"), LocalGreedy(inst)])
    assert np.allclose(res.gains["opt"], gain(inst, opt.x, loads))
    assert res.time_averaged()["opt"] == pytest.approx(opt.gain)
    regret = regret_over_time(res.gains["local greedy"], res.gains["opt"])
    assert regret.shape == (20,)
    assert regret[-1] == pytest.approx((res.gains["opt"] - res.gains["local greedy"]).mean())


def test_demand_errors_are_clear(inst) -> None:
    with pytest.raises(ValueError, match="unknown demand kind 'weekly'"):
        expected_rates(inst, 10, kind="weekly")
    with pytest.raises(ValueError, match="rate must be > 0"):
        expected_rates(inst, 10, rate=0.0)
    with pytest.raises(ValueError, match="amplitude must lie in"):
        expected_rates(inst, 10, kind="diurnal", amplitude=1.5)
    with pytest.raises(ValueError, match="policy names must be unique"):
        x = inst.empty()
        simulate_slots(
            inst, np.zeros((2, len(inst.types))), [StaticPolicy(inst, x), StaticPolicy(inst, x)]
        )
