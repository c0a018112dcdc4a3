"""Latency of answering along each device's path: round trips and compute times.

Latency model (sequential, the default): a request that queries the set ``Q`` of tiers
on its device's path costs the round trip to the deepest tier of ``Q`` plus the compute
time of every model in ``Q``. With ``parallel=True`` (queries sent at once) it costs
``max_{k in Q}(rtt_k + compute_k)``. A set of tiers is encoded as a bit pattern (bit
``k`` = tier ``k``), so a ``(devices, 2**K)`` table holds every possible latency.

Examples
--------
>>> import numpy as np
>>> lat = PathLatency(("d0",), np.array([["d0", "e0", "c"]]), ("device", "edge", "cloud"),
...                   np.array([[0.0, 10.0, 30.0]]), np.array([[1.0, 0.5, 0.1]]))
>>> lat.latency_ms(np.array([[True, False, True]]), np.array([0])).tolist()
[31.1]
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class PathLatency:
    """Network and compute delay of each tier on each device's path.

    Attributes
    ----------
    devices : device names ``(D,)``.
    nodes : str array ``(D, K)``: the node holding tier ``k`` on device ``d``'s path.
    tiers : tier names ``(K,)`` (e.g. device, edge, cloud).
    rtt_ms : float ``(D, K)``: round trip from the device to the node (0 for the device).
    compute_ms : float ``(D, K)``: the model's compute time on that node.
    """

    devices: tuple[str, ...]
    nodes: np.ndarray
    tiers: tuple[str, ...]
    rtt_ms: np.ndarray
    compute_ms: np.ndarray

    def __post_init__(self) -> None:
        shape = (len(self.devices), len(self.tiers))
        for name in ("nodes", "rtt_ms", "compute_ms"):
            if np.shape(getattr(self, name)) != shape:
                raise ValueError(
                    f"{name} must have shape {shape}, got {np.shape(getattr(self, name))}"
                )
        for name in ("rtt_ms", "compute_ms"):
            arr = np.asarray(getattr(self, name), dtype=float)
            if not np.isfinite(arr).all() or (arr < 0).any():
                raise ValueError(f"{name} must be finite and >= 0")

    @property
    def n_tiers(self) -> int:
        return len(self.tiers)

    def pattern_table(self, parallel: bool = False) -> np.ndarray:
        """Latency ``(D, 2**K)`` of every set of queried tiers (bit ``k`` = tier ``k``); 0 for none."""
        n_dev, k = self.rtt_ms.shape
        table = np.zeros((n_dev, 2**k))
        for code in range(1, 2**k):
            tiers = [j for j in range(k) if code >> j & 1]
            for d in range(n_dev):
                if parallel:
                    table[d, code] = max(self.rtt_ms[d, j] + self.compute_ms[d, j] for j in tiers)
                else:
                    value = self.rtt_ms[d, tiers[-1]]
                    for j in tiers:
                        value += self.compute_ms[d, j]
                    table[d, code] = value
        return table

    def answer_latency_ms(self) -> np.ndarray:
        """Latency ``(D, K)`` of a cascade answering at tier ``k`` having queried tiers ``0..k``."""
        return self.rtt_ms + np.cumsum(self.compute_ms, axis=1)

    def latency_ms(
        self, queried: np.ndarray, device: np.ndarray, parallel: bool = False
    ) -> np.ndarray:
        """Latency of requests from ``device`` (int ``(R,)``) querying ``queried`` (bool ``(R, K)``)."""
        return self.pattern_table(parallel)[device, pattern_codes(queried)]


def pattern_codes(queried: np.ndarray) -> np.ndarray:
    """Bit-pattern code of each row of a bool ``(..., K)`` array of queried tiers."""
    q = np.asarray(queried, dtype=bool)
    return (q.astype(np.int64) << np.arange(q.shape[-1])).sum(axis=-1)


def path_latency(topology, placement, flops: dict[str, int]) -> PathLatency:
    """Per-device path latencies from a topology, a placement and each model's FLOPs.

    Every device's path must hold the same number ``K`` of models, one per tier position.
    """
    devices = tuple(topology.devices)
    nodes, tiers, rtt, comp = [], None, [], []
    for dev in devices:
        pairs = placement.path_models(dev)
        dev_tiers = tuple(topology.node(n).tier for n, _ in pairs)
        if tiers is None:
            tiers = dev_tiers
        elif dev_tiers != tiers:
            raise ValueError(f"device {dev!r} has path tiers {dev_tiers}, others have {tiers}")
        nodes.append([n for n, _ in pairs])
        rtt.append([topology.rtt_ms(dev, n) for n, _ in pairs])
        comp.append([topology.node(n).compute_ms(flops[m]) for n, m in pairs])
    return PathLatency(devices, np.array(nodes), tiers, np.array(rtt), np.array(comp))


def select_tiers(latency: PathLatency, tiers: list[int] | tuple[int, ...]) -> PathLatency:
    """The path restricted to some tiers (e.g. ``(0, 2)``: a device-cloud cascade skipping the edge).

    Requests still travel the links of the skipped tiers; only their models are unused.
    """
    idx = list(tiers)
    if not idx or sorted(set(idx)) != idx or idx[-1] >= latency.n_tiers or idx[0] < 0:
        raise ValueError(f"tiers must be increasing indices in [0, {latency.n_tiers}), got {tiers}")
    return PathLatency(
        latency.devices,
        latency.nodes[:, idx],
        tuple(latency.tiers[i] for i in idx),
        latency.rtt_ms[:, idx],
        latency.compute_ms[:, idx],
    )
