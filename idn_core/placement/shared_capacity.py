"""Shared capacities: a model on a node serves at most ``capacity[v, m]`` requests per slot
*in total*, over all the request types that reach it (the paper's gain formula counts the
capacity per request type, which is optimistic when several types share a node).

With shared capacities the requests of one slot are assigned to the allocated models by a
linear program (a min-cost transportation problem): ``f[rho, k] >= 0`` requests of type
``rho`` go to its candidate ``k``, at most ``r_rho`` per type and at most the capacity per
``(v, m)``; the gain is ``sum f[rho, k] * (gamma_repo(rho) - gamma_k(rho))``, the rest is
served by the repository. Solved by HiGHS through ``scipy.optimize.linprog``.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import linprog
from scipy.sparse import coo_array

from idn_core.placement.instance import PlacementInstance, check_loads


def shared_capacity_gain(
    inst: PlacementInstance, x: np.ndarray, loads: np.ndarray
) -> np.ndarray | float:
    """Gain (ms saved per slot) of integral ``x`` with shared capacities, loads ``(R,)`` or ``(T, R)``.

    Never larger than :func:`idn_core.placement.instance.gain` (the per-type capacity model).
    """
    x = inst.check_allocation(x, integral=True)
    r = check_loads(inst, loads)
    if r.ndim == 2:
        return np.array([shared_capacity_gain(inst, x, row) for row in r])
    V, M = inst.shape
    held = np.append(x.ravel(), 0.0)[inst.cand] > 0  # (R, K) candidates actually stored
    rho, k = np.nonzero(held)
    if len(rho) == 0:
        return 0.0
    saving = inst.gamma[rho, -1] - inst.gamma[rho, k]
    n = len(rho)
    pairs, pair_of = np.unique(inst.cand[rho, k], return_inverse=True)
    rows = np.concatenate([rho, len(r) + pair_of])
    A = coo_array(
        (np.ones(2 * n), (rows, np.tile(np.arange(n), 2))), shape=(len(r) + len(pairs), n)
    )
    cap = inst.capacity.ravel()[pairs]
    res = linprog(
        -saving, A_ub=A.tocsr(), b_ub=np.concatenate([r, cap]), bounds=(0, None), method="highs"
    )
    if res.status != 0:
        raise RuntimeError(f"the assignment LP failed: {res.message}")
    return float(-res.fun)
