"""Deadlines under load: per-request deadlines, on-time metrics and the anytime answer.

Times are in **seconds**. A request meets its deadline when its response time is at most
its deadline. Metrics (:func:`deadline_metrics`): the on-time rate, the on-time accuracy
(the answer is right *and* in time), plain accuracy and the p50/p95/p99 response times.

The **anytime** variant (:func:`anytime_answer`) is what an IDN can offer for free: the
device's own answer is always there; a forwarded request's better answer replaces it only
if it returns before the deadline. So the anytime answer is right when the upstream
answer is in time and right, or, failing that, when the device's answer is right. The
device's answer is taken as in time when ``device_response_s`` is not given; when it is,
a device answer later than the deadline counts as no answer in time.

Examples
--------
>>> resp = np.array([0.01, 0.05, 0.2])
>>> m = deadline_metrics(resp, np.array([0.1, 0.1, 0.1]), np.array([True, False, True]))
>>> m["on_time_rate"], m["on_time_accuracy"]
(0.6666666666666666, 0.3333333333333333)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

__all__ = [
    "anytime_answer",
    "deadline_metrics",
    "request_deadlines",
]


def request_deadlines(
    deadline_s: float | Sequence[float] | np.ndarray | Mapping[int, float],
    group: np.ndarray,
) -> np.ndarray:
    """Deadline (s) of every request, float ``(R,)``.

    Parameters
    ----------
    deadline_s : one deadline per group (array ``(G,)`` or mapping group -> deadline), or
        one for all requests (a scalar, then ``group`` only gives ``R``).
    group : int ``(R,)``, each request's group: its device index (per-device deadlines) or
        its application class.

    Every deadline must be finite and > 0.
    """
    g = np.asarray(group)
    if g.ndim != 1 or not np.issubdtype(g.dtype, np.integer):
        raise ValueError(f"group must be an int array (R,), got {g.dtype} {g.shape}")
    if isinstance(deadline_s, Mapping):
        size = int(g.max()) + 1 if g.size else 0
        missing = sorted(set(np.unique(g).tolist()) - set(deadline_s))
        if missing:
            raise ValueError(f"deadline_s has no deadline for groups {missing}")
        table = np.array([deadline_s.get(i, np.nan) for i in range(size)], dtype=float)
        used = table[np.unique(g)] if g.size else table
    else:
        table = np.atleast_1d(np.asarray(deadline_s, dtype=float))
        used = table
        if table.ndim != 1:
            raise ValueError(f"deadline_s must be a scalar or one-dimensional, got {table.shape}")
    if not (np.isfinite(used).all() and (used > 0).all()):
        raise ValueError(f"deadline_s must be finite and > 0, got {used.tolist()}")
    if table.size == 1:
        return np.full(g.shape, float(table[0]))
    if g.size and (g.min() < 0 or g.max() >= table.size):
        raise ValueError(f"group must lie in [0, {table.size}) to index deadline_s")
    return table[g]


def _check_times(name: str, values: np.ndarray, n: int | None = None) -> np.ndarray:
    arr = np.asarray(values, dtype=float)
    if arr.ndim != 1 or (n is not None and arr.shape != (n,)):
        raise ValueError(f"{name} must have shape ({'R' if n is None else n},), got {arr.shape}")
    if np.isnan(arr).any():
        raise ValueError(f"{name} contains NaN")
    return arr


def _check_deadlines(deadline_s: np.ndarray | float, n: int) -> np.ndarray:
    d = np.broadcast_to(np.asarray(deadline_s, dtype=float), (n,))
    if not (np.isfinite(d).all() and (d > 0).all()):
        raise ValueError("deadline_s must be finite and > 0 for every request")
    return d


def _check_bool(name: str, values: np.ndarray, n: int) -> np.ndarray:
    arr = np.asarray(values)
    if arr.dtype != bool or arr.shape != (n,):
        raise ValueError(
            f"{name} must be a bool array of shape ({n},), got {arr.dtype} {arr.shape}"
        )
    return arr


def deadline_metrics(
    response_s: np.ndarray, deadline_s: np.ndarray | float, correct: np.ndarray | None = None
) -> dict[str, float]:
    """On-time metrics of ``R`` requests.

    Parameters
    ----------
    response_s : float ``(R,)`` response times (s), no NaN (``inf`` = never answered).
    deadline_s : float ``(R,)`` or a scalar, deadlines (s), finite and > 0.
    correct : optional bool ``(R,)``, whether each answer is right.

    Returns
    -------
    dict with ``on_time_rate``, ``p50_s``, ``p95_s``, ``p99_s``, ``mean_s`` and, with
    ``correct``, ``accuracy`` and ``on_time_accuracy`` (right and in time).
    """
    resp = _check_times("response_s", response_s)
    if resp.size == 0:
        raise ValueError("response_s must hold at least one request")
    if (resp < 0).any():
        raise ValueError("response_s must be >= 0")
    on_time = resp <= _check_deadlines(deadline_s, len(resp))
    p50, p95, p99 = np.percentile(resp, [50, 95, 99])
    out = {
        "on_time_rate": float(on_time.mean()),
        "p50_s": float(p50),
        "p95_s": float(p95),
        "p99_s": float(p99),
        "mean_s": float(resp.mean()),
    }
    if correct is not None:
        right = _check_bool("correct", correct, len(resp))
        out["accuracy"] = float(right.mean())
        out["on_time_accuracy"] = float((right & on_time).mean())
    return out


def anytime_answer(
    response_s: np.ndarray,
    deadline_s: np.ndarray | float,
    correct: np.ndarray,
    correct_device: np.ndarray,
    device_response_s: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """The anytime answer: whether it is right, and whether an answer was in time.

    Parameters
    ----------
    response_s : float ``(R,)``, response time (s) of each request's final answer (the
        device's own for requests it answered alone).
    deadline_s : float ``(R,)`` or scalar, deadlines (s).
    correct : bool ``(R,)``, the final answer is right.
    correct_device : bool ``(R,)``, the device's own answer is right.
    device_response_s : optional float ``(R,)``, when the device's answer was ready (s
        after arrival); without it the device's answer is taken as always in time.

    Returns
    -------
    right : bool ``(R,)``: ``correct`` if the final answer is in time, else the device's
        (if it is in time).
    in_time : bool ``(R,)``: some answer was delivered by the deadline.
    """
    resp = _check_times("response_s", response_s)
    n = len(resp)
    deadline = _check_deadlines(deadline_s, n)
    final_ok = resp <= deadline
    right_final = _check_bool("correct", correct, n)
    right_device = _check_bool("correct_device", correct_device, n)
    if device_response_s is None:
        device_ok = np.ones(n, dtype=bool)
    else:
        device_ok = _check_times("device_response_s", device_response_s, n) <= deadline
    right = np.where(final_ok, right_final, right_device & device_ok)
    return right, final_ok | device_ok
