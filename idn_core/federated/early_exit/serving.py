"""Serving with early exits on a tree: each node answers its easiest requests up to its rate.

Requests arrive at devices. Every node on a request's path uses its deepest exit (a
device exit 1, an edge exit 2, the cloud exit 3), answers the requests it receives with
the *lowest normalised entropy* up to its serving rate, and forwards the rest to its
parent (Kaplan et al. 2024). With serving split ``(l1, l2, l3)`` a device answers
``l1`` of the requests arriving at it, an edge ``l2`` of those arriving below it, and the
cloud everything that remains.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from idn_core._util.validation import check_seed
from idn_core.federated.early_exit.weights import check_serving_split
from idn_core.learning.outputs import softmax
from idn_core.learning.scores import confidence
from idn_core.network.topology import Topology


def normalised_entropy(logits: np.ndarray) -> np.ndarray:
    """``H(softmax(logits)) / log C`` in ``[0, 1]``: ``(..., N, C) -> (..., N)``."""
    return 1.0 - confidence(softmax(logits), "neg_entropy")


def assign_devices(n_requests: int, devices: Sequence[str], seed: int = 0) -> np.ndarray:
    """Device index ``(N,)`` at which each request arrives, uniform and seeded."""
    check_seed(seed)
    if not devices:
        raise ValueError("requests need at least one device to arrive at")
    return np.random.default_rng(seed).integers(0, len(devices), size=n_requests)


def serve_on_tree(
    entropy: np.ndarray, arrival: np.ndarray, topology: Topology, serving_split: Sequence[float]
) -> np.ndarray:
    """Exit (0-based depth on the path) that answers each request.

    Parameters
    ----------
    entropy : ``(E, N)`` normalised entropy of every exit on every request.
    arrival : ``(N,)`` index into ``topology.devices`` of each request's device.
    topology : a tree whose device-to-cloud paths all have ``E`` nodes.
    serving_split : rates ``(E,)`` summing to one (the share of all requests answered by
        each depth).

    Returns
    -------
    int array ``(N,)``: the depth (= exit) that served each request.
    """
    ent = np.asarray(entropy, dtype=float)
    n_exits, n = ent.shape
    split = check_serving_split(serving_split, n_exits)
    devices = topology.devices
    arrival = np.asarray(arrival)
    if (
        arrival.shape != (n,)
        or arrival.min(initial=0) < 0
        or arrival.max(initial=0) >= len(devices)
    ):
        raise ValueError(f"arrival must be {n} device indices in [0, {len(devices)})")
    paths = [topology.path(d) for d in devices]
    if any(len(p) != n_exits for p in paths):
        raise ValueError(
            f"every device path must have {n_exits} nodes (one per exit), got {paths[0]}"
        )
    served = np.full(n, -1, dtype=np.int64)
    for depth in range(n_exits):
        for node in sorted({p[depth] for p in paths}):
            below = [i for i, p in enumerate(paths) if p[depth] == node]
            origin = np.isin(arrival, below)
            here = np.flatnonzero(origin & (served < 0))
            if depth == n_exits - 1:
                served[here] = depth
                continue
            quota = min(int(round(split[depth] * origin.sum())), len(here))
            easiest = here[np.argsort(ent[depth, here], kind="stable")[:quota]]
            served[easiest] = depth
    return served


def serving_metrics(logits: np.ndarray, labels: np.ndarray, served: np.ndarray) -> dict[str, float]:
    """Accuracy over served requests and per exit (on all requests and on those it served).

    Keys: ``served_acc``; ``exit{e}_acc`` (exit ``e`` on every request); ``exit{e}_served_acc``
    (on the requests it served; NaN if none); ``exit{e}_share`` (1-based ``e``).
    """
    correct = np.asarray(logits).argmax(axis=-1) == np.asarray(labels)[None, :]
    served = np.asarray(served)
    out = {"served_acc": float(correct[served, np.arange(len(served))].mean())}
    for e in range(correct.shape[0]):
        mask = served == e
        out[f"exit{e + 1}_acc"] = float(correct[e].mean())
        out[f"exit{e + 1}_served_acc"] = (
            float(correct[e, mask].mean()) if mask.any() else float("nan")
        )
        out[f"exit{e + 1}_share"] = float(mask.mean())
    return out
