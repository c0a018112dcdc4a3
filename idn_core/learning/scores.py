"""Confidence scores, temperature scaling and reliability of a model's probabilities.

A node decides whether to answer from how sure its model is. Three scores are offered,
each normalised to ``[0, 1]`` (0 = no information, 1 = certain) so that one threshold
slider means the same thing for all of them:

* ``"max_prob"``: ``(p_max - 1/C) / (1 - 1/C)``;
* ``"margin"``: ``p_max - p_second``;
* ``"neg_entropy"``: ``1 - H(p) / log C``.

Temperature scaling (Guo et al. 2017) divides a model's logits by one scalar ``T > 0``
fitted on the validation split by minimising the negative log-likelihood; it changes the
confidences but never the predicted class.

Examples
--------
>>> import numpy as np
>>> p = np.array([[0.5, 0.5], [1.0, 0.0]])
>>> confidence(p, "max_prob").tolist()
[0.0, 1.0]
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.optimize import minimize_scalar
from scipy.special import log_softmax
from sklearn.metrics import roc_auc_score

from idn_core._util.validation import check_choice, check_positive_int, check_probabilities
from idn_core.learning.outputs import OutputsTable

SCORES = ("max_prob", "margin", "neg_entropy")


def confidence(probs: np.ndarray, score: str = "max_prob") -> np.ndarray:
    """Normalised confidence of each probability vector.

    Parameters
    ----------
    probs : array ``(..., C)`` of probability vectors (validated: no NaN, non-negative,
        rows summing to one), ``C >= 2``.
    score : one of :data:`SCORES`.

    Returns
    -------
    array ``(...)`` of confidences in ``[0, 1]``.
    """
    check_choice("score", score, SCORES)
    p = check_probabilities("probs", probs)
    n_classes = p.shape[-1]
    if n_classes < 2:
        raise ValueError(f"confidence needs at least 2 classes, got {n_classes}")
    if score == "max_prob":
        out = (p.max(axis=-1) - 1.0 / n_classes) / (1.0 - 1.0 / n_classes)
    elif score == "margin":
        top2 = np.partition(p, n_classes - 2, axis=-1)[..., -2:]
        out = top2[..., 1] - top2[..., 0]
    else:
        with np.errstate(divide="ignore", invalid="ignore"):
            plogp = np.where(p > 0, p * np.log(p), 0.0)
        out = 1.0 + plogp.sum(axis=-1) / np.log(n_classes)
    # Rounding of sums of probabilities can step a few ulps outside [0, 1].
    return np.clip(out, 0.0, 1.0)


def fit_temperature(logits: np.ndarray, labels: np.ndarray) -> float:
    """Temperature ``T`` minimising the mean negative log-likelihood of ``softmax(logits / T)``.

    Parameters
    ----------
    logits : float array ``(N, C)``, finite.
    labels : int array ``(N,)`` in ``[0, C)``.

    Returns
    -------
    float, the fitted temperature (searched over ``log T`` in ``[-4, 4]``).
    """
    z = np.asarray(logits, dtype=float)
    y = np.asarray(labels)
    if z.ndim != 2 or y.shape != (z.shape[0],):
        raise ValueError(f"need logits (N, C) and labels (N,), got {z.shape} and {y.shape}")
    if not np.isfinite(z).all():
        raise ValueError("logits contain NaN or infinity")
    if y.min() < 0 or y.max() >= z.shape[1]:
        raise ValueError(f"labels must lie in [0, {z.shape[1]})")
    rows = np.arange(len(y))

    def nll(log_t: float) -> float:
        return float(-log_softmax(z / np.exp(log_t), axis=1)[rows, y].mean())

    res = minimize_scalar(nll, bounds=(-4.0, 4.0), method="bounded", options={"xatol": 1e-5})
    return float(np.exp(res.x))


def fit_temperatures(table: OutputsTable) -> np.ndarray:
    """One fitted temperature per model of ``table`` (fit on the validation split), ``(M,)``."""
    return np.array([fit_temperature(table.logits[m], table.labels) for m in range(table.n_models)])


def table_confidences(
    table: OutputsTable, score: str = "max_prob", temperatures: np.ndarray | None = None
) -> np.ndarray:
    """Confidence ``(M, N)`` of every model of ``table`` on every sample (optionally calibrated)."""
    return confidence(table.probs(temperatures), score)


def reliability_curve(probs: np.ndarray, labels: np.ndarray, n_bins: int = 15) -> pd.DataFrame:
    """Reliability diagram data: accuracy against mean max-probability in equal-width bins.

    Parameters
    ----------
    probs : array ``(N, C)`` of probability vectors.
    labels : int array ``(N,)``.
    n_bins : number of equal-width bins of the max probability on ``[0, 1]``.

    Returns
    -------
    DataFrame with one row per non-empty bin: ``bin_low``, ``bin_high``, ``confidence``
    (mean max probability), ``accuracy``, ``count``.
    """
    p = check_probabilities("probs", probs)
    check_positive_int("n_bins", n_bins)
    y = np.asarray(labels)
    if p.ndim != 2 or y.shape != (p.shape[0],):
        raise ValueError(f"need probs (N, C) and labels (N,), got {p.shape} and {y.shape}")
    conf = p.max(axis=1)
    right = p.argmax(axis=1) == y
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    idx = np.clip(np.digitize(conf, edges[1:-1], right=True), 0, n_bins - 1)
    count = np.bincount(idx, minlength=n_bins)
    mean_conf = np.bincount(idx, weights=conf, minlength=n_bins)
    acc = np.bincount(idx, weights=right, minlength=n_bins)
    keep = count > 0
    return pd.DataFrame(
        {
            "bin_low": edges[:-1][keep],
            "bin_high": edges[1:][keep],
            "confidence": mean_conf[keep] / count[keep],
            "accuracy": acc[keep] / count[keep],
            "count": count[keep],
        }
    )


def expected_calibration_error(probs: np.ndarray, labels: np.ndarray, n_bins: int = 15) -> float:
    """Expected calibration error: count-weighted mean ``|accuracy - confidence|`` over bins."""
    curve = reliability_curve(probs, labels, n_bins)
    w = curve["count"] / curve["count"].sum()
    return float((w * (curve["accuracy"] - curve["confidence"]).abs()).sum())


def error_detection_auc(conf: np.ndarray, correct: np.ndarray) -> float:
    """Area under the ROC curve of a confidence for telling right answers from wrong ones.

    0.5 = the score carries no information about errors, 1 = it separates them perfectly
    (what the oracle knows). Only the ranking of the confidences matters: any monotone
    transform of the score leaves it unchanged (temperature scaling almost does).
    """
    right = np.asarray(correct, dtype=bool)
    if right.all() or not right.any():
        raise ValueError("need both right and wrong answers to measure error detection")
    return float(roc_auc_score(right, np.asarray(conf, dtype=float)))
