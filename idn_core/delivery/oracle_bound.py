"""The oracle bound: the best accuracy any policy can reach at each mean latency.

The oracle forwards exactly the requests whose device answer is wrong while a model
further up is right. Forwarding the cheapest of them first traces its frontier, the
upper bound every trade-off plot of the book shows.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from idn_core._util.validation import check_fraction
from idn_core.delivery.policies import oracle_answer
from idn_core.delivery.sample_weights import SampleWeights


def oracle_frontier(correct: np.ndarray, weights: SampleWeights, skip: bool = True) -> pd.DataFrame:
    """Best accuracy reachable at each mean latency: the oracle forwards the cheapest helpful requests first.

    Starting from local-only, each sample whose device answer is wrong but some tier above
    is right gains its weight in accuracy for the latency of forwarding it to the first
    right tier (querying only that tier with ``skip``). Sorting by cost per gain traces the
    upper concave frontier; returns columns ``latency_ms``, ``accuracy``, ``forwarded``.
    """
    corr = np.asarray(correct, dtype=bool)
    k, n_samples = corr.shape
    answer = oracle_answer(corr)
    helps = answer > 0
    codes = (1 | (1 << answer)) if skip else (1 << (answer + 1)) - 1
    rows = np.arange(n_samples)
    base_lat = weights.pattern_latency[:, 1]
    cost = weights.pattern_latency[rows, codes] - base_lat
    gain = weights.count
    idx = np.flatnonzero(helps & (gain > 0))
    idx = idx[np.argsort(cost[idx] / gain[idx], kind="stable")]
    lat0, acc0 = base_lat.sum(), float(gain @ corr[0])
    return pd.DataFrame(
        {
            "latency_ms": lat0 + np.r_[0.0, np.cumsum(cost[idx])],
            "accuracy": acc0 + np.r_[0.0, np.cumsum(gain[idx])],
            "forwarded": np.r_[0.0, np.cumsum(gain[idx])],
        }
    )


def oracle_accuracy_at(frontier: pd.DataFrame, latency_ms: float) -> float:
    """Oracle accuracy at a mean latency (linear interpolation on the frontier, flat beyond it)."""
    return float(np.interp(latency_ms, frontier["latency_ms"], frontier["accuracy"]))


def oracle_latency_for(frontier: pd.DataFrame, accuracy: float) -> float:
    """Least mean latency at which the oracle reaches ``accuracy`` (``inf`` if it never does)."""
    acc = frontier["accuracy"].to_numpy()
    if accuracy > acc[-1] + 1e-12:
        return float("inf")
    if accuracy <= acc[0]:
        return float(frontier["latency_ms"].iloc[0])
    return float(np.interp(accuracy, acc, frontier["latency_ms"]))


def oracle_accuracy_at_fraction(
    correct: np.ndarray, weights: SampleWeights, fraction: float
) -> float:
    """Most accuracy any policy can have when it forwards a share ``fraction`` of requests."""
    corr = np.asarray(correct, dtype=bool)
    check_fraction("fraction", fraction)
    local = float(weights.count @ corr[0])
    helpful = float(weights.count @ (~corr[0] & corr[1:].any(axis=0)))
    return local + min(fraction, helpful)
