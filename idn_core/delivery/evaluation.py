"""Vectorised evaluation of delivery policies on a request stream.

A policy only has to say, for every sample of a split, **which tiers of the path it
queries** and **whose answer it returns** (a :class:`Decision`). The evaluator turns
that into a per-request :class:`Outcome` (answering tier and node, correctness, latency,
models queried) for a seeded :class:`RequestStream` of samples arriving at devices, with
latencies from each device's path (:class:`PathLatency`). Cascades (chapter 2) and
ensembles (chapter 3) share this evaluator, so they land on the same trade-off plots.

Latencies come from :mod:`idn_core.network.latency`; sequential queries by default.

Examples
--------
Any policy, e.g. an ensemble that queries the device and the cloud and returns its own
combined prediction, only has to fill a :class:`Decision`:

>>> import numpy as np
>>> from idn_core.learning.outputs import OutputsTable
>>> from idn_core.network.latency import PathLatency
>>> from idn_core.network.requests import make_requests
>>> table = OutputsTable(("dev", "cloud"), np.log([[[0.6, 0.4]], [[0.2, 0.8]]]), np.array([1]))
>>> lat = PathLatency(("d0",), np.array([["d0", "c"]]), ("device", "cloud"),
...                   np.array([[0.0, 20.0]]), np.array([[1.0, 0.5]]))
>>> decision = Decision(np.array([[True, True]]), np.array([0]), prediction=np.array([1]))
>>> out = evaluate(decision, table, make_requests(3, 1, ("d0",)), lat)
>>> out.correct.tolist(), out.latency_ms.tolist(), out.n_queried.tolist()
([True, True, True], [21.5, 21.5, 21.5], [2, 2, 2])
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from idn_core.learning.outputs import OutputsTable
from idn_core.network.latency import PathLatency, pattern_codes
from idn_core.network.requests import RequestStream

__all__ = [
    "Decision",
    "Outcome",
    "evaluate",
    "pareto_front",
    "summarize",
]


@dataclass(frozen=True)
class Decision:
    """A policy's choice for every sample of a split (optionally per device).

    Attributes
    ----------
    queried : bool ``(N, K)``, or ``(D, N, K)`` when the choice depends on the device:
        which of the path's ``K`` models are evaluated.
    answer_tier : int ``(N,)`` or ``(D, N)``: the tier whose node returns the answer
        (must be queried).
    prediction : optional int array like ``answer_tier``: the returned class when it is
        not simply the answering tier's own prediction (ensembles combine several).
    """

    queried: np.ndarray
    answer_tier: np.ndarray
    prediction: np.ndarray | None = None

    def __post_init__(self) -> None:
        q, a = np.asarray(self.queried), np.asarray(self.answer_tier)
        if q.dtype != bool or q.ndim not in (2, 3):
            raise ValueError(
                f"queried must be a bool array (N, K) or (D, N, K), got {q.dtype} {q.shape}"
            )
        if a.shape != q.shape[:-1]:
            raise ValueError(f"answer_tier must have shape {q.shape[:-1]}, got {a.shape}")
        if not np.issubdtype(a.dtype, np.integer):
            raise TypeError(f"answer_tier must be an integer array of tiers, got dtype {a.dtype}")
        if a.size and (a.min() < 0 or a.max() >= q.shape[-1]):
            raise ValueError(f"answer_tier must lie in [0, {q.shape[-1]})")
        if not np.take_along_axis(q, a[..., None], axis=-1).all():
            raise ValueError("every answering tier must be among the queried tiers")
        if self.prediction is not None:
            _check_prediction(self.prediction, a.shape)

    @property
    def n_tiers(self) -> int:
        return int(self.queried.shape[-1])

    @property
    def per_device(self) -> bool:
        return self.queried.ndim == 3


def _check_prediction(prediction: np.ndarray, shape: tuple[int, ...]) -> None:
    """A decision's ``prediction``: integer classes of the answering tier's shape."""
    pred = np.asarray(prediction)
    if pred.shape != shape:
        raise ValueError(f"prediction must have shape {shape}, got {pred.shape}")
    if pred.size and not np.issubdtype(pred.dtype, np.integer):
        raise TypeError(f"prediction must be an integer array of classes, got dtype {pred.dtype}")


@dataclass(frozen=True)
class Outcome:
    """Per-request outcome of a policy: the record every chapter reports and plots.

    Attributes (arrays of length ``R`` unless stated)
    ----------
    device, sample : where the request arrived and which sample it carried.
    answer_tier : tier whose node answered; ``answer_node`` gives its name.
    prediction : returned class.
    correct : bool, prediction equals the label.
    latency_ms : end-to-end latency.
    pattern : uint8 bit pattern of the models evaluated (bit ``k`` = tier ``k``); the
        ``queried`` property unpacks it to bool ``(R, K)``.
    nodes : str ``(D, K)``, node of each tier on each device's path.
    """

    device: np.ndarray
    sample: np.ndarray
    answer_tier: np.ndarray
    prediction: np.ndarray
    correct: np.ndarray
    latency_ms: np.ndarray
    pattern: np.ndarray
    nodes: np.ndarray

    @property
    def n_tiers(self) -> int:
        return int(self.nodes.shape[1])

    @property
    def queried(self) -> np.ndarray:
        """Bool ``(R, K)``: which models were evaluated for each request."""
        return (self.pattern[:, None] >> np.arange(self.n_tiers, dtype=np.uint8)) & 1 == 1

    @property
    def n_queried(self) -> np.ndarray:
        """Number of models evaluated per request."""
        popcount = np.array([bin(c).count("1") for c in range(2**self.n_tiers)], dtype=np.int64)
        return popcount[self.pattern]

    @property
    def answer_node(self) -> np.ndarray:
        """Name of the answering node per request."""
        return self.nodes[self.device, self.answer_tier]


def evaluate(
    decision: Decision,
    table: OutputsTable,
    requests: RequestStream,
    latency: PathLatency,
    parallel: bool = False,
) -> Outcome:
    """Evaluate ``decision`` on every request of ``requests`` (vectorised, exact).

    Parameters
    ----------
    decision : per-sample (or per device and sample) choice of queried and answering tiers.
    table : outputs of the path's ``K`` models on the split the requests draw from.
    requests : the request stream (``requests.n_samples`` must equal ``table.n_samples``).
    latency : path latencies; its devices must be ``requests.devices``.
    parallel : latency of parallel instead of sequential queries.
    """
    if decision.n_tiers != table.n_models or latency.n_tiers != table.n_models:
        raise ValueError(
            f"decision ({decision.n_tiers}), latency ({latency.n_tiers}) and table "
            f"({table.n_models}) must have the same number of tiers"
        )
    if requests.n_samples != table.n_samples or decision.queried.shape[-2] != table.n_samples:
        raise ValueError(f"requests and decision must cover the table's {table.n_samples} samples")
    if tuple(requests.devices) != tuple(latency.devices):
        raise ValueError(
            f"requests devices {requests.devices} differ from latency devices {latency.devices}"
        )
    if decision.per_device and decision.queried.shape[0] != len(latency.devices):
        raise ValueError(
            f"a per-device decision must have one row per device ({len(latency.devices)}), "
            f"got {decision.queried.shape[0]}"
        )
    # Per-sample (or per device and sample) fields first, then one ``np.take`` per field
    # (the stream's indices are intp: other integer types make every gather convert them).
    n = np.arange(table.n_samples)
    answer = np.asarray(decision.answer_tier)
    if decision.prediction is None:
        pred = table.predictions()[answer, n]
    else:
        pred = np.asarray(decision.prediction)
        if pred.size and (pred.min() < 0 or pred.max() >= table.n_classes):
            raise ValueError(
                f"decision.prediction must lie in [0, {table.n_classes}) (the table's classes), "
                f"got range [{pred.min()}, {pred.max()}]"
            )
    correct = pred == table.labels[n]
    codes = pattern_codes(decision.queried).astype(np.uint8)
    table_ms = latency.pattern_table(parallel)
    if decision.per_device:
        lat_dn = table_ms[np.arange(len(latency.devices))[:, None], codes]
        idx = requests.flat
    else:
        lat_dn = table_ms[:, codes]
        idx = requests.sample
    small = np.int16 if table.n_classes < 2**15 else np.int64
    return Outcome(
        device=requests.device,
        sample=requests.sample,
        answer_tier=np.take(answer.astype(np.int8).ravel(), idx),
        prediction=np.take(pred.astype(small).ravel(), idx),
        correct=np.take(correct.ravel(), idx),
        latency_ms=np.take(lat_dn.ravel(), requests.flat),
        pattern=np.take(codes.ravel(), idx),
        nodes=latency.nodes,
    )


def summarize(outcome: Outcome, name: str = "") -> dict[str, float | str]:
    """Aggregate metrics of an outcome.

    Loads are counted on integer codes: requests are tallied per (device, pattern of
    queried tiers), a table of at most ``D * 2**K`` cells, and each cell's count is
    credited to the nodes its pattern queries. Memory stays a few bytes per request
    (no ``(R, K)`` array of node names) and the counts are exact integers.

    Returns
    -------
    dict with ``policy``, ``accuracy``, ``latency_ms`` (mean), ``p95_ms``, ``forwarded``
    (fraction answered above the device tier), ``models_queried`` (mean) and one
    ``load:<node>`` entry per node that evaluated at least one model (models evaluated on
    that node per request), in sorted node order.
    """
    if not isinstance(outcome, Outcome):
        raise TypeError(f"outcome must be an Outcome, got {type(outcome).__name__}")
    if not isinstance(name, str):
        raise TypeError(f"name must be a str, got {type(name).__name__}")
    n_req = len(outcome.device)
    if n_req == 0:
        raise ValueError("outcome has no requests to summarize")
    cells = _pattern_counts(outcome.device, outcome.pattern, len(outcome.nodes), outcome.n_tiers)
    popcount = np.array([bin(c).count("1") for c in range(2**outcome.n_tiers)], dtype=np.int64)
    row: dict[str, float | str] = {
        "policy": name,
        "accuracy": float(outcome.correct.mean()),
        "latency_ms": float(outcome.latency_ms.mean()),
        "p95_ms": float(np.percentile(outcome.latency_ms, 95)),
        "forwarded": float(np.count_nonzero(outcome.answer_tier > 0) / n_req),
        "models_queried": float(int((cells.sum(axis=0) * popcount).sum()) / n_req),
    }
    names, loads = _node_loads(cells, outcome.nodes)
    for node, c in zip(names.tolist(), loads.tolist(), strict=True):
        if c:
            row[f"load:{node}"] = c / n_req
    return row


_COUNT_CHUNK = 1 << 20


def _pattern_counts(
    device: np.ndarray, pattern: np.ndarray, n_devices: int, n_tiers: int
) -> np.ndarray:
    """Number of requests per (device, queried-tier pattern), int64 ``(D, 2**K)``.

    Counted in chunks so that the combined code array stays small whatever ``R``.
    """
    width = 2**n_tiers
    counts = np.zeros(n_devices * width, dtype=np.int64)
    for start in range(0, len(device), _COUNT_CHUNK):
        stop = start + _COUNT_CHUNK
        code = device[start:stop] * width + pattern[start:stop]
        counts += np.bincount(code, minlength=n_devices * width)
    return counts.reshape(n_devices, width)


def _node_loads(cells: np.ndarray, nodes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sorted node names and the models evaluated on each, from the (device, pattern) counts.

    ``nodes[d, k]`` serves tier ``k`` on device ``d``'s path; a cell ``(d, p)`` adds its
    count to every node ``nodes[d, k]`` with bit ``k`` of ``p`` set.
    """
    names, codes = np.unique(nodes, return_inverse=True)
    codes = codes.reshape(nodes.shape)
    n_tiers = nodes.shape[1]
    bits = (np.arange(cells.shape[1])[:, None] >> np.arange(n_tiers)) & 1  # (2**K, K)
    per_tier = cells @ bits  # (D, K): requests querying tier k on device d
    loads = np.zeros(len(names), dtype=np.int64)
    np.add.at(loads, codes.ravel(), per_tier.ravel())
    return names, loads


def pareto_front(frame: pd.DataFrame, x: str = "latency_ms", y: str = "accuracy") -> pd.DataFrame:
    """Rows of ``frame`` not dominated in (lower ``x``, higher ``y``), sorted by ``x``."""
    if frame.empty:
        return frame.copy()
    ordered = frame.sort_values([x, y], ascending=[True, False])
    best = np.maximum.accumulate(ordered[y].to_numpy())
    keep = np.r_[True, ordered[y].to_numpy()[1:] > best[:-1]]
    return ordered[keep].reset_index(drop=True)
