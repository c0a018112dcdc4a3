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

import contextlib
import ctypes
import hashlib
import itertools
import os
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace

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


@contextlib.contextmanager
def _quiet_stdout() -> Iterator[None]:
    """Send the OS-level standard output (file descriptor 1) to the null device.

    HiGHS prints diagnostics such as ``HighsMipSolverData::...`` from C++ straight to
    descriptor 1 even with ``disp=False``, and a notebook kernel forwards that descriptor
    into the cell's output. Python's and C's buffers are flushed on both sides, so nothing
    written before is lost and nothing written inside leaks after; the descriptor is
    restored in a ``finally`` even when the solve raises.
    """
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "wb") as null:
            os.dup2(null.fileno(), 1)
        try:
            yield
        finally:
            _flush_c_stdio()
            os.dup2(saved, 1)
    finally:
        os.close(saved)


def _flush_c_stdio() -> None:
    """Flush C's ``stdout`` buffers (a no-op where libc cannot be loaded)."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None).fflush(None)


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
    ``z <= intercept_j + slope_j * Z_{rho,k}(x)`` for every piece ``j``. A repeated call
    with the same instance object, loads and options returns (a copy of) the solution
    found before instead of solving the same program again.
    """
    r = check_loads(inst, np.atleast_2d(loads))
    check_positive("time_limit", time_limit)
    key = (id(inst), hashlib.sha256(np.ascontiguousarray(r).tobytes()).hexdigest(), r.shape)
    key += (float(time_limit), float(gap))
    held = _OPTIMA.get(key)
    if held is not None and held[0] is inst:  # the same program again: the same solution
        return replace(held[1], x=held[1].x.copy())
    solution = _solve_static(inst, r, time_limit, gap)
    _OPTIMA[key] = (inst, solution)
    while len(_OPTIMA) > _OPTIMA_KEPT:
        _OPTIMA.pop(next(iter(_OPTIMA)))
    return replace(solution, x=solution.x.copy())


#: Recent solutions of :func:`optimal_static` by (instance, loads, options): a chapter asks
#: for the optimum of the same demand more than once (a comparison, then its phases or its
#: horizons), and HiGHS would solve the same program again.
_OPTIMA: dict[tuple, tuple[PlacementInstance, StaticSolution]] = {}
_OPTIMA_KEPT = 16


def _solve_static(
    inst: PlacementInstance, r: np.ndarray, time_limit: float, gap: float
) -> StaticSolution:
    """Build and solve :func:`optimal_static`'s program for checked loads ``r`` ``(T, R)``."""
    start = time.perf_counter()
    var = milp_variables(inst)
    c = np.zeros(var.n_var)
    c[var.zid[var.real]] = -inst.delta[var.real]
    rows = _piece_rows(inst, r, var) + _budget_rows(inst, var)
    cons = []
    if rows:
        cols = [j for row in rows for j in row.cols]
        row_of = [i for i, row in enumerate(rows) for _ in row.cols]
        vals = [v for row in rows for v in row.vals]
        A = coo_array((vals, (row_of, cols)), shape=(len(rows), var.n_var)).tocsr()
        cons = [LinearConstraint(A, -np.inf, np.array([row.upper for row in rows]))]
    n_z = var.n_var - var.n_x
    with _quiet_stdout():
        res = milp(
            c,
            constraints=cons,
            integrality=np.r_[np.ones(var.n_x), np.zeros(n_z)],
            bounds=Bounds(np.zeros(var.n_var), np.r_[np.ones(var.n_x), np.full(n_z, np.inf)]),
            options={"time_limit": time_limit, "mip_rel_gap": gap, "disp": False},
        )
    if res.x is None:
        raise RuntimeError(f"the MILP found no solution: {res.message}")
    x = inst.empty().ravel()
    x[var.allowed] = np.round(res.x[: var.n_x])
    x = x.reshape(inst.shape)
    status = "optimal" if res.status == 0 else res.message
    return StaticSolution(x, float(gain(inst, x, r).mean()), time.perf_counter() - start, status)


@dataclass(frozen=True)
class MilpVariables:
    """Variable layout of :func:`optimal_static`'s program: ``x`` first, then ``z``.

    Attributes
    ----------
    allowed : flat indices ``v * M + m`` of the allowed pairs (one binary ``x`` each).
    var_of : ``(V * M + 1,)`` variable of each flat pair, ``-1`` if not allowed (the last
        entry stands for the candidates' padding).
    real : ``(R, K)`` bool, the real (not padding) candidates.
    zid : ``(R, K)`` variable ``z`` of each real candidate, ``-1`` on padding.
    """

    allowed: np.ndarray
    var_of: np.ndarray
    real: np.ndarray
    zid: np.ndarray

    @property
    def n_x(self) -> int:
        return len(self.allowed)

    @property
    def n_var(self) -> int:
        return self.n_x + int(self.real.sum())


def milp_variables(inst: PlacementInstance) -> MilpVariables:
    """Number the binary placement variables and the per-candidate ``z`` variables."""
    V, M = inst.shape
    var_of = -np.ones(V * M + 1, dtype=int)
    allowed = np.flatnonzero(inst.allowed.ravel())
    var_of[allowed] = np.arange(len(allowed))
    R, K = inst.cand.shape
    real = np.arange(K)[None, :] < inst.n_cand[:, None]
    zid = -np.ones((R, K), dtype=int)
    zid[real] = len(allowed) + np.arange(real.sum())
    return MilpVariables(allowed, var_of, real, zid)


@dataclass(frozen=True)
class _Row:
    """One constraint ``sum_j vals[j] * var[cols[j]] <= upper``."""

    cols: list[int]
    vals: list[float]
    upper: float


def _piece_rows(inst: PlacementInstance, r: np.ndarray, var: MilpVariables) -> list[_Row]:
    """``z_{rho,k} <= intercept_j + slope_j * Z_{rho,k}(x)`` for every affine piece ``j`` of
    ``Z -> mean_t min(r_t, Z)`` (loads ``r`` ``(T, R)``)."""
    rows = []
    for rho in range(inst.cand.shape[0]):
        caps = inst.cand_cap[rho]
        for k in range(inst.n_cand[rho]):
            slope, icept = _pieces(r[:, rho], caps[: k + 1].sum())
            xs = [*var.var_of[inst.cand[rho, : k + 1]]]
            for a, b0 in zip(slope, icept, strict=True):
                rows.append(_Row([var.zid[rho, k], *xs], [1.0, *(-a * caps[: k + 1])], b0))
    return rows


def _budget_rows(inst: PlacementInstance, var: MilpVariables) -> list[_Row]:
    """The memory budget of every node with at least one allowed model."""
    M = inst.shape[1]
    rows = []
    for v in range(inst.shape[0]):
        mine = [i for i, f in enumerate(var.allowed) if f // M == v]
        if mine:
            sizes = [inst.sizes_kb[var.allowed[i] % M] for i in mine]
            rows.append(_Row(mine, sizes, inst.budgets_kb[v]))
    return rows


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
