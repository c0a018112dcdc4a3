"""Chapter-4 experiments and figures on a small synthetic catalogue."""

from __future__ import annotations

import numpy as np
import pytest

from idn_core.placement import (
    alpha_sweep,
    brute_force_static,
    build_instance,
    candidate_table,
    compare_policies,
    depround_table,
    make_loads,
    phase_optimum_ratio,
    placement_topology,
    serving_summary,
)
from idn_core.views import placement_alpha_figure, placement_gain_figure, regret_figure

from .test_instance import catalogue, reference_gain, tiny_topology


@pytest.fixture(scope="module")
def inst():
    return build_instance(placement_topology(), catalogue(3), alpha=100.0, slot_ms=100.0)


def test_candidate_table_is_sorted_and_ends_at_the_repository(inst) -> None:
    table = candidate_table(inst, 0)
    assert table["cost ms"].is_monotonic_increasing
    assert table.iloc[-1]["node"] == "cloud (repository)"
    with pytest.raises(IndexError, match="out of range"):
        candidate_table(inst, len(inst.types))


def test_serving_summary_accounts_for_every_request(inst) -> None:
    loads = make_loads(inst, 5, rate=300.0, seed=0)
    empty = serving_summary(inst, inst.empty(), loads)
    assert empty["share cloud"] == pytest.approx(1.0)
    comp = compare_policies(inst, loads)
    full = serving_summary(inst, comp.optimum.x, loads)
    shares = [full[f"share {t}"] for t in ("device", "edge", "regional", "cloud")]
    assert sum(shares) == pytest.approx(1.0) and full["share cloud"] < 1.0


def test_alpha_moves_requests_towards_accurate_models() -> None:
    topo = placement_topology()
    table, allocs, last = alpha_sweep(topo, catalogue(2), [0.0, 1000.0], horizon=5, rate=300.0)
    assert table.loc[1000.0, "accuracy"] >= table.loc[0.0, "accuracy"]
    assert table.loc[1000.0, "latency ms"] >= table.loc[0.0, "latency ms"]
    fig = placement_alpha_figure(table, allocs, last)
    assert len(fig.layout.sliders[0].steps) == 2 and len(fig.data) == 4
    assert [bool(v) for v in fig.layout.sliders[0].steps[1].args[0]["visible"]] == [0, 0, 1, 1]


def test_comparison_ratios_and_figures(inst) -> None:
    loads = make_loads(inst, 40, rate=300.0, seed=1)
    comp = compare_policies(inst, loads)
    ratios = comp.ratios()
    # Each policy's per-slot gain is its allocation's gain by the per-request reference,
    # and each ratio is its mean gain over the offline optimum's.
    for r, g in zip(loads, comp.result.gains["offline optimum"], strict=True):
        assert g == pytest.approx(reference_gain(inst, comp.optimum.x, r))
    for r, g in zip(loads, comp.result.gains["greedy (per KiB)"], strict=True):
        assert g == pytest.approx(reference_gain(inst, comp.greedy.x, r))
    opt_mean = np.mean([reference_gain(inst, comp.optimum.x, r) for r in loads])
    for name, g in comp.result.gains.items():
        assert ratios[name] == pytest.approx(g.mean() / opt_mean)
    assert ratios["greedy (per KiB)"] <= 1.0 + 1e-9
    assert set(comp.table().columns) >= {"gain / optimum", "update ms/slot"}
    fig = placement_gain_figure({"a": comp, "b": comp})
    assert len(fig.layout.updatemenus[0].buttons) == 2 and len(fig.data) == 6
    runs = {1.0: (comp.result.gains["INFIDA"], comp.result.gains["offline optimum"])}
    assert len(regret_figure(runs).data) == 1


def test_phase_optimum_is_at_least_the_static_one(inst) -> None:
    loads = make_loads(inst, 40, rate=300.0, seed=2, kind="shifting", n_phases=2)
    assert phase_optimum_ratio(inst, loads, 2) >= 1.0 - 1e-9


def test_phase_optimum_ratio_matches_brute_force_per_phase() -> None:
    tiny = build_instance(tiny_topology(edge_kb=12.0), catalogue(2), alpha=100.0, capacity=20.0)
    loads = make_loads(tiny, 6, rate=120.0, seed=1, task_exponent=2, kind="shifting", n_phases=2)

    ratio = phase_optimum_ratio(tiny, loads, 2)

    static = brute_force_static(tiny, loads).gain * 6
    phases = sum(brute_force_static(tiny, half).gain * 3 for half in (loads[:3], loads[3:]))
    assert ratio == pytest.approx(phases / static, rel=1e-6)
    assert ratio > 1.1  # the popular task changes at the phase boundary (seed 1)


