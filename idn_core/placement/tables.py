"""Tables and sweeps of the placement chapter: costs, candidates, rounding, capacity models.

Each function answers one question the chapter asks about the instance of
:mod:`idn_core.placement.experiments` (how long placements take to compute, what one request
type can be offered, what DepRound costs, how the capacity model changes the gain, how
regret falls with the horizon and the step size) and returns a tidy DataFrame.
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd

from idn_core._util.validation import check_positive_int, check_seed
from idn_core.placement.baselines import greedy_static, optimal_static
from idn_core.placement.catalogue import CatalogueModel
from idn_core.placement.demand import make_loads, simulate_slots
from idn_core.placement.experiments import PlacementComparison, infida_policy, placement_topology
from idn_core.placement.infida import depround_bias
from idn_core.placement.instance import PlacementInstance, build_instance, gain
from idn_core.placement.shared_capacity import shared_capacity_gain


def timing_table(
    catalogue: list[CatalogueModel],
    sizes: list[tuple[int, int]],
    *,
    horizon: int = 200,
    seed: int = 0,
) -> pd.DataFrame:
    """Cost of computing placements on trees of ``(n_edges, devices_per_edge)`` shapes.

    Columns: nodes, request types, MILP seconds, greedy seconds, INFIDA ms per slot update.
    """
    check_seed(seed)
    rows = []
    for n_edges, dpe in sizes:
        inst = build_instance(placement_topology(n_edges, dpe), catalogue)
        loads = make_loads(inst, horizon, rate=500.0 * n_edges * dpe, seed=seed)
        opt = optimal_static(inst, loads)
        greedy = greedy_static(inst, loads)
        policy = infida_policy(inst, horizon, float(loads.max()))
        start = time.perf_counter()
        for r in loads:
            policy.observe(r)
        rows.append(
            {
                "nodes": inst.shape[0],
                "request types": len(inst.types),
                "MILP s": opt.seconds,
                "greedy s": greedy.seconds,
                "INFIDA ms/slot": 1e3 * (time.perf_counter() - start) / horizon,
            }
        )
    return pd.DataFrame(rows)


def candidate_table(inst: PlacementInstance, rho: int) -> pd.DataFrame:
    """The candidates of request type ``rho``, cheapest first, then its repository model."""
    if not 0 <= rho < len(inst.types):
        raise IndexError(f"request type {rho} out of range; there are {len(inst.types)}")
    rows = []
    for k in range(inst.n_cand[rho]):
        v, m = divmod(int(inst.cand[rho, k]), inst.shape[1])
        rows.append(
            {
                "node": inst.nodes[v],
                "model": inst.models[m],
                "cost ms": inst.gamma[rho, k],
                "capacity / slot": inst.cand_cap[rho, k],
            }
        )
    rows.append(
        {
            "node": f"{inst.nodes[inst.repository]} (repository)",
            "model": "best repository model",
            "cost ms": inst.gamma[rho, inst.n_cand[rho]],
            "capacity / slot": np.inf,
        }
    )
    return pd.DataFrame(rows)


def depround_table(
    inst: PlacementInstance, y: np.ndarray, n: int = 2000, seed: int = 0
) -> pd.DataFrame:
    """Per node: budget, fractional level, memory used and largest marginal bias over ``n``
    roundings of ``y``, for plain DepRound and for DepRound followed by the refill."""
    check_seed(seed)
    checks = {
        f: depround_bias(y, inst.sizes_kb, inst.budgets_kb, n, seed=seed, fill=f)
        for f in (False, True)
    }
    table = pd.DataFrame(
        {
            "node": inst.nodes,
            "budget KiB": inst.budgets_kb,
            "fractional KiB": y @ inst.sizes_kb,
            "used KiB, plain": checks[False]["used"].mean(axis=0),
            "used KiB, refill": checks[True]["used"].mean(axis=0),
            "max used KiB, refill": checks[True]["used"].max(axis=0),
            "max |bias|, plain": np.abs(checks[False]["bias"]).max(axis=1),
            "max |bias|, refill": np.abs(checks[True]["bias"]).max(axis=1),
        }
    ).set_index("node")
    return table.drop(index=inst.nodes[inst.repository])


def capacity_model_table(
    inst: PlacementInstance,
    allocations: dict[str, np.ndarray],
    loads: np.ndarray,
    n_slots: int = 50,
) -> pd.DataFrame:
    """Mean gain per slot of each allocation under per-type and under shared capacities,
    on ``n_slots`` slots spread evenly over ``loads`` ``(T, R)``."""
    check_positive_int("n_slots", n_slots)
    loads = np.asarray(loads, dtype=float)
    pick = loads[np.unique(np.linspace(0, len(loads) - 1, n_slots).astype(int))]
    rows = []
    for name, x in allocations.items():
        per_type = float(np.mean(gain(inst, x, pick)))
        shared = float(np.mean(shared_capacity_gain(inst, x, pick)))
        rows.append(
            {
                "allocation": name,
                "gain, per-type capacity": per_type,
                "gain, shared capacity": shared,
                "shared / per-type": shared / per_type if per_type > 0 else np.nan,
            }
        )
    return pd.DataFrame(rows).set_index("allocation")


def regret_vs_horizon(
    inst: PlacementInstance,
    loads: np.ndarray,
    horizons: list[int],
    *,
    lr_scale: float = 300.0,
    seed: int = 0,
) -> pd.DataFrame:
    """INFIDA's regret over horizon ``T`` divided by ``T``, for each ``T`` in ``horizons``.

    For each ``T`` INFIDA runs on the first ``T`` slots of ``loads`` with its step tuned to
    ``T`` (``~ 1/sqrt(T)``) and is compared with the best static allocation for those slots.
    Columns: ``T``, regret per slot of the integral allocations and of the fractional state
    (ms), and both divided by the optimum's mean gain per slot.
    """
    check_seed(seed)
    loads = np.asarray(loads, dtype=float)
    rows = []
    for T in horizons:
        check_positive_int("horizon", T)
        if len(loads) < T:
            raise ValueError(f"horizon {T} is longer than the {len(loads)} slots of loads")
        part = loads[:T]
        opt = optimal_static(inst, part)
        policy = infida_policy(inst, T, float(part.max()), lr_scale=lr_scale, seed=seed)
        res = simulate_slots(inst, part, [policy])
        integral = opt.gain - float(res.gains[policy.name].mean())
        fractional = opt.gain - float(res.fractional[policy.name].mean())
        rows.append(
            {
                "T": T,
                "regret/T": integral,
                "fractional regret/T": fractional,
                "regret/T / optimum": integral / opt.gain,
                "fractional regret/T / optimum": fractional / opt.gain,
            }
        )
    return pd.DataFrame(rows)


def infida_step_sweep(
    inst: PlacementInstance, comparison: PlacementComparison, scales: list[float], *, seed: int = 0
) -> tuple[pd.DataFrame, dict[float, tuple[np.ndarray, np.ndarray]]]:
    """INFIDA on ``comparison.loads`` for each step scale (see :func:`infida_policy`).

    Returns a table (gain over the optimum's, whole run and second half; share of the
    fractional state's entries still strictly between 0.01 and 0.99 at the end; coefficient
    of variation of the gain per slot over the second half) and, per scale, the per-slot
    gains of INFIDA and of the offline optimum (for :func:`~idn_core.views.placement.regret_figure`).
    """
    check_seed(seed)
    loads = comparison.loads
    opt = comparison.result.gains["offline optimum"]
    half = len(loads) // 2
    rows, runs = [], {}
    for s in scales:
        policy = infida_policy(inst, len(loads), float(loads.max()), lr_scale=float(s), seed=seed)
        g = simulate_slots(inst, loads, [policy]).gains[policy.name]
        y = policy.y[inst.allowed]
        runs[float(s)] = (g, opt)
        rows.append(
            {
                "step scale": float(s),
                "gain / optimum": float(g.sum() / opt.sum()),
                "gain / optimum, 2nd half": float(g[half:].sum() / opt[half:].sum()),
                "fractional entries at the end": float(((y > 0.01) & (y < 0.99)).mean()),
                "gain variability, 2nd half": float(g[half:].std() / max(g[half:].mean(), 1e-12)),
            }
        )
    return pd.DataFrame(rows).set_index("step scale"), runs
