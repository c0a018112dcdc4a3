"""Static placements to compare INFIDA with: the offline optimum (MILP), brute force, greedy.

* :func:`optimal_static`: the best static allocation in hindsight for loads ``(T, R)``,
  as a mixed-integer program solved by HiGHS through ``scipy.optimize.milp``. The time
  average ``f(Z) = mean_t min(r_t, Z)`` of each type is concave and piecewise linear in the
  capacity ``Z``, so it is the minimum of its pieces' affine extensions: one constraint per
  piece, which makes the program exact.
* :func:`brute_force_static`: enumeration of every feasible allocation (tiny instances only).
* :func:`greedy_static`: global greedy by marginal gain per KiB on the mean loads.
* :class:`LocalGreedy`: online, each node alone fills its memory greedily by the gain it
  would bring on its own against the repository, from an exponentially weighted estimate
  of the loads crossing it (popularity), without knowing what other nodes hold.
"""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import coo_array

from idn_core._util.validation import check_fraction, check_positive, check_positive_int
from idn_core.placement.instance import PlacementInstance, check_loads, cumulative_capacity, gain


@dataclass(frozen=True)
class StaticSolution:
    """A static allocation ``x`` ``(V, M)``, its time-averaged gain (ms/slot) and solve time (s)."""

    x: np.ndarray
    gain: float
    seconds: float
    status: str = "optimal"


def _pieces(r: np.ndarray, zmax: float) -> tuple[np.ndarray, np.ndarray]:
    """Affine pieces ``(slope, intercept)`` of ``Z -> mean_t min(r_t, Z)`` on ``[0, zmax]``."""
    u = np.unique(np.concatenate([[0.0], r]))
    u = u[u < zmax] if (u < zmax).any() else u[:1]
    f = np.minimum(r[None, :], u[:, None]).mean(axis=1)
    slope = (r[None, :] > u[:, None]).mean(axis=1)
    return slope, f - slope * u


