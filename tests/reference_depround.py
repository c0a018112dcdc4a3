"""DepRound as it was first written: a column sweep vectorised over rows (the reference).

``idn_core.placement.depround`` now pairs fractional entries row by row; this earlier
implementation sweeps the columns in size order for all rows at once and must draw the
same integral placements bit for bit from the same generator. Used by
``tests/placement/test_infida.py`` (draws equal) and ``benchmarks/build.py`` (loaded by
file path, timed against the library and patched into INFIDA as the old path).
"""

from __future__ import annotations

import numpy as np

EPS = 1e-9


def _round(x: np.ndarray) -> np.ndarray:
    """Entries within ``EPS`` of 0 or 1 snapped there."""
    return np.where(x < EPS, 0.0, np.where(x > 1 - EPS, 1.0, x))


def _sweep(x: np.ndarray, s: np.ndarray, rng: np.random.Generator, order: str) -> None:
    """Pair each row's fractional entries column by column (in place), then round."""
    rows, survivor = np.arange(len(x)), np.full(len(x), -1)
    u = rng.random((x.shape[1], len(x)))
    sign = -1.0 if order == "largest" else 1.0
    for step, c in enumerate(np.argsort(sign * s, kind="stable")):
        frac = (x[:, c] > 0) & (x[:, c] < 1)
        if not frac.any():
            continue
        pair = frac & (survivor >= 0)
        survivor[frac & (survivor < 0)] = c
        if not pair.any():
            continue
        r, i = rows[pair], survivor[pair]
        xi, xj, si, sj = x[r, i], x[pair, c], s[i], s[c]
        up, down = np.minimum((1 - xi) * si, xj * sj), np.minimum(xi * si, (1 - xj) * sj)
        move = np.where(u[step, pair] * (up + down) < down, up, -down)
        xi, xj = _round(xi + move / si), _round(xj - move / sj)
        x[r, i], x[r, c] = xi, xj
        survivor[r] = np.where((xi > 0) & (xi < 1), i, np.where((xj > 0) & (xj < 1), c, -1))
    x[x < 1 - EPS], x[x >= 1 - EPS] = 0.0, 1.0


def _refill(x: np.ndarray, y: np.ndarray, s: np.ndarray, b: np.ndarray) -> None:
    """Add, largest fractional value first, every model ``y`` wanted that still fits."""
    rows, free = np.arange(len(x)), b - x @ s
    for col in np.argsort(-y, axis=1, kind="stable").T:
        add = (x[rows, col] == 0) & (y[rows, col] > 0) & (s[col] <= free + EPS)
        x[rows[add], col[add]] = 1.0
        free[add] -= s[col[add]]


def column_sweep_depround(y, sizes, budgets, rng, *, order="smallest", fill=False) -> np.ndarray:
    """Integral placement ``(V, M)`` drawn from fractional ``y`` by the column sweep.

    Same arguments as ``idn_core.placement.depround`` (sizes ``(M,)`` and budgets ``(V,)``
    in KiB, ``order`` "smallest" or "largest", ``fill`` the refill), no input checks.
    """
    s, b = np.asarray(sizes, float), np.asarray(budgets, float)
    x = _round(np.array(y, dtype=float))
    _sweep(x, s, rng, order)
    if fill:
        _refill(x, np.asarray(y, float), s, b)
    return x
