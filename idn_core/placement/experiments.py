"""The placement chapter's scenario and experiments, built on the book's real model zoos.

Tasks alternate between the MNIST-1D zoo and the digits zoo of chapter 1 (``mnist1d-1``,
``digits-1``, ``mnist1d-2``...): several tasks reuse a zoo, each with its own copies of
the models and its own popularity. The topology is a 4-tier tree (devices, edges, one
regional centre, the cloud as repository) with the default memory of each tier.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from idn_core._util.validation import check_positive, check_positive_int, check_seed
from idn_core.network.suite import RUNNING_SCENARIO, scenario_zoo
from idn_core.network.topology import Topology, tree_topology
from idn_core.placement.baselines import (
    LocalGreedy,
    StaticPolicy,
    StaticSolution,
    greedy_static,
    optimal_static,
)
from idn_core.placement.catalogue import CatalogueModel, catalogue_from_zoos
from idn_core.placement.demand import SimulationResult, make_loads, simulate_slots
from idn_core.placement.infida import Infida, theory_learning_rate
from idn_core.placement.instance import PlacementInstance, build_instance, served


def placement_catalogue(
    n_tasks: int = 8,
    *,
    num_samples: int | None = None,
    epochs: int | None = None,
    seed: int = 0,
    scenario: str = RUNNING_SCENARIO,
) -> list[CatalogueModel]:
    """Catalogue of ``n_tasks`` tasks alternating between ``scenario``'s zoo and the digits
    zoo (trained or cached). Task names start with the zoo's dataset (``mnist1d-1``,
    ``digits-1``, ...); on the digits scenario both zoos are the digits zoo (``digits-1``,
    ``digits-b-1``, ...)."""
    check_seed(seed)
    check_positive_int("n_tasks", n_tasks)
    first = scenario_zoo(scenario, num_samples=num_samples, epochs=epochs, seed=seed)
    zoos = [first, scenario_zoo("digits", epochs=epochs, seed=seed)]
    labels = [first.dataset.name, "digits" if first.dataset.name != "digits" else "digits-b"]
    tasks = {f"{labels[i % 2]}-{i // 2 + 1}": zoos[i % 2] for i in range(n_tasks)}
    return catalogue_from_zoos(tasks)


def placement_topology(n_edges: int = 2, devices_per_edge: int = 2) -> Topology:
    """Devices, edges, one regional centre and the cloud (the repository)."""
    return tree_topology(n_edges=n_edges, devices_per_edge=devices_per_edge, n_regional=1)


#: The book's fixed share for INFIDA, chosen with the step scale on demand seed 0: it lets
#: the placement follow shifting popularity and costs nothing under stationary demand.
SHARE = 1e-3


def infida_policy(
    inst: PlacementInstance,
    horizon: int,
    max_load: float,
    *,
    lr_scale: float = 300.0,
    period: int = 1,
    seed: int = 0,
    fill: bool = True,
    share: float = SHARE,
    repair: bool = True,
) -> Infida:
    """INFIDA with ``eta = lr_scale * theory_learning_rate(inst, horizon / period, ...)``.

    The theoretical step guards against any request sequence and is very cautious;
    ``lr_scale`` multiplies it (the chapter shows the effect). ``eta`` stays ``~ 1/sqrt(T)``.
    ``share`` is the fixed share of :class:`~idn_core.placement.infida.Infida` (0: the paper's INFIDA),
    ``repair`` its gain-aware choice among DepRound's draw and one-swap neighbours
    (``False``: the paper's rounding).
    """
    check_seed(seed)
    check_positive("lr_scale", lr_scale)
    n_updates = max(1, horizon // period)
    eta = lr_scale * theory_learning_rate(inst, n_updates, max_load * period)
    return Infida(inst, eta, period=period, seed=seed, fill=fill, share=share, repair=repair)


@dataclass
class PlacementComparison:
    """Outcome of :func:`compare_policies`: per-slot gains and the static references."""

    result: SimulationResult
    optimum: StaticSolution
    greedy: StaticSolution
    loads: np.ndarray
    final: dict[str, np.ndarray] = field(default_factory=dict)

    def ratios(self, start: int = 0) -> dict[str, float]:
        """Time-averaged gain of each policy from ``start`` on, over the optimum's."""
        opt = self.result.gains["offline optimum"][start:].mean()
        return {k: float(v / opt) for k, v in self.result.time_averaged(start).items()}

    def table(self) -> pd.DataFrame:
        """Ratios over the whole run and its second half, and the update cost per slot."""
        T = len(self.loads)
        return pd.DataFrame(
            {
                "gain / optimum": self.ratios(0),
                "gain / optimum, 2nd half": self.ratios(T // 2),
                "update ms/slot": self.result.update_ms,
            }
        )


def compare_policies(
    inst: PlacementInstance,
    loads: np.ndarray,
    *,
    lr_scale: float = 300.0,
    period: int = 1,
    seed: int = 0,
    local_period: int = 5,
    share: float = SHARE,
) -> PlacementComparison:
    """Run INFIDA, the local greedy, the global greedy and the offline optimum on ``loads``."""
    check_seed(seed)
    loads = np.asarray(loads, dtype=float)
    opt = optimal_static(inst, loads)
    greedy = greedy_static(inst, loads)
    policies = [
        infida_policy(
            inst,
            len(loads),
            float(loads.max()),
            lr_scale=lr_scale,
            period=period,
            seed=seed,
            share=share,
        ),
        LocalGreedy(inst, period=local_period),
        StaticPolicy(inst, greedy.x, "greedy (per KiB)"),
        StaticPolicy(inst, opt.x, "offline optimum"),
    ]
    result = simulate_slots(inst, loads, policies)
    final = {p.name: p.allocation().copy() for p in policies}
    return PlacementComparison(result, opt, greedy, loads, final)


def infida_variant_ratios(
    inst: PlacementInstance,
    comp: PlacementComparison,
    *,
    start: int = 0,
    seed: int = 0,
    **infida_kwargs,
) -> tuple[float, float]:
    """Rerun INFIDA with other settings (e.g. ``share=0.0``) on ``comp``'s demand.

    Returns its time-averaged gain from slot ``start`` over the offline optimum's and over
    the static greedy's, whose gains ``comp`` already holds.
    """
    check_seed(seed)
    loads = comp.loads
    policy = infida_policy(inst, len(loads), float(loads.max()), seed=seed, **infida_kwargs)
    infida = simulate_slots(inst, loads, [policy]).time_averaged(start)["INFIDA"]
    refs = comp.result.time_averaged(start)
    return infida / refs["offline optimum"], infida / refs["greedy (per KiB)"]


def phase_optimum_ratio(inst: PlacementInstance, loads: np.ndarray, n_phases: int) -> float:
    """Gain of allocations re-optimised in each of ``n_phases`` equal phases (in hindsight)
    over the best single static allocation: what perfect adaptation could add."""
    check_positive_int("n_phases", n_phases)
    loads = np.asarray(loads, dtype=float)
    static = optimal_static(inst, loads).gain * len(loads)
    per = sum(optimal_static(inst, p).gain * len(p) for p in np.array_split(loads, n_phases))
    return float(per / static)


def alpha_sweep(
    topology: Topology,
    catalogue: list[CatalogueModel],
    alphas: list[float],
    *,
    horizon: int = 200,
    rate: float = 2000.0,
    slot_ms: float = 100.0,
    seed: int = 0,
    **demand: object,
) -> tuple[pd.DataFrame, dict[float, np.ndarray], PlacementInstance]:
    """Optimal static placement for each ``alpha``: where requests are served, at what cost.

    Returns a table (one row per alpha: share served per tier, mean latency in ms, mean
    accuracy), the optimal allocation per alpha, and the last instance (for labels).
    """
    check_seed(seed)
    rows, allocs = [], {}
    inst = None
    for alpha in alphas:
        inst = build_instance(topology, catalogue, alpha=float(alpha), slot_ms=slot_ms)
        loads = make_loads(inst, horizon, rate=rate, seed=seed, **demand)
        opt = optimal_static(inst, loads)
        allocs[float(alpha)] = opt.x
        rows.append({"alpha": float(alpha), **serving_summary(inst, opt.x, loads)})
    return pd.DataFrame(rows).set_index("alpha"), allocs, inst


def serving_summary(inst: PlacementInstance, x: np.ndarray, loads: np.ndarray) -> dict[str, float]:
    """Share of requests served per tier, mean latency (ms) and mean accuracy under ``x``."""
    tiers = [inst.topology.node(n).tier for n in inst.nodes]
    M = inst.shape[1]
    share = {t: 0.0 for t in ("device", "edge", "regional", "cloud")}
    lat = acc = total = 0.0
    for r in np.atleast_2d(loads):
        s = served(inst, x, r)
        for rho, (task, device) in enumerate(inst.types):
            for k in range(inst.n_cand[rho]):
                if s[rho, k] > 0:
                    v, m = divmod(int(inst.cand[rho, k]), M)
                    c = inst.catalogue[m]
                    share[tiers[v]] += s[rho, k]
                    lat += s[rho, k] * inst.topology.serving_latency_ms(
                        device, inst.nodes[v], c.flops
                    )
                    acc += s[rho, k] * c.accuracy
            if s[rho, -1] > 0:
                mine = [c for c in inst.catalogue if c.task == task]
                cloud = inst.topology.cloud
                best = min(
                    mine,
                    key=lambda c, d=device: (
                        inst.topology.serving_latency_ms(d, cloud, c.flops)
                        + inst.alpha * (1 - c.accuracy)
                    ),
                )
                share["cloud"] += s[rho, -1]
                lat += s[rho, -1] * inst.topology.serving_latency_ms(device, cloud, best.flops)
                acc += s[rho, -1] * best.accuracy
            total += r[rho]
    total = max(total, 1e-12)
    return {
        **{f"share {t}": v / total for t, v in share.items()},
        "latency ms": lat / total,
        "accuracy": acc / total,
    }