def optimal_static(
    inst: PlacementInstance, loads: np.ndarray, *, time_limit: float = 120.0, gap: float = 1e-6
) -> StaticSolution:
    """Best static integral allocation for the time-averaged gain on ``loads`` ``(T, R)``.

    Variables: ``x_vm`` binary for allowed pairs and ``z_{rho,k} >= 0`` for each real
    candidate; maximise ``sum delta_{rho,k} z_{rho,k}`` subject to the budgets and
    ``z <= intercept_j + slope_j * Z_{rho,k}(x)`` for every piece ``j``.
    """
    r = check_loads(inst, np.atleast_2d(loads))
    check_positive("time_limit", time_limit)
    start = time.perf_counter()
    V, M = inst.shape
    var_of = -np.ones(V * M + 1, dtype=int)
    allowed = np.flatnonzero(inst.allowed.ravel())
    var_of[allowed] = np.arange(len(allowed))
    nx = len(allowed)
    R, K = inst.cand.shape
    real = np.arange(K)[None, :] < inst.n_cand[:, None]
    zid = -np.ones((R, K), dtype=int)
    zid[real] = nx + np.arange(real.sum())
    nvar = nx + int(real.sum())
    c = np.zeros(nvar)
    c[zid[real]] = -inst.delta[real]
    rows, cols, vals, ub = [], [], [], []
    row = 0
    for rho in range(R):
        caps = inst.cand_cap[rho]
        for k in range(inst.n_cand[rho]):
            slope, icept = _pieces(r[:, rho], caps[: k + 1].sum())
            for a, b0 in zip(slope, icept, strict=True):
                rows += [row] * (k + 2)
                cols += [zid[rho, k], *var_of[inst.cand[rho, : k + 1]]]
                vals += [1.0, *(-a * caps[: k + 1])]
                ub.append(b0)
                row += 1
    for v in range(V):
        mine = [i for i, f in enumerate(allowed) if f // M == v]
        if mine:
            rows += [row] * len(mine)
            cols += mine
            vals += [inst.sizes_kb[allowed[i] % M] for i in mine]
            ub.append(inst.budgets_kb[v])
            row += 1
    cons = []
    if row:
        A = coo_array((vals, (rows, cols)), shape=(row, nvar)).tocsr()
        cons = [LinearConstraint(A, -np.inf, np.array(ub))]
    integrality = np.r_[np.ones(nx), np.zeros(nvar - nx)]
    upper = np.r_[np.ones(nx), np.full(nvar - nx, np.inf)]
    res = milp(
        c,
        constraints=cons,
        integrality=integrality,
        bounds=Bounds(np.zeros(nvar), upper),
        options={"time_limit": time_limit, "mip_rel_gap": gap},
    )
    if res.x is None:
        raise RuntimeError(f"the MILP found no solution: {res.message}")
    x = inst.empty().ravel()
    x[allowed] = np.round(res.x[:nx])
    x = x.reshape(V, M)
    status = "optimal" if res.status == 0 else res.message
    return StaticSolution(x, float(gain(inst, x, r).mean()), time.perf_counter() - start, status)


def _node_subsets(inst: PlacementInstance, v: int) -> list[tuple[int, ...]]:
    ms = np.flatnonzero(inst.allowed[v])
    out = []
    for n in range(len(ms) + 1):
        for sub in itertools.combinations(ms, n):
            if inst.sizes_kb[list(sub)].sum() <= inst.budgets_kb[v] + 1e-9:
                out.append(sub)
    return out


def brute_force_static(
    inst: PlacementInstance, loads: np.ndarray, max_allocations: int = 200_000
) -> StaticSolution:
    """Best static allocation by enumerating every feasible one (raises if more than ``max_allocations``)."""
    r = check_loads(inst, np.atleast_2d(loads))
    start = time.perf_counter()
    per_node = [_node_subsets(inst, v) for v in range(inst.shape[0])]
    count = int(np.prod([len(p) for p in per_node], dtype=float))
    if count > max_allocations:
        raise ValueError(
            f"{count} feasible allocations, more than max_allocations={max_allocations}"
        )
    best, best_x = -np.inf, inst.empty()
    for combo in itertools.product(*per_node):
        x = inst.empty()
        for v, sub in enumerate(combo):
            x[v, list(sub)] = 1.0
        g = float(gain(inst, x, r).mean())
        if g > best + 1e-12:
            best, best_x = g, x
    return StaticSolution(best_x, best, time.perf_counter() - start, f"enumerated {count}")


def marginal_gains(inst: PlacementInstance, x: np.ndarray, loads: np.ndarray) -> np.ndarray:
    """``(V, M)`` gain added by placing each model on each node on top of ``x`` (loads ``(R,)``)."""
    r = check_loads(inst, loads)
    Z = cumulative_capacity(inst, x)
    base = np.minimum(r[:, None], Z)
    K = Z.shape[1]
    after = np.arange(K)[None, :] >= np.arange(K)[:, None]  # [k, k']: k' >= k
    inc = inst.cand_cap[:, :, None] * after[None]
    new = np.minimum(r[:, None, None], Z[:, None, :] + inc)
    m = (inst.delta[:, None, :] * (new - base[:, None, :])).sum(axis=2)
    V, M = inst.shape
    return np.bincount(inst.cand.ravel(), m.ravel(), minlength=V * M + 1)[:-1].reshape(V, M)


def _greedy_fill(
    inst: PlacementInstance, x: np.ndarray, r: np.ndarray, rows: np.ndarray
) -> np.ndarray:
    """Add models on ``rows`` by best marginal gain per KiB while something fits and helps."""
    x = x.copy()
    free = inst.budgets_kb - x @ inst.sizes_kb
    mask = np.zeros(inst.shape, bool)
    mask[rows] = True
    while True:
        fits = mask & inst.allowed & (x == 0) & (inst.sizes_kb[None, :] <= free[:, None] + 1e-9)
        if not fits.any():
            return x
        mg = marginal_gains(inst, x, r)
        score = np.where(fits & (mg > 1e-12), mg / inst.sizes_kb[None, :], -np.inf)
        v, m = np.unravel_index(np.argmax(score), score.shape)
        if not np.isfinite(score[v, m]):
            return x
        x[v, m] = 1.0
        free[v] -= inst.sizes_kb[m]


def greedy_static(inst: PlacementInstance, loads: np.ndarray) -> StaticSolution:
    """Global greedy: repeatedly place the (node, model) with the best marginal gain per KiB
    on the mean loads of ``loads`` ``(T, R)`` (or ``(R,)``); gain reported on ``loads``."""
    r = check_loads(inst, np.atleast_2d(loads))
    start = time.perf_counter()
    x = _greedy_fill(inst, inst.empty(), r.mean(axis=0), np.arange(inst.shape[0]))
    return StaticSolution(x, float(gain(inst, x, r).mean()), time.perf_counter() - start, "greedy")


def local_greedy_allocation(inst: PlacementInstance, loads: np.ndarray) -> np.ndarray:
    """Each node alone: greedy by gain per KiB assuming no other node holds anything."""
    r = check_loads(inst, loads)
    x = inst.empty()
    for v in range(inst.shape[0]):
        if inst.allowed[v].any():
            x[v] = _greedy_fill(inst, inst.empty(), r, np.array([v]))[v]
    return x


class StaticPolicy:
    """A fixed allocation, as a policy for :func:`idn_core.placement.demand.simulate_slots`."""

    def __init__(self, inst: PlacementInstance, x: np.ndarray, name: str = "static") -> None:
        self.x = inst.check_allocation(x, integral=True)
        self.name = name

    def allocation(self) -> np.ndarray:
        return self.x

    def observe(self, loads: np.ndarray) -> None:
        """Static: ignores what it sees."""


class LocalGreedy:
    """Online popularity-based local greedy (uncoordinated nodes).

    Each node keeps an exponentially weighted average of the loads of the request types
    crossing it (weight ``memory`` on the past) and, every ``period`` slots, refills its
    memory with :func:`local_greedy_allocation`. It starts empty.
    """

    name = "local greedy"

    def __init__(self, inst: PlacementInstance, *, memory: float = 0.9, period: int = 1) -> None:
        self.inst = inst
        self.memory = check_fraction("memory", memory, open_high=True)
        self.period = check_positive_int("period", period)
        self.estimate: np.ndarray | None = None
        self.x = inst.empty()
        self._seen = 0

    def allocation(self) -> np.ndarray:
        return self.x

    def observe(self, loads: np.ndarray) -> None:
        r = check_loads(self.inst, loads)
        self.estimate = (
            r.copy()
            if self.estimate is None
            else self.memory * self.estimate + (1 - self.memory) * r
        )
        self._seen += 1
        if self._seen % self.period == 0:
            self.x = local_greedy_allocation(self.inst, self.estimate)
