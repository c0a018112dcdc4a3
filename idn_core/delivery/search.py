"""Threshold search for cascades, exact sweeps of threshold grids, and the oracle frontier.

Aggregate metrics of a request stream depend on the requests only through how many of
them carry each sample from each device, so a sweep needs per-sample weights
(:class:`SampleWeights`), not the requests themselves: the metrics are *exact*, not
estimated. A cascade's answer indicator is a product of one step function per hop, so a
whole grid of per-hop thresholds is a weighted histogram of the samples cumulated along
each hop: a 100 x 100 grid over 10^6 requests takes milliseconds.

Thresholds are searched on **quantiles of the observed confidences** (an overconfident
model piles its confidences near 1, where a linear grid has few points), chosen on the
validation split and reported on the test split.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from idn_core._util.validation import (
    check_fraction,
    check_non_negative,
    check_positive,
    check_positive_int,
    check_seed,
)
from idn_core.delivery.policies import cascade_answer, check_thresholds, effective_thresholds
from idn_core.delivery.sample_weights import (
    SampleWeights,
    reweighted,
)


def threshold_candidates(conf: np.ndarray, n: int = 100) -> np.ndarray:
    """Up to ``n`` thresholds at quantiles of observed confidences, from 0 (always answer) to 1 (always forward)."""
    check_positive_int("n", n, minimum=2)
    c = np.asarray(conf, dtype=float)
    inner = np.quantile(c, np.linspace(0, 1, n)[1:-1], method="higher") if n > 2 else np.empty(0)
    inner = inner[(inner > 0) & (inner < 1)]
    return np.unique(np.r_[0.0, inner, 1.0])


@dataclass(frozen=True)
class CascadeGrid:
    """Exact metrics of a threshold cascade for every combination of per-hop thresholds.

    Arrays have one axis per hop, of the lengths of ``thresholds``. ``gap_lcb`` is the
    one-sided lower confidence bound of the accuracy gap to a reference policy (if given).
    """

    thresholds: tuple[np.ndarray, ...]
    accuracy: np.ndarray
    latency_ms: np.ndarray
    forwarded: np.ndarray
    models_queried: np.ndarray
    gap: np.ndarray | None = None
    gap_lcb: np.ndarray | None = None

    def at(self, index: tuple[int, ...]) -> np.ndarray:
        """Thresholds ``(H,)`` of grid cell ``index``."""
        return np.array([t[i] for t, i in zip(self.thresholds, index, strict=True)])

    def frame(self) -> pd.DataFrame:
        """Long table: one row per cell, columns ``t0..`` and the metrics."""
        mesh = np.meshgrid(*self.thresholds, indexing="ij")
        cols = {f"t{h}": m.ravel() for h, m in enumerate(mesh)}
        for name in ("accuracy", "latency_ms", "forwarded", "models_queried", "gap", "gap_lcb"):
            if getattr(self, name) is not None:
                cols[name] = getattr(self, name).ravel()
        return pd.DataFrame(cols)

    def best_under_latency(self, budget_ms: float) -> np.ndarray:
        """Thresholds maximising accuracy with mean latency ``<= budget_ms`` (ties: lower latency)."""
        check_non_negative("budget_ms", budget_ms)
        ok = self.latency_ms <= budget_ms + 1e-9
        if not ok.any():
            raise ValueError(
                f"no threshold pair meets the {budget_ms} ms budget (min {self.latency_ms.min():.3f} ms)"
            )
        score = np.where(ok, self.accuracy - 1e-12 * self.latency_ms, -np.inf)
        return self.at(np.unravel_index(np.argmax(score), score.shape))

    def cheapest_reaching(
        self, min_accuracy: float | None = None, use_bound: bool = False, tolerance: float = 0.005
    ) -> np.ndarray:
        """Thresholds of least mean latency whose accuracy reaches ``min_accuracy`` (ties: higher accuracy).

        With ``use_bound`` the condition is instead ``gap_lcb >= -tolerance`` (the one-sided
        confidence bound of the gap to the reference must stay within ``tolerance``).
        """
        if use_bound:
            if self.gap_lcb is None:
                raise ValueError(
                    "the grid was computed without a reference; pass reference= to cascade_grid"
                )
            ok = self.gap_lcb >= -check_fraction("tolerance", tolerance)
        else:
            ok = self.accuracy >= check_fraction("min_accuracy", min_accuracy) - 1e-12
        if not ok.any():
            raise ValueError("no threshold combination reaches the accuracy target")
        score = np.where(ok, self.latency_ms - 1e-9 * self.accuracy, np.inf)
        return self.at(np.unravel_index(np.argmin(score), score.shape))


def cascade_grid(
    conf: np.ndarray,
    correct: np.ndarray,
    weights: SampleWeights,
    grids: list[np.ndarray] | tuple[np.ndarray, ...],
    reference: np.ndarray | None = None,
    z: float = 1.645,
    n_future: float | None = None,
) -> CascadeGrid:
    """Exact metrics of a ``K``-tier threshold cascade over a grid of per-hop thresholds.

    Parameters
    ----------
    conf : ``(K-1, N)`` confidences in ``[0, 1]`` of the tiers that may forward.
    correct : bool ``(K, N)``: is tier ``k`` right on sample ``n``.
    weights : request weights of the split (:func:`request_weights` or :func:`uniform_weights`).
    grids : ``K-1`` arrays of thresholds in ``[0, 1]``, one per hop.
    reference : optional bool ``(N,)`` correctness of a reference policy (e.g. cloud only);
        adds the accuracy gap and its one-sided lower confidence bound at level ``z``
        (paired per-sample differences, standard error over ``weights.n_effective`` samples).
    n_future : if given, the bound is a *prediction* bound for the gap that will be measured
        on a future split of ``n_future`` samples (the test split): the variance of the
        difference of the two estimates adds ``1 / n_future`` to ``1 / n_effective``.
    """
    corr = np.asarray(correct, dtype=float)
    k = corr.shape[0]
    bins, shape = hop_bins(conf, grids, k, corr.shape[1])
    w = weights.count
    values = [
        corr * w,  # accuracy
        weights.cascade_latency().T,  # latency_ms
        np.vstack([np.zeros_like(w), np.tile(w, (k - 1, 1))]),  # forwarded
        np.arange(1, k + 1)[:, None] * w,  # models_queried
    ]
    if reference is not None:
        ref = np.asarray(reference, dtype=float)
        values.append(np.abs(corr - ref) * w)  # E[d^2] of the paired difference d in {-1, 0, 1}
    totals = answer_totals(np.stack(values), bins, shape)
    result = dict(
        accuracy=totals[0], latency_ms=totals[1], forwarded=totals[2], models_queried=totals[3]
    )
    if reference is not None:
        result.update(_gap_bound(totals[0], totals[4], w @ ref, weights, z, n_future))
    return CascadeGrid(tuple(np.asarray(g, float) for g in grids), **result)


def hop_bins(
    conf: np.ndarray, grids: Sequence[np.ndarray], k: int, n: int
) -> tuple[list[np.ndarray], list[int]]:
    """Each sample's bin in each hop's threshold grid, and the grid lengths.

    ``conf`` is ``(>= K-1, N)`` (rows past ``K-1`` are ignored), ``grids`` the ``K-1``
    strictly increasing threshold grids. ``bins[h][n]`` is the number of thresholds
    ``t_j <= conf[h, n]``: tier ``h`` answers sample ``n`` at grid index ``j`` iff ``j < b``.
    """
    c = np.asarray(conf, dtype=float)[: k - 1]
    if len(grids) != k - 1 or c.shape != (k - 1, n):
        raise ValueError(f"need {k - 1} threshold grids and confidences ({k - 1}, {n})")
    if np.isnan(c).any() or (c < 0).any() or (c > 1).any():
        raise ValueError("confidences must lie in [0, 1] and contain no NaN")
    bins, shape = [], []
    for h, g in enumerate(grids):
        t = check_thresholds(np.asarray(g, float)[:, None], 1)[:, 0]
        if (np.diff(t) <= 0).any():
            raise ValueError(f"threshold grid of hop {h} must be strictly increasing")
        bins.append(np.searchsorted(effective_thresholds(t), c[h], side="right"))
        shape.append(len(t))
    return bins, shape


def answer_totals(values: np.ndarray, bins: list[np.ndarray], shape: list[int]) -> np.ndarray:
    """``sum_k sum_n values[q, k, n] * P(answer = k | thresholds, n)``: ``(Q, *shape)``.

    ``values`` is ``(Q, K, N)``; ``bins`` and ``shape`` come from :func:`hop_bins`. The
    answer indicator at tier ``k`` is a product of one step function per hop up to ``k``
    (forward at hops ``< k``, stay at ``k``), so each tier's term is a weighted histogram
    of the samples' bins, cumulated along each hop's axis: ``O(N + grid)``.
    """
    n_q, k = values.shape[0], values.shape[1]
    out = np.zeros((n_q, *shape))
    for tier in range(k):
        hops = list(range(min(tier + 1, k - 1)))
        hist = _tier_histogram(values[:, tier], [bins[h] for h in hops], [shape[h] for h in hops])
        for axis, h in enumerate(hops, start=1):
            cum = np.cumsum(hist, axis=axis)
            if h < tier:  # forward at grid index j: b <= j
                hist = np.take(cum, np.arange(shape[h]), axis=axis)
            else:  # stay at grid index j: b > j
                last = np.take(cum, [shape[h]], axis=axis)
                hist = last - np.take(cum, np.arange(shape[h]), axis=axis)
        out += hist.reshape(hist.shape + (1,) * (k - 1 - len(hops)))
    return out


def _tier_histogram(values: np.ndarray, bins: list[np.ndarray], lengths: list[int]) -> np.ndarray:
    """``(Q, *(L + 1 for L in lengths))`` sums of ``values`` ``(Q, N)`` per joint bin."""
    dims = [n + 1 for n in lengths]
    flat = np.ravel_multi_index(bins, dims)
    size = int(np.prod(dims))
    hist = np.stack([np.bincount(flat, weights=v, minlength=size) for v in values])
    return hist.reshape(values.shape[0], *dims)


def _gap_bound(
    accuracy: np.ndarray,
    mean_sq_diff: np.ndarray,
    reference_accuracy: float,
    weights: SampleWeights,
    z: float,
    n_future: float | None,
) -> dict[str, np.ndarray]:
    """The accuracy gap to the reference and its one-sided lower bound at level ``z``.

    ``mean_sq_diff`` is ``E[d^2]`` of the paired per-sample difference ``d``; the standard
    error is over ``weights.n_effective`` samples, plus ``n_future`` for a prediction bound.
    """
    gap = accuracy - reference_accuracy
    inv_n = 1.0 / weights.n_effective + (
        0.0 if n_future is None else 1.0 / check_positive("n_future", n_future)
    )
    se = np.sqrt(np.maximum(mean_sq_diff - gap**2, 0.0) * inv_n)
    return {"gap": gap, "gap_lcb": gap - z * se}


def choose_within_tolerance(
    conf: np.ndarray,
    correct: np.ndarray,
    weights: SampleWeights,
    grids: list[np.ndarray],
    reference: np.ndarray,
    tolerance: float = 0.005,
    z: float = 1.645,
    n_future: float | None = None,
    n_boot: int = 30,
    seed: int = 0,
) -> tuple[np.ndarray, dict[str, float]]:
    """Cheapest thresholds whose accuracy stays within ``tolerance`` of ``reference``, robustly.

    Picking the cheapest of many settings that pass a noisy test favours settings whose
    gap was overestimated by luck (the winner's curse). The bound used is therefore
    ``gap - optimism - z * se >= -tolerance``, where ``se`` is the (prediction, with
    ``n_future``) standard error of :func:`cascade_grid` and ``optimism`` the bootstrap
    estimate of how much the selected setting's gap is overestimated: over ``n_boot``
    resamples of the samples, the gap of the setting chosen on the resample minus its gap
    on the full split.

    Returns
    -------
    thresholds ``(K-1,)`` and a dict with the chosen setting's ``gap``, ``gap_lcb``,
    ``optimism``, ``accuracy`` and ``latency_ms`` on this split.
    """
    check_seed(seed)
    check_positive_int("n_boot", n_boot)
    full = cascade_grid(conf, correct, weights, grids, reference, z, n_future)
    rng = np.random.default_rng(seed)
    n = len(weights.count)
    optimism = []
    for _ in range(n_boot):
        count = rng.multinomial(n, weights.count) / n
        boot = cascade_grid(
            conf, correct, reweighted(weights, count), grids, reference, z, n_future
        )
        try:
            t = boot.cheapest_reaching(use_bound=True, tolerance=tolerance)
        except ValueError:
            continue
        idx = tuple(int(np.argmin(np.abs(g - v))) for g, v in zip(full.thresholds, t, strict=True))
        optimism.append(boot.gap[idx] - full.gap[idx])
    shift = max(0.0, float(np.mean(optimism))) if optimism else 0.0
    shifted = CascadeGrid(
        full.thresholds,
        full.accuracy,
        full.latency_ms,
        full.forwarded,
        full.models_queried,
        full.gap,
        full.gap_lcb - shift,
    )
    try:
        t = shifted.cheapest_reaching(use_bound=True, tolerance=tolerance)
    except ValueError:  # only the reference itself (forward everything) is safe
        t = np.array([g[-1] for g in full.thresholds])
    idx = tuple(int(np.argmin(np.abs(g - v))) for g, v in zip(full.thresholds, t, strict=True))
    info = {
        "gap": float(full.gap[idx]),
        "gap_lcb": float(shifted.gap_lcb[idx]),
        "optimism": shift,
        "accuracy": float(full.accuracy[idx]),
        "latency_ms": float(full.latency_ms[idx]),
    }
    return t, info


def cascade_metrics(
    conf: np.ndarray, correct: np.ndarray, weights: SampleWeights, thresholds: np.ndarray
) -> pd.DataFrame:
    """Exact metrics of ``P`` threshold settings ``(P, K-1)`` (e.g. a validation Pareto front on test)."""
    corr = np.asarray(correct, dtype=bool)
    t = np.atleast_2d(thresholds)
    answer = cascade_answer(np.asarray(conf, float)[: corr.shape[0] - 1, None, :], t)
    n = np.arange(corr.shape[1])
    lat = weights.cascade_latency()
    rows = {
        "accuracy": (corr[answer, n] * weights.count).sum(1),
        "latency_ms": lat[n, answer].sum(1),
        "forwarded": ((answer > 0) * weights.count).sum(1),
        "models_queried": ((answer + 1) * weights.count).sum(1),
    }
    frame = pd.DataFrame(rows)
    for h in range(t.shape[1]):
        frame.insert(h, f"t{h}", t[:, h])
    return frame


__all__ = [
    "CascadeGrid",
    "cascade_grid",
    "cascade_metrics",
    "choose_within_tolerance",
    "threshold_candidates",
]
