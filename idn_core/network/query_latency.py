"""Latency of querying several members on a path: relayed, parallel or round trips.

:class:`~idn_core.network.latency.PathLatency` prices a set of queried tiers in two ways:
*relayed* (the request climbs the path, each queried model computes on the way and the
deepest node answers: round trip to the deepest tier plus every compute time) and
*parallel* (queries sent at once: the slowest of ``rtt_k + compute_k``). A device that
queries remote nodes **one after another, waiting for each answer**, pays a third price,
the **sum** of the round trips of the nodes it contacts plus every compute time.
:class:`QueryLatency` adds that mode; it is a ``PathLatency``, so the chapter-2 evaluator
(:func:`idn_core.delivery.evaluation.evaluate`) and the exact sample weights use it unchanged.

Ensemble members are often several per node (e.g. a committee at the edge):
:func:`member_latency` builds the latency of ``M`` members placed on the path's tiers.

Examples
--------
>>> import numpy as np
>>> base = PathLatency(("d0",), np.array([["d0", "e0", "c"]]), ("device", "edge", "cloud"),
...                    np.array([[0.0, 10.0, 30.0]]), np.array([[1.0, 0.5, 0.1]]))
>>> q = np.array([[True, True, True]])
>>> [float(with_mode(base, m).latency_ms(q, np.array([0]))[0]) for m in QUERY_MODES]
[31.6, 30.1, 41.6]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from idn_core._util.validation import check_choice, check_non_negative
from idn_core.network.latency import PathLatency

QUERY_MODES = ("relay", "parallel", "round_trips")


@dataclass(frozen=True)
class QueryLatency(PathLatency):
    """A :class:`PathLatency` whose default pricing is ``mode`` (one of :data:`QUERY_MODES`).

    ``pattern_table(parallel=True)`` is always the parallel price, so code written for
    chapter 2 that asks for parallel queries explicitly keeps its meaning.
    """

    mode: str = "relay"

    def __post_init__(self) -> None:
        super().__post_init__()
        check_choice("query mode", self.mode, QUERY_MODES)

    def pattern_table(self, parallel: bool = False) -> np.ndarray:
        """Latency ``(D, 2**K)`` of every set of queried members under this mode."""
        if parallel or self.mode == "parallel":
            return super().pattern_table(parallel=True)
        if self.mode == "relay":
            return super().pattern_table(parallel=False)
        n_dev, k = self.rtt_ms.shape
        table = np.zeros((n_dev, 2**k))
        for code in range(1, 2**k):
            tiers = [j for j in range(k) if code >> j & 1]
            for d in range(n_dev):
                nodes = {self.nodes[d, j]: self.rtt_ms[d, j] for j in tiers}  # one trip per node
                table[d, code] = sum(nodes.values()) + sum(self.compute_ms[d, j] for j in tiers)
        return table


def with_mode(latency: PathLatency, mode: str) -> QueryLatency:
    """The same path priced under ``mode`` (``relay``, ``parallel`` or ``round_trips``)."""
    return QueryLatency(
        latency.devices, latency.nodes, latency.tiers, latency.rtt_ms, latency.compute_ms, mode
    )


def member_latency(
    latency: PathLatency,
    member_tiers: Sequence[int],
    member_flops: Sequence[float],
    gflops: dict[str, float],
    mode: str = "relay",
) -> QueryLatency:
    """Latency of ``M`` ensemble members placed on the tiers of each device's path.

    Parameters
    ----------
    latency : the path (its nodes and round trips; its compute times are not used).
    member_tiers : ``(M,)`` tier index of each member, non-decreasing (path order).
    member_flops : ``(M,)`` FLOPs per sample of each member.
    gflops : compute speed (GFLOP/s) of every node name on the paths.
    mode : pricing of a set of queried members (:data:`QUERY_MODES`).
    """
    tiers = np.asarray(member_tiers, dtype=int)
    flops = np.asarray(member_flops, dtype=float)
    if tiers.ndim != 1 or tiers.size == 0 or flops.shape != tiers.shape:
        raise ValueError(f"need one tier and one FLOPs count per member, got {tiers}, {flops}")
    if (np.diff(tiers) < 0).any() or tiers.min() < 0 or tiers.max() >= latency.n_tiers:
        raise ValueError(f"member tiers must be non-decreasing in [0, {latency.n_tiers})")
    for f in flops:
        check_non_negative("member FLOPs", float(f))
    nodes = latency.nodes[:, tiers]
    missing = sorted({str(n) for n in nodes.ravel()} - set(gflops))
    if missing:
        raise ValueError(f"no compute speed for nodes {missing}")
    compute = np.vectorize(lambda n: 1.0 / (gflops[str(n)] * 1e6))(nodes) * flops[None, :]
    return QueryLatency(
        latency.devices,
        nodes,
        tuple(f"{latency.tiers[t]}:{m}" for m, t in enumerate(tiers)),
        latency.rtt_ms[:, tiers],
        compute,
        mode,
    )
