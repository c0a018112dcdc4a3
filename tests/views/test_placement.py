"""Tests of idn_core.views.placement: chapter 4's figures and its dashboard, on a tiny catalogue."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from idn_core.placement import (
    CatalogueModel,
    alpha_sweep,
    build_instance,
    compare_policies,
    make_loads,
    placement_topology,
)
from idn_core.views import (
    placement_alpha_figure,
    placement_dashboard,
    placement_gain_figure,
    regret_figure,
    regret_horizon_figure,
)

from .conftest import controls, surface_errors
from .figure_checks import apply_step, assert_static_controls_are_honest, values

# Sizes (KiB), FLOPs and accuracies shaped like the book's zoos.
ZOO = [("device", 2.6, 14560, 0.71), ("edge", 9.0, 54720, 0.84), ("regional", 133, 836736, 0.88)]


def catalogue(n_tasks: int = 2) -> list[CatalogueModel]:
    return [
        CatalogueModel(f"t{t}:{name}", f"t{t}", size, flops, acc - 0.02 * t)
        for t in range(n_tasks)
        for name, size, flops, acc in ZOO
    ]


@pytest.fixture(scope="module")
def sweep():
    return alpha_sweep(placement_topology(), catalogue(), [0.0, 1000.0], horizon=5, rate=300.0)


@pytest.fixture(scope="module")
def comparisons():
    inst = build_instance(placement_topology(), catalogue(), alpha=100.0)
    return {
        kind: compare_policies(inst, make_loads(inst, 12, rate=300.0, seed=1, kind=kind))
        for kind in ("stationary", "shifting")
    }


def test_placement_alpha_heatmaps_count_the_models_placed_on_each_node(sweep) -> None:
    table, allocs, inst = sweep

    fig = placement_alpha_figure(table, allocs, inst)

    nodes = [n for v, n in enumerate(inst.nodes) if v != inst.repository]
    for i, alpha in enumerate(table.index):
        heat, bars = fig.data[2 * i], fig.data[2 * i + 1]
        assert list(heat.y) == nodes and list(heat.x) == ["device", "edge", "regional", "cloud"]
        placed = [allocs[alpha][v].sum() for v in range(len(inst.nodes)) if v != inst.repository]
        np.testing.assert_array_equal(values(heat, "z").sum(axis=1), placed)
        shares = [table.loc[alpha, f"share {t}"] for t in ("device", "edge", "regional", "cloud")]
        assert list(bars.y) == pytest.approx(shares)
    assert fig.layout.yaxis2.tickformat == ".0%"


def test_placement_alpha_slider_titles_each_alpha_with_its_latency(sweep) -> None:
    table, allocs, inst = sweep

    fig = placement_alpha_figure(table, allocs, inst)

    state = apply_step(fig, fig.layout.sliders[0].steps[1])
    row = table.loc[1000.0]
    assert state["layout"]["title"]["text"] == (
        f"κ = 1000 ms: mean latency {row['latency ms']:.1f} ms, mean accuracy {row['accuracy']:.3f}"
    )
    assert fig.layout.title.text.startswith("κ = 0 ms: mean latency")
    assert fig.layout.sliders[0].currentvalue.prefix.startswith("accuracy weight κ")
    assert_static_controls_are_honest(fig)


def test_placement_gain_figure_plots_running_gain_ratios_with_one_button_per_demand(
    comparisons,
) -> None:
    fig = placement_gain_figure(comparisons)

    comp = comparisons["shifting"]
    policies = [k for k in comp.result.gains if k != "offline optimum"]
    assert [t.name for t in fig.data] == policies * 2
    opt = np.cumsum(comp.result.gains["offline optimum"])
    for trace, name in zip(fig.data[len(policies) :], policies, strict=True):
        ratio = np.cumsum(comp.result.gains[name]) / opt
        np.testing.assert_allclose(values(trace), ratio)
        assert list(trace.x) == list(range(1, 13))
    assert [b.label for b in fig.layout.updatemenus[0].buttons] == ["stationary", "shifting"]
    assert fig.layout.xaxis.title.text == "time slot t"
    assert_static_controls_are_honest(fig)


def test_regret_figure_divides_running_regret_by_the_optimums_mean_gain() -> None:
    gains = np.array([1.0, 2.0, 4.0, 4.0])
    optimum = np.array([4.0, 4.0, 4.0, 4.0])
    runs = {10.0: (gains, optimum), 1000.0: (optimum - 1.0, optimum)}

    fig = regret_figure(runs)

    # regret(t)/t = cumsum(opt - gain)/t = [3, 2.5, 5/3, 1.25]; over mean optimum 4
    assert list(fig.data[0].y) == pytest.approx([0.75, 0.625, 5 / 12, 0.3125])
    assert list(fig.data[1].y) == pytest.approx([0.25] * 4)
    assert [s.label for s in fig.layout.sliders[0].steps] == ["10", "1000"]
    assert "regret(t) / t" in fig.layout.yaxis.title.text
    assert_static_controls_are_honest(fig)


def test_regret_horizon_figure_plots_both_columns_and_a_square_root_guide() -> None:
    table = pd.DataFrame(
        {
            "T": [50, 200, 800],
            "regret/T / optimum": [0.10, 0.06, 0.02],
            "fractional regret/T / optimum": [0.08, 0.04, 0.02],
        }
    )

    fig = regret_horizon_figure(table)

    integral, fractional, guide = fig.data
    assert list(integral.y) == [0.10, 0.06, 0.02] and fractional.line.dash == "dash"
    assert list(guide.y) == pytest.approx([0.08, 0.04, 0.02])  # 0.08 * sqrt(50 / T)
    assert fig.layout.xaxis.type == "log"
    assert fig.layout.xaxis.title.text == "horizon T (slots)"


# ---------------------------------------------------------------- placement_dashboard
def test_placement_dashboard_shows_the_gain_figure_and_table_of_the_chosen_demand(shown) -> None:
    board = surface_errors(
        placement_dashboard(placement_topology(), catalogue(), horizon=6, rate=100.0)
    )
    shown.figures.clear()
    shown.displayed.clear()

    controls(board)["demand_kind"].value = "shifting"

    (fig,) = shown.figures
    assert [b.label for b in fig.layout.updatemenus[0].buttons] == ["shifting"]
    assert len(fig.data[0].x) == 6
    (table,) = shown.displayed
    # the table's ratios are over the offline optimum: no static allocation beats it
    assert 0 < table.loc["greedy (per KiB)", "gain / optimum"] <= 1 + 1e-9
    assert set(table.index) == {t.name for t in fig.data} | {"offline optimum"}


def test_placement_dashboard_alpha_reaches_the_instance(shown, monkeypatch) -> None:
    import idn_core.views.placement as views

    seen = []
    real = views.build_instance
    monkeypatch.setattr(
        views, "build_instance", lambda *a, **k: seen.append(k["alpha"]) or real(*a, **k)
    )
    board = surface_errors(
        placement_dashboard(placement_topology(), catalogue(), horizon=4, rate=100.0)
    )

    controls(board)["alpha"].value = 10.0

    assert seen == [100.0, 10.0]


def test_placement_dashboard_errors_surface(shown, monkeypatch) -> None:
    import idn_core.views.placement as views

    board = surface_errors(
        placement_dashboard(placement_topology(), catalogue(), horizon=4, rate=100.0)
    )

    def broken(*args, **kwargs):
        raise RuntimeError("comparison failed")

    monkeypatch.setattr(views, "compare_policies", broken)
    with pytest.raises(RuntimeError, match="comparison failed"):
        controls(board)["demand_kind"].value = "diurnal"
