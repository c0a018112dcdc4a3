"""Delivery-aware federated training: train each model on the requests that will reach it.

Under a confidence-threshold cascade (device -> edge -> cloud) a model only answers the
requests its predecessors were unsure about, so its *serving* distribution differs from
its local training data. Delivery-aware training estimates, for every training sample,
the probability that it reaches model ``k`` (from the predecessors' confidence) and
trains model ``k`` with those importance weights, alternating:

1. train (FedAvg with the current weights),
2. recalibrate the thresholds on validation data so that each tier serves its share,
3. recompute the weights from the new models and thresholds.

Plain FedAvg with the same number of rounds is the baseline.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from idn_core._util.validation import (
    check_fraction,
    check_non_negative,
    check_positive_int,
    check_seed,
)
from idn_core.delivery.policies import cascade_answer
from idn_core.federated.fedavg import run_fedavg
from idn_core.learning.models import ModelSpec
from idn_core.learning.outputs import softmax
from idn_core.learning.scores import confidence
from idn_core.learning.state import State, load_state
from idn_core.learning.training import predict_logits


def max_confidence(logits: np.ndarray) -> np.ndarray:
    """Normalised max-probability confidence in ``[0, 1]``: ``(..., N, C) -> (..., N)``.

    The score of :func:`idn_core.learning.scores.confidence` (``"max_prob"``) on ``softmax(logits)``.
    """
    return confidence(softmax(logits), "max_prob")


def check_serving_shares(shares: Sequence[float], n_tiers: int) -> np.ndarray:
    """Validate serving shares: ``n_tiers`` non-negative values summing to one."""
    s = np.asarray(shares, dtype=float)
    if s.shape != (n_tiers,):
        raise ValueError(f"need {n_tiers} serving shares, got {s.tolist()}")
    if not np.isfinite(s).all() or (s < 0).any():
        raise ValueError(f"serving shares must be finite and non-negative, got {s.tolist()}")
    if abs(s.sum() - 1) > 1e-6:
        raise ValueError(f"serving shares must sum to one, got {s.tolist()} (sum {s.sum():.4f})")
    return s


def share_thresholds(conf: np.ndarray, shares: Sequence[float]) -> np.ndarray:
    """Thresholds so that tier ``k`` of a cascade serves a ``shares[k]`` fraction of requests.

    Parameters
    ----------
    conf : ``(K-1, N)`` confidences of every non-final tier on the same requests.
    shares : ``K`` serving shares summing to one (the last tier serves the rest).

    Returns
    -------
    thresholds : ``(K-1,)`` in ``[0, 1]``; tier ``k`` serves a request that reaches it when
        its confidence is ``>= thresholds[k]`` (``1`` forwards everything, as in
        :func:`idn_core.delivery.policies.cascade_answer`).
    """
    conf = np.atleast_2d(np.asarray(conf, dtype=float))
    s = check_serving_shares(shares, conf.shape[0] + 1)
    n = conf.shape[1]
    reached = np.ones(n, dtype=bool)
    thresholds = np.empty(conf.shape[0])
    for k in range(conf.shape[0]):
        n_serve = min(int(round(s[k] * n)), int(reached.sum()))
        pool = np.sort(conf[k, reached])[::-1]
        thresholds[k] = 1.0 if n_serve == 0 else pool[n_serve - 1]
        reached &= conf[k] < (np.inf if thresholds[k] >= 1 else thresholds[k])
    return thresholds


def reach_weights(
    conf: np.ndarray, thresholds: np.ndarray, temperature: float = 0.05, floor: float = 0.1
) -> np.ndarray:
    """Importance weights ``(K, N)``: how likely each sample is to reach each tier.

    ``P(reach k) = prod_{j<k} sigmoid((t_j - c_j) / temperature)`` (a hard indicator when
    ``temperature == 0``); the weight is ``floor + (1 - floor) * P(reach k)`` so that every
    sample keeps some weight (the thresholds move between alternations). Tier 0 gets 1.
    """
    conf = np.atleast_2d(np.asarray(conf, dtype=float))
    check_non_negative("temperature", temperature)
    check_fraction("floor", floor)
    t = np.asarray(thresholds, dtype=float).reshape(-1, 1)
    if temperature == 0:
        forward = (conf < np.where(t >= 1, np.inf, t)).astype(float)
    else:
        forward = 1.0 / (1.0 + np.exp(-np.clip((t - conf) / temperature, -50, 50)))
    reach = np.vstack([np.ones((1, conf.shape[1])), np.cumprod(forward, axis=0)])
    return floor + (1.0 - floor) * reach


def served_accuracy(logits: np.ndarray, labels: np.ndarray, tiers: np.ndarray) -> dict[str, float]:
    """System accuracy and each tier's accuracy on the requests it served.

    ``logits`` is ``(K, N, C)``; ``tiers`` is the serving tier ``(N,)`` of each request
    (e.g. from :func:`idn_core.delivery.policies.cascade_answer`).
    Keys: ``"system"``, ``"tier{k}"`` (NaN if tier ``k`` served nothing), ``"share{k}"``.
    """
    correct = np.asarray(logits).argmax(axis=-1) == np.asarray(labels)[None, :]
    n = len(labels)
    out = {"system": float(correct[tiers, np.arange(n)].mean())}
    for k in range(correct.shape[0]):
        mask = tiers == k
        out[f"tier{k}"] = float(correct[k, mask].mean()) if mask.any() else float("nan")
        out[f"share{k}"] = float(mask.mean())
    return out


def tradeoff_curve(
    logits: np.ndarray, labels: np.ndarray, latencies_ms: Sequence[float], n_points: int = 41
) -> pd.DataFrame:
    """Accuracy and mean latency of the cascade as one threshold sweeps all tiers' confidence.

    ``latencies_ms[k]`` is the latency of answering at tier ``k``. Returns columns
    ``threshold, accuracy, latency_ms``.
    """
    conf = max_confidence(np.asarray(logits)[:-1])
    lat = np.asarray(latencies_ms, dtype=float)
    rows = []
    for t in np.linspace(0.0, 1.0, n_points):
        tiers = cascade_answer(conf, np.full(conf.shape[0], t))
        acc = served_accuracy(logits, labels, tiers)["system"]
        rows.append(
            {"threshold": float(t), "accuracy": acc, "latency_ms": float(lat[tiers].mean())}
        )
    return pd.DataFrame(rows)


@dataclass
class DeliveryTrainingResult:
    """Final states of both arms and a history of served accuracy per alternation."""

    specs: list[ModelSpec]
    plain: list[State]
    aware: list[State]
    history: pd.DataFrame
    thresholds: dict[str, np.ndarray]


def _logits(
    specs: list[ModelSpec], states: list[State], x: np.ndarray, n_classes: int
) -> np.ndarray:
    mods = [
        load_state(s.build(x.shape[1], n_classes), st) for s, st in zip(specs, states, strict=True)
    ]
    return np.stack([predict_logits(m, x) for m in mods])


def run_delivery_training(
    specs: Sequence[ModelSpec],
    x: np.ndarray,
    y: np.ndarray,
    partitions: Sequence[np.ndarray],
    x_val: np.ndarray,
    y_val: np.ndarray,
    *,
    shares: Sequence[float],
    rounds: int,
    alternations: int = 2,
    rounds_per_alternation: int = 5,
    local_epochs: int = 1,
    fraction: float = 1.0,
    temperature: float = 0.05,
    floor: float = 0.1,
    seed: int = 0,
    n_classes: int = 10,
    x_test: np.ndarray | None = None,
    y_test: np.ndarray | None = None,
    progress: bool | None = None,
) -> DeliveryTrainingResult:
    """Plain FedAvg versus delivery-aware FedAvg for a cascade of ``specs`` (device first).

    Both arms pretrain every model with ``rounds`` of plain FedAvg, then run
    ``alternations`` x ``rounds_per_alternation`` more rounds: the plain arm unweighted,
    the aware arm with :func:`reach_weights` recomputed each alternation from thresholds
    recalibrated (with :func:`share_thresholds`) on the validation split. Both arms use the
    same seeds, so the first model is identical in both. The history holds served
    accuracy on the test split (if given, else validation) after each alternation.
    """
    check_seed(seed)
    specs = list(specs)
    if len(specs) < 2:
        raise ValueError(f"a cascade needs at least two models, got {len(specs)}")
    check_serving_shares(shares, len(specs))
    check_positive_int("alternations", alternations)
    check_positive_int("rounds_per_alternation", rounds_per_alternation)
    x_eval, y_eval = (x_val, y_val) if x_test is None else (x_test, y_test)
    common = {"local_epochs": local_epochs, "fraction": fraction, "n_classes": n_classes}
    common["progress"] = progress
    plain = [
        run_fedavg(s, x, y, partitions, rounds=rounds, seed=seed + 1000 * k, **common).state
        for k, s in enumerate(specs)
    ]
    aware = list(plain)
    rows = []
    thresholds: dict[str, np.ndarray] = {}

    def record(alt: int) -> None:
        for arm, states in (("plain", plain), ("delivery-aware", aware)):
            thr = share_thresholds(
                max_confidence(_logits(specs, states, x_val, n_classes)[:-1]), shares
            )
            thresholds[arm] = thr
            logits = _logits(specs, states, x_eval, n_classes)
            tiers = cascade_answer(max_confidence(logits[:-1]), thr)
            rows.append({"arm": arm, "alternation": alt, **served_accuracy(logits, y_eval, tiers)})

    record(0)
    for a in range(1, alternations + 1):
        thr = share_thresholds(max_confidence(_logits(specs, aware, x_val, n_classes)[:-1]), shares)
        weights = reach_weights(
            max_confidence(_logits(specs, aware, x, n_classes)[:-1]), thr, temperature, floor
        )
        for k, s in enumerate(specs):
            kw = {"rounds": rounds_per_alternation, "seed": seed + 1000 * k + a, **common}
            plain[k] = run_fedavg(s, x, y, partitions, init_state=plain[k], **kw).state
            if k == 0:  # the first tier sees every request: same training in both arms
                aware[0] = plain[0]
                continue
            aware[k] = run_fedavg(
                s, x, y, partitions, init_state=aware[k], sample_weight=weights[k], **kw
            ).state
        record(a)
    return DeliveryTrainingResult(specs, plain, aware, pd.DataFrame(rows), thresholds)


def result_logits(
    result: DeliveryTrainingResult, arm: str, x: np.ndarray, n_classes: int = 10
) -> np.ndarray:
    """Logits ``(K, N, C)`` of arm ``"plain"`` or ``"delivery-aware"`` on ``x``."""
    if arm not in ("plain", "delivery-aware"):
        raise ValueError(f"unknown arm {arm!r}; choose 'plain' or 'delivery-aware'")
    states = result.plain if arm == "plain" else result.aware
    return _logits(result.specs, states, x, n_classes)
