"""INFIDA: online model placement by mirror ascent and dependent rounding.

Each node ``v`` keeps a fractional allocation ``y_v`` in the budget-weighted capped simplex
``{y in [0, 1]^M : sum_m s_m y_m = b_v}`` (``b_v`` capped at what the node can hold at all,
models that do not fit are fixed to 0). Every ``period`` slots it ascends the concave
relaxation of the gain with the weighted negative entropy ``sum_m s_m y_m log y_m`` as
mirror map: ``z_m = y_m exp(eta g_m / s_m)``, followed by the exact KL (Bregman) projection
``y_m = min(1, c z_m)`` whose threshold ``c`` is found by sort-and-threshold. The models
actually stored are drawn by dependent rounding (DepRound) of ``y_v``, which preserves every
marginal and, with equal sizes, meets the budget exactly. With unequal sizes one entry
may stay fractional; it is rounded down, so the budget is never exceeded and that entry's
marginal is biased low (:func:`depround_bias` measures it). Si Salem et al. (2024).

Optionally (``share > 0``) each update mixes a small share of the initial, uniform state
back in: the *fixed share* of Herbster and Warmuth (1998), which turns a regret bound
against the best static allocation into one against a sequence of allocations. Without it
a model whose fractional allocation has decayed to almost 0 needs many slots of evidence
to come back after popularity shifts; ``share = 0`` is the algorithm of the paper.

Also beyond the paper, and optional (``repair=True``): with unequal sizes DepRound keeps the
small models and rounds the large fractional one down, which on tightly packed nodes can
leave INFIDA below a static greedy (:mod:`idn_core.placement.suite` measures it). The
repair picks the integral allocation among the DepRound draw, the allocation in force and
the draw's one-swap neighbours (:func:`swap_candidates`) by their gain on an exponentially
weighted estimate of recent loads. The fractional state and its regret bound are
untouched; the integral allocation no longer has exactly the marginals ``y``.
"""

from __future__ import annotations

import numpy as np

from idn_core._util.validation import (
    check_choice,
    check_fraction,
    check_positive,
    check_positive_int,
    check_seed,
    check_type,
)
from idn_core.placement.instance import PlacementInstance, subgradient

_EPS = 1e-9
_TINY = 1e-300  # floor inside the logarithm only: an entropic state is never exactly 0


