"""Exact per-sample weights of a request mix, and metrics of policies computed from them.

Aggregate metrics of a request stream depend on the requests only through how many of
them carry each sample from each device, so accuracy, mean latency and accuracy gaps of
any per-sample policy are weighted sums over the split's samples: *exact*, not estimated.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from idn_core._util.validation import check_positive, check_positive_int
from idn_core.network.latency import PathLatency, pattern_codes
from idn_core.network.requests import RequestStream


@dataclass(frozen=True)
class SampleWeights:
    """Exact weights of a request mix, per sample.

    Attributes
    ----------
    count : ``(N,)`` share of requests carrying each sample (sums to one).
    pattern_latency : ``(N, 2**K)``: latency of querying tier set ``p`` (bit code), summed
        over the sample's requests and divided by the number of requests. The mean latency
        of a policy with per-sample codes ``c_n`` is ``sum_n pattern_latency[n, c_n]``.
    """

    count: np.ndarray
    pattern_latency: np.ndarray

    @property
    def n_tiers(self) -> int:
        return int(np.log2(self.pattern_latency.shape[1]))

    def cascade_latency(self) -> np.ndarray:
        """``(N, K)`` weighted latency of a cascade answering at tier ``k`` (tiers ``0..k`` queried)."""
        return self.pattern_latency[:, (1 << np.arange(1, self.n_tiers + 1)) - 1]

    @property
    def n_effective(self) -> float:
        """Effective number of samples ``1 / sum(count**2)`` (``N`` for uniform weights)."""
        return float(1.0 / np.square(self.count).sum())


def request_weights(
    requests: RequestStream, latency: PathLatency, parallel: bool = False
) -> SampleWeights:
    """Weights of a concrete request stream (exact aggregates of :func:`~idn_core.delivery.evaluation.evaluate`)."""
    w = requests.counts() / len(requests)  # (D, N)
    return SampleWeights(w.sum(axis=0), w.T @ latency.pattern_table(parallel))


def uniform_weights(
    n_samples: int,
    latency: PathLatency,
    device_shares: np.ndarray | None = None,
    parallel: bool = False,
) -> SampleWeights:
    """Every sample once, devices mixed by ``device_shares`` (uniform by default): for validation."""
    check_positive_int("n_samples", n_samples)
    n_dev = len(latency.devices)
    shares = (
        np.full(n_dev, 1.0 / n_dev) if device_shares is None else np.asarray(device_shares, float)
    )
    per_pattern = shares @ latency.pattern_table(parallel)
    return SampleWeights(
        np.full(n_samples, 1.0 / n_samples), np.tile(per_pattern / n_samples, (n_samples, 1))
    )


def reweighted(weights: SampleWeights, count: np.ndarray) -> SampleWeights:
    """The same per-sample latencies with new sample shares ``count`` (``(N,)``, summing to one)."""
    scale = np.divide(
        count, weights.count, out=np.zeros_like(count, dtype=float), where=weights.count > 0
    )
    return SampleWeights(np.asarray(count, float), weights.pattern_latency * scale[:, None])


def decision_metrics(
    queried: np.ndarray, correct: np.ndarray, weights: SampleWeights
) -> dict[str, float]:
    """Exact accuracy, mean latency and mean models queried of per-sample choices.

    ``queried`` is bool ``(N, K)``; ``correct`` bool ``(N,)`` (is the returned answer right).
    """
    codes = pattern_codes(queried)
    n = np.arange(len(codes))
    return {
        "accuracy": float(weights.count @ np.asarray(correct, float)),
        "latency_ms": float(weights.pattern_latency[n, codes].sum()),
        "models_queried": float(weights.count @ queried.sum(axis=1)),
    }


def gap_bound(
    correct: np.ndarray,
    reference: np.ndarray,
    weights: SampleWeights,
    z: float = 1.645,
    n_future: float | None = None,
) -> tuple[float, float]:
    """Accuracy gap of any policy to a reference and its one-sided lower bound.

    ``correct`` and ``reference`` are bool ``(N,)`` (is each policy's answer right); the
    bound uses the paired per-sample differences as in :func:`cascade_grid`.
    """
    d = np.asarray(correct, float) - np.asarray(reference, float)
    gap = float(weights.count @ d)
    inv_n = 1.0 / weights.n_effective + (
        0.0 if n_future is None else 1.0 / check_positive("n_future", n_future)
    )
    se = float(np.sqrt(max(weights.count @ d**2 - gap**2, 0.0) * inv_n))
    return gap, gap - z * se