def test_depround_table_reports_budgets_and_bias(inst) -> None:
    rng = np.random.default_rng(0)
    from idn_core.placement import integral_levels, project_capped_simplex

    levels = integral_levels(inst.sizes_kb, inst.budgets_kb, inst.allowed)
    y = project_capped_simplex(rng.random(inst.shape) + 0.01, inst.sizes_kb, levels, inst.allowed)
    table = depround_table(inst, y, 200)
    assert (table["max used KiB, refill"] <= table["budget KiB"] + 1e-9).all()
    assert (table["used KiB, refill"] >= table["used KiB, plain"] - 1e-9).all()
    assert "cloud" not in table.index


def test_capacity_model_table_shared_never_exceeds_per_type(inst) -> None:
    from idn_core.placement import capacity_model_table

    tight = build_instance(placement_topology(), catalogue(3), alpha=100.0, capacity=20.0)
    loads = make_loads(tight, 20, rate=600.0, seed=3)
    comp = compare_policies(tight, loads)
    assert set(comp.final) == {"INFIDA", "local greedy", "greedy (per KiB)", "offline optimum"}
    table = capacity_model_table(
        tight, {"opt": comp.optimum.x, "infida": comp.final["INFIDA"]}, loads, 5
    )
    assert (table["shared / per-type"] <= 1 + 1e-9).all()
    assert table.loc["opt", "shared / per-type"] < 1  # 20 requests per slot bind on the edges


def test_regret_against_horizon_and_its_figure(inst) -> None:
    from idn_core.placement import regret_vs_horizon
    from idn_core.views import regret_horizon_figure

    loads = make_loads(inst, 40, rate=300.0, seed=4)
    table = regret_vs_horizon(inst, loads, [10, 40])
    assert list(table["T"]) == [10, 40]
    assert np.isfinite(table.to_numpy()).all()
    assert (table["regret/T / optimum"] < 1).all()  # INFIDA gains something
    assert len(regret_horizon_figure(table).data) == 3
    with pytest.raises(ValueError, match="longer than the 40 slots"):
        regret_vs_horizon(inst, loads, [80])


def test_learning_rate_sweep_reports_each_scale(inst) -> None:
    from idn_core.placement import infida_step_sweep

    loads = make_loads(inst, 30, rate=300.0, seed=5)
    comp = compare_policies(inst, loads)
    table, runs = infida_step_sweep(inst, comp, [10.0, 1000.0])
    assert list(table.index) == [10.0, 1000.0] and set(runs) == {10.0, 1000.0}
    assert table["fractional entries at the end"].between(0, 1).all()
    assert np.array_equal(runs[10.0][1], comp.result.gains["offline optimum"])


def test_infida_variant_ratios_rerun_infida_on_the_same_demand() -> None:
    from idn_core.placement import infida_policy, infida_variant_ratios

    inst = build_instance(tiny_topology(edge_kb=12.0), catalogue(2), alpha=100.0, capacity=40.0)
    loads = make_loads(inst, 30, rate=150.0, seed=0, task_exponent=1.2)
    comp = compare_policies(inst, loads)
    opt = comp.result.gains["offline optimum"]
    greedy = comp.result.gains["greedy (per KiB)"]

    # the book's settings reproduce the comparison's own INFIDA run
    same = infida_variant_ratios(inst, comp, start=10)
    infida = comp.result.gains["INFIDA"][10:].mean()
    assert same == pytest.approx((infida / opt[10:].mean(), infida / greedy[10:].mean()))
    # the paper's settings (theory step, no share, no fill, no repair), rerun slot by slot
    settings = {"lr_scale": 1.0, "share": 0.0, "fill": False, "repair": False}
    paper = infida_variant_ratios(inst, comp, **settings)
    assert paper[0] != pytest.approx(same[0])  # the settings matter on this demand
    policy = infida_policy(inst, 30, float(loads.max()), **settings)
    gains = []
    for r in loads:
        gains.append(reference_gain(inst, policy.allocation(), r))
        policy.observe(r)
    assert paper == pytest.approx((np.mean(gains) / opt.mean(), np.mean(gains) / greedy.mean()))