def _as_arrays(
    sizes: np.ndarray, budgets: np.ndarray, allowed: np.ndarray | None, shape: tuple[int, int]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    s = np.asarray(sizes, dtype=float)
    b = np.asarray(budgets, dtype=float)
    if s.shape != (shape[1],) or b.shape != (shape[0],):
        raise ValueError(
            f"sizes must be ({shape[1]},) and budgets ({shape[0]},) for a {shape} state"
        )
    if (s <= 0).any() or not np.isfinite(s).all():
        raise ValueError("model sizes must be finite and > 0")
    if (b < 0).any() or not np.isfinite(b).all():
        raise ValueError("budgets must be finite and >= 0")
    a = np.ones(shape, bool) if allowed is None else np.asarray(allowed, bool)
    return s, b, a & (s[None, :] <= b[:, None])


def effective_budgets(sizes: np.ndarray, budgets: np.ndarray, allowed: np.ndarray) -> np.ndarray:
    """``min(b_v, total size of the models v may hold)``: the level ``sum s y`` is set to."""
    return np.minimum(budgets, (allowed * sizes[None, :]).sum(axis=1))


def _best_subset_sum(sizes: np.ndarray, budget: float, max_sums: int) -> float:
    """Largest sum of a subset of ``sizes`` that is at most ``budget`` (see :func:`integral_levels`).

    Keeps the sorted array of reachable sums up to ``budget`` (sums closer than a relative
    ``1e-12`` are merged). When it grows past ``max_sums`` it is trimmed to the smallest sum
    in each of ``max_sums`` equal slices of ``[0, budget]``: every sum kept is still a true
    subset sum, and each trim loses at most ``budget / max_sums`` (the FPTAS of Ibarra and Kim).
    """
    tol = 1e-12 * max(budget, 1.0)
    if sizes.sum() <= budget + tol:
        return float(min(sizes.sum(), budget))
    reach = np.zeros(1)
    for s in np.sort(sizes)[::-1]:
        more = reach + s
        reach = np.union1d(reach, more[more <= budget + tol])
        reach = reach[np.r_[True, np.diff(reach) > tol]]
        if reach[-1] >= budget - tol:
            return float(budget)
        if len(reach) > max_sums:
            _, first = np.unique(np.floor(reach * (max_sums / budget)), return_index=True)
            reach = reach[first]
    return float(min(reach[-1], budget))


def integral_levels(
    sizes: np.ndarray, budgets: np.ndarray, allowed: np.ndarray, max_sums: int = 1 << 16
) -> np.ndarray:
    """Largest total size of allowed models that fits each budget, ``(V,)`` KiB.

    Used as the level of the capped simplex: no integral allocation uses more, and by
    monotonicity of the gain nothing is lost by asking the fractional state for exactly this
    much (it is at most ``budget``). A node that can hold all its allowed models gets their
    total; otherwise an exact subset sum over the sorted set of reachable sums, so the cost
    grows with the number of models (at most ``2^M`` sums, and at most ``max_sums`` kept),
    never with the budget's magnitude. Exact as long as no more than ``max_sums`` distinct
    sums fit the budget (always with 16 or fewer models); beyond that the result is still a
    true subset sum, at most ``M * budget / max_sums`` below the best.

    Examples
    --------
    >>> integral_levels(np.array([2.0, 3.0, 3.0, 4.0]), np.array([4.0, 7.0, 20.0]),
    ...                 np.ones((3, 4), bool)).tolist()
    [4.0, 7.0, 12.0]
    """
    s = np.asarray(sizes, dtype=float)
    b = np.asarray(budgets, dtype=float)
    a = np.asarray(allowed, dtype=bool)
    if s.ndim != 1 or b.ndim != 1 or a.shape != (len(b), len(s)):
        raise ValueError(
            f"sizes must be (M,), budgets (V,) and allowed (V, M), got {s.shape}, {b.shape} "
            f"and {a.shape}"
        )
    if not np.isfinite(s).all() or (s <= 0).any():
        raise ValueError("sizes must be finite and > 0")
    if not np.isfinite(b).all() or (b < 0).any():
        raise ValueError("budgets must be finite and >= 0")
    check_positive_int("max_sums", max_sums)
    return np.array([_best_subset_sum(s[a[v]], float(b[v]), max_sums) for v in range(len(b))])


def project_capped_simplex(
    z: np.ndarray, sizes: np.ndarray, budgets: np.ndarray, allowed: np.ndarray | None = None
) -> np.ndarray:
    """Exact KL projection of positive ``z`` ``(V, M)`` onto the weighted capped simplices.

    Solves, for every row, ``min_y sum_m s_m (y_m log(y_m / z_m) - y_m + z_m)`` subject to
    ``sum_m s_m y_m = min(b_v, sum of allowed s)``, ``0 <= y <= 1``, ``y = 0`` off ``allowed``.
    The KKT conditions give ``y_m = min(1, c_v z_m)``; ``c_v`` comes from sorting ``z``
    and testing each number of capped entries (O(M log M) per row, vectorised over rows).

    Examples
    --------
    >>> y = project_capped_simplex(np.array([[4.0, 1.0, 1.0]]), np.ones(3), np.array([2.0]))
    >>> y.round(3).tolist()
    [[1.0, 0.5, 0.5]]
    """
    z = np.asarray(z, dtype=float)
    s, b, a = _as_arrays(sizes, budgets, allowed, z.shape)
    if (z[a] <= 0).any() or not np.isfinite(z[a]).all():
        raise ValueError("z must be finite and > 0 where models are allowed")
    level = effective_budgets(s, b, a)
    zz = np.where(a, z, 0.0)
    order = np.argsort(-zz, axis=1, kind="stable")
    zs = np.take_along_axis(zz, order, axis=1)
    ss = s[order] * (zs > 0)
    capped_mass = np.concatenate([np.zeros((len(z), 1)), np.cumsum(ss, axis=1)], axis=1)
    w = ss * zs
    rest = np.concatenate([np.cumsum(w[:, ::-1], axis=1)[:, ::-1], np.zeros((len(z), 1))], axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        c = (level[:, None] - capped_mass) / rest  # (V, M + 1): k entries capped
        zpad = np.concatenate([zs, np.zeros((len(z), 1))], axis=1)
        prev = np.concatenate([np.full((len(z), 1), np.inf), zs], axis=1)
        ok = (c >= 0) & np.isfinite(c) & (c * zpad <= 1 + 1e-12) & (c * prev >= 1 - 1e-12)
    k = np.where(ok.any(axis=1), ok.argmax(axis=1), 0)
    cv = np.take_along_axis(c, k[:, None], axis=1)
    y = np.minimum(1.0, np.where(np.isfinite(cv), cv, 0.0) * zz)
    full = level >= (a * s[None, :]).sum(axis=1) - 1e-12  # everything fits: y = 1 on allowed
    y[full] = a[full].astype(float)
    return np.where(a, y, 0.0)


def depround(
    y: np.ndarray,
    sizes: np.ndarray,
    budgets: np.ndarray,
    rng: np.random.Generator,
    *,
    order: str = "smallest",
    fill: bool = False,
) -> np.ndarray:
    """Dependent rounding of fractional rows ``y`` ``(V, M)`` into 0/1 allocations.

    Two fractional entries ``i, j`` of a row (the two smallest models, or the two largest
    with ``order="largest"``) trade size-weighted mass: with probability
    ``beta / (alpha + beta)`` ``y_i`` gains ``alpha / s_i`` and ``y_j`` loses ``alpha / s_j``,
    else the reverse with ``beta``, where ``alpha, beta`` are the largest moves keeping both
    in [0, 1]. Each step makes one entry integral and keeps ``E[y]`` and ``sum s y``. A last
    fractional entry (only with unequal sizes) is rounded down, so ``sum s x <= b`` always
    holds (up to the input's own excess). With ``fill=True`` the memory this frees is then
    refilled with the models of largest ``y`` (``y > 0``) that still fit: more gain (it is
    monotone), marginals no longer exact.

    Examples
    --------
    >>> x = depround(np.array([[0.5, 0.5, 1.0]]), np.ones(3), np.array([2.0]),
    ...              np.random.default_rng(0))
    >>> float(x.sum()), float(x[0, 2])
    (2.0, 1.0)
    """
    x = np.array(y, dtype=float)
    s = np.asarray(sizes, dtype=float)
    if x.ndim != 2 or s.shape != (x.shape[1],):
        raise ValueError(f"y must be (V, M) and sizes (M,), got {x.shape} and {s.shape}")
    if not np.isfinite(x).all() or (x < -_EPS).any() or (x > 1 + _EPS).any():
        raise ValueError("y must lie in [0, 1]")
    b = np.asarray(budgets, dtype=float)
    if ((x * s).sum(axis=1) > b * (1 + 1e-9) + 1e-9).any():
        raise ValueError("y exceeds a budget before rounding")
    check_choice("DepRound order", order, ("largest", "smallest"))
    sign = -1.0 if order == "largest" else 1.0
    x[x < _EPS] = 0.0
    x[x > 1 - _EPS] = 1.0
    u = rng.random((x.shape[1], len(x)))
    sweep = np.argsort(sign * s, kind="stable").tolist()
    rows = zip(x.tolist(), u.T.tolist(), strict=True)
    paired = [_pair_row(row, s.tolist(), ur, sweep) for row, ur in rows]
    x = np.array(paired, dtype=float).reshape(x.shape)
    x[x < 1 - _EPS] = 0.0
    x[x >= 1 - _EPS] = 1.0
    return _fill(x, np.asarray(y, dtype=float), s, b) if fill else x


def _pair_row(
    row: list[float], sizes: list[float], u: list[float], sweep: list[int]
) -> list[float]:
    """DepRound's pairing steps on one row (Python floats: the same float64 operations as a
    column sweep vectorised over rows, without its per-column array overhead).

    The columns are visited in ``sweep`` order; the row carries its one fractional survivor
    ``i``, so pairing it with the next fractional entry ``c`` is the "first two fractional
    entries" rule. ``u[step]`` is the uniform draw of the ``step``-th column of the sweep.
    """
    i = -1
    for step, c in enumerate(sweep):
        xj = row[c]
        if not 0 < xj < 1:
            continue
        if i < 0:
            i = c
            continue
        xi, si, sj = row[i], sizes[i], sizes[c]
        up = min((1 - xi) * si, xj * sj)
        down = min(xi * si, (1 - xj) * sj)
        move = up if u[step] * (up + down) < down else -down
        xi, xj = xi + move / si, xj - move / sj
        xi = 0.0 if xi < _EPS else (1.0 if xi > 1 - _EPS else xi)
        xj = 0.0 if xj < _EPS else (1.0 if xj > 1 - _EPS else xj)
        row[i], row[c] = xi, xj
        i = i if 0 < xi < 1 else (c if 0 < xj < 1 else -1)
    return row


def _fill(x: np.ndarray, y: np.ndarray, sizes: np.ndarray, budgets: np.ndarray) -> np.ndarray:
    """Add to each row of ``x`` the models of largest ``y`` (``y > 0``) that still fit, in place.

    Row by row on Python floats (the same float64 operations as a column sweep over all
    rows, in the same order per row, without the per-column array overhead).
    """
    free = (budgets - x @ sizes).tolist()
    size = sizes.tolist()
    order = np.argsort(-y, axis=1, kind="stable")
    for v, (held, want, cols) in enumerate(
        zip(x.tolist(), y.tolist(), order.tolist(), strict=True)
    ):
        room = free[v]
        for c in cols:
            if want[c] <= 0:
                break  # sorted by -y: the rest are not wanted either
            if held[c] == 0 and size[c] <= room + 1e-9:
                x[v, c] = 1.0
                room -= size[c]
    return x


def swap_candidates(
    y: np.ndarray,
    x: np.ndarray,
    sizes: np.ndarray,
    budgets: np.ndarray,
    allowed: np.ndarray,
    threshold: float = 0.05,
    per_node: int = 1,
) -> np.ndarray:
    """Integral allocations one swap away from ``x`` ``(V, M)``, ``(B, V, M)``.

    One candidate per pair ``(v, j)`` with ``j`` allowed on ``v``, not held by ``x`` and
    ``y_vj >= threshold``, for the ``per_node`` largest such ``y_vj`` of each node (at most
    ``V * per_node`` candidates): ``j`` is brought in, the models of ``v`` with the smallest
    ``y`` are evicted until it fits, and the memory left is refilled with the models of
    largest ``y`` that fit. This is what DepRound cannot do with unequal sizes: the entry it
    leaves fractional (and rounds down) may be worth more than the smaller models it keeps.
    """
    y, x = np.asarray(y, dtype=float), np.asarray(x, dtype=float)
    s, b = np.asarray(sizes, dtype=float), np.asarray(budgets, dtype=float)
    if y.shape != x.shape or x.ndim != 2 or s.shape != (x.shape[1],) or b.shape != (len(x),):
        raise ValueError(
            f"y and x must be (V, M), sizes (M,), budgets (V,); got {y.shape}, {x.shape}, "
            f"{s.shape}, {b.shape}"
        )
    a = np.asarray(allowed, dtype=bool)
    if a.shape != x.shape:
        raise ValueError(f"allowed must have the shape of x {x.shape}, got {a.shape}")
    check_fraction("threshold", threshold)
    check_positive_int("per_node", per_node)
    score = np.where(a & (x == 0) & (y >= threshold), y, -np.inf)
    top = np.argsort(-score, axis=1, kind="stable")[:, :per_node]
    keep = np.isfinite(np.take_along_axis(score, top, axis=1))
    v, j = np.nonzero(keep)[0], top[keep]
    if len(v) == 0:
        return np.empty((0, *x.shape))
    rows, ys = x[v].copy(), y[v]
    rows[np.arange(len(v)), j] = 1.0
    need = rows @ s - b[v]  # KiB to evict, > 0 where j does not fit
    evictable = (rows == 1) & (np.arange(x.shape[1])[None, :] != j[:, None])
    order = np.argsort(np.where(evictable, ys, np.inf), axis=1, kind="stable")
    freed = np.cumsum(np.take_along_axis(evictable * s[None, :], order, axis=1), axis=1)
    evict = (freed - np.take_along_axis(evictable * s[None, :], order, axis=1)) < need[:, None]
    evict &= np.take_along_axis(evictable, order, axis=1)
    np.put_along_axis(rows, order, np.where(evict, 0.0, np.take_along_axis(rows, order, 1)), 1)
    rows = _fill(rows, ys, s, b[v])
    out = np.broadcast_to(x, (len(v), *x.shape)).copy()
    out[np.arange(len(v)), v] = rows
    return out


def batch_gain(inst: PlacementInstance, xs: np.ndarray, loads: np.ndarray) -> np.ndarray:
    """Gain ``(B,)`` of each allocation of ``xs`` ``(B, V, M)`` for one slot's loads ``(R,)``.

    The same as :func:`~idn_core.placement.gain` allocation by allocation, in one pass.
    """
    xs = np.asarray(xs, dtype=float)
    r = np.asarray(loads, dtype=float)
    if xs.ndim != 3 or xs.shape[1:] != inst.shape or r.shape != (len(inst.types),):
        raise ValueError(
            f"xs must be (B, {inst.shape[0]}, {inst.shape[1]}) and loads "
            f"({len(inst.types)},); got {xs.shape} and {r.shape}"
        )
    flat = np.concatenate([xs.reshape(len(xs), -1), np.zeros((len(xs), 1))], axis=1)
    cap = np.minimum(inst.cand_cap, r[:, None])
    Z = np.cumsum(cap * flat[:, inst.cand], axis=-1)
    return (inst.delta * np.minimum(r[:, None], Z)).sum(axis=(-1, -2))


def depround_bias(
    y: np.ndarray,
    sizes: np.ndarray,
    budgets: np.ndarray,
    n: int,
    seed: int = 0,
    *,
    fill: bool = False,
) -> dict[str, np.ndarray]:
    """Monte-Carlo check of DepRound on ``y``: mean of ``n`` roundings, bias, budget use.

    Returns ``mean`` ``(V, M)``, ``bias = mean - y``, ``used`` ``(n, V)`` KiB per draw.
    """
    check_positive_int("n", n)
    rng = np.random.default_rng(seed)
    draws = np.stack([depround(y, sizes, budgets, rng, fill=fill) for _ in range(n)])
    mean = draws.mean(axis=0)
    return {"mean": mean, "bias": mean - np.asarray(y), "used": draws @ np.asarray(sizes)}


def theory_learning_rate(inst: PlacementInstance, horizon: int, max_load: float) -> float:
    """Step ``eta = sqrt(2 D / (sigma^2 T))`` of the mirror-ascent regret bound.

    ``D = sum_v b_v log(S_v / b_v)`` bounds the Bregman divergence from the uniform start
    (``S_v`` = size of the models ``v`` may hold); ``sigma^2 = sum_v b_v max_m (g_vm / s_m)^2``
    bounds the squared dual norm of a subgradient whose entries are at most
    ``sum_rho min(capacity, max_load) * (gamma_repo - gamma)``. Of order ``1 / sqrt(T)``.
    """
    check_positive_int("horizon", horizon)
    check_positive("max_load", max_load)
    V, M = inst.shape
    level = effective_budgets(inst.sizes_kb, inst.budgets_kb, inst.allowed)
    total = (inst.allowed * inst.sizes_kb[None, :]).sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        D = float(np.nansum(np.where(level > 0, level * np.log(total / level), 0.0)))
    w = np.minimum(inst.cand_cap, max_load) * (inst.gamma[:, -1:] - inst.gamma[:, :-1])
    g = np.bincount(inst.cand.ravel(), w.ravel(), minlength=V * M + 1)[:-1].reshape(V, M)
    sigma2 = float((level * ((g / inst.sizes_kb[None, :]) ** 2).max(axis=1)).sum())
    if sigma2 == 0 or D == 0:
        return 1.0
    return float(np.sqrt(2 * D / (sigma2 * horizon)))


class Infida:
    """The INFIDA policy on a :class:`PlacementInstance`.

    Parameters
    ----------
    inst : the placement problem.
    learning_rate : mirror-ascent step ``eta`` (> 0), e.g. :func:`theory_learning_rate`.
    period : slots between updates; subgradients of the slots in between are summed.
    seed : seeds DepRound.
    fill : refill the memory DepRound leaves free with the models of largest ``y`` that fit
        (see :func:`depround`); ``False`` gives plain DepRound.
    share : fixed share in ``[0, 1)`` of the initial state mixed in after every update
        (``0``: the paper's INFIDA). A convex combination of two feasible states, so the
        budgets still hold; every allowed entry stays at least ``share`` times its
        initial value.
    repair : after each rounding, pick the integral allocation among the DepRound draw, the
        allocation in force and the :func:`swap_candidates` of the draw, by their gain on
        an exponentially weighted estimate of the loads (weight ``memory`` on the past).
        Beyond the paper (``False`` gives its rounding): with unequal sizes DepRound keeps
        the small models and rounds the large fractional one down, and refilling by ``y``
        cannot undo that; the repair can, at the price of exact marginals.
    memory : in ``[0, 1)``, the weight of the past in the load estimate of ``repair``.

    Use: ``x = policy.allocation()`` before a slot, ``policy.observe(loads)`` after it.
    """

    name = "INFIDA"

    def __init__(
        self,
        inst: PlacementInstance,
        learning_rate: float,
        *,
        period: int = 1,
        seed: int = 0,
        fill: bool = True,
        share: float = 0.0,
        repair: bool = False,
        memory: float = 0.95,
    ) -> None:
        check_type("inst", inst, PlacementInstance)
        self.inst = inst
        self.repair = bool(repair)
        self.memory = check_fraction("memory", memory, open_high=True)
        self._estimate: np.ndarray | None = None
        self.share = check_fraction("share", share, open_high=True)
        self.eta = check_positive("learning_rate", learning_rate)
        self.period = check_positive_int("period", period)
        self.fill = bool(fill)
        self.rng = np.random.default_rng(check_seed(seed))
        a = inst.allowed
        self.levels = integral_levels(inst.sizes_kb, inst.budgets_kb, a)
        self.y = project_capped_simplex(np.where(a, 1.0, 0.0), inst.sizes_kb, self.levels, a)
        self._initial = self.y.copy()
        self._grad = np.zeros(inst.shape)
        self._seen = 0
        self.x = self._round()

    def _round(self) -> np.ndarray:
        inst = self.inst
        x = depround(self.y, inst.sizes_kb, inst.budgets_kb, self.rng, fill=self.fill)
        if not self.repair or self._estimate is None:
            return x
        swaps = swap_candidates(self.y, x, inst.sizes_kb, inst.budgets_kb, inst.allowed)
        if not len(swaps) and np.array_equal(x, self.x):
            return x
        candidates = np.concatenate([self.x[None], x[None], swaps])  # ties keep what is held
        return candidates[int(np.argmax(batch_gain(inst, candidates, self._estimate)))]

    def allocation(self) -> np.ndarray:
        """The integral allocation ``(V, M)`` in force for the coming slot."""
        return self.x

    def fractional(self) -> np.ndarray:
        """The fractional state ``y`` ``(V, M)``."""
        return self.y

    def observe(self, loads: np.ndarray) -> None:
        """Account for one slot's loads ``(R,)``; update and re-round every ``period`` slots."""
        self._grad += subgradient(self.inst, self.y, loads)
        r = np.asarray(loads, dtype=float)
        if self._estimate is None:
            self._estimate = r.copy()
        else:
            self._estimate = self.memory * self._estimate + (1.0 - self.memory) * r
        self._seen += 1
        if self._seen % self.period:
            return
        a = self.inst.allowed
        logz = (
            np.log(np.maximum(self.y, _TINY)) + self.eta * self._grad / self.inst.sizes_kb[None, :]
        )
        logz = np.where(a, logz, -np.inf)
        top = np.max(np.where(a, logz, -np.inf), axis=1, keepdims=True)
        z = np.where(a, np.exp(logz - np.where(np.isfinite(top), top, 0.0)), 0.0)
        z = np.where(a, np.maximum(z, _TINY), 0.0)
        self.y = project_capped_simplex(z, self.inst.sizes_kb, self.levels, a)
        if self.share:
            self.y = (1.0 - self.share) * self.y + self.share * self._initial
        self.x = self._round()
        self._grad[:] = 0.0
