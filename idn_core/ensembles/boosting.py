"""Boosting along the path: multi-class AdaBoost (SAMME) with exact early stopping.

Member ``k`` sits further up the path than member ``k - 1`` and is trained with sample
weights that emphasise what the members before it get wrong (SAMME, the multi-class
AdaBoost of Zhu et al., as in scikit-learn's ``AdaBoostClassifier``; Schapire 1999). At
inference the members are queried in path order and the request carries the running
weighted vote. Querying stops as soon as the members not yet queried **can no longer
change the vote**: when the leader's margin over the runner-up exceeds the total weight
still to come (exact: the prediction equals the full ensemble's), or earlier under an
optional confidence rule (the leader holds a share ``tau`` of the weight seen so far).
Only the members actually queried cost delay.

Examples
--------
>>> import numpy as np
>>> pred = np.array([[1, 1, 0], [1, 0, 0], [2, 2, 0]])  # 3 members, 3 samples
>>> d = early_stop_decision(pred, np.array([2.0, 1.5, 1.0]), n_classes=3)
>>> d.answer_tier.tolist(), d.prediction.tolist()
([1, 2, 1], [1, 1, 0])
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from idn_core._util.validation import check_fraction, check_positive, check_positive_int
from idn_core.delivery.evaluation import Decision
from idn_core.ensembles.combining import vote_counts


@dataclass(frozen=True)
class SammeResult:
    """What SAMME learned.

    Attributes
    ----------
    alphas : ``(M,)`` member weights ``lr * (log((1 - err) / err) + log(C - 1))``.
    errors : ``(M,)`` weighted training error of each member.
    sample_weights : ``(M, N)`` normalised weights each member was trained with.
    n_classes : number of classes ``C``.
    """

    alphas: np.ndarray
    errors: np.ndarray
    sample_weights: np.ndarray
    n_classes: int

    @property
    def n_members(self) -> int:
        return int(self.alphas.shape[0])


def samme(
    train_member: Callable[[int, np.ndarray], np.ndarray],
    labels: np.ndarray,
    n_classes: int,
    n_members: int,
    learning_rate: float = 1.0,
    sample_weight: np.ndarray | None = None,
) -> SammeResult:
    """Discrete SAMME, step for step as scikit-learn's ``AdaBoostClassifier`` (1.6+).

    Parameters
    ----------
    train_member : ``train_member(k, w)`` trains member ``k`` with sample weights ``w``
        ``(N,)`` (summing to one) and returns its predicted classes ``(N,)`` on the
        training samples.
    labels : int ``(N,)`` training labels in ``[0, C)``.
    n_classes : ``C >= 2``.
    n_members : number of members ``M`` to train.
    learning_rate : shrinks every member weight.
    sample_weight : optional initial weights (uniform by default).

    Boosting stops early, as scikit-learn's, when a member is perfect (it gets weight 1)
    or no better than chance (``err >= 1 - 1/C``: discarded; an error if it is the first).
    """
    y = np.asarray(labels)
    check_positive_int("n_classes", n_classes, minimum=2)
    check_positive_int("n_members", n_members)
    check_positive("learning_rate", learning_rate)
    w = _start_weights(y, n_classes, sample_weight)
    zero = w == 0.0
    eps = np.finfo(float).eps
    alphas, errors, used = [], [], []
    for k in range(n_members):
        w = np.clip(w, eps, None)
        w[zero] = 0.0
        pred = np.asarray(train_member(k, w.copy()))
        if pred.shape != y.shape:
            raise ValueError(
                f"member {k} returned predictions of shape {pred.shape}, need {y.shape}"
            )
        wrong = pred != y
        err = float(np.average(wrong, weights=w))
        if err <= 0:
            alphas.append(1.0), errors.append(0.0), used.append(w.copy())
            break
        if err >= 1.0 - 1.0 / n_classes:
            if k == 0:
                raise ValueError("the first member is no better than chance; SAMME cannot start")
            break
        alpha = learning_rate * (np.log((1.0 - err) / err) + np.log(n_classes - 1.0))
        alphas.append(alpha), errors.append(err), used.append(w.copy())
        if k < n_members - 1:
            w = np.exp(np.log(w) + alpha * wrong * (w > 0))
            total = w.sum()
            if not np.isfinite(total) or total <= 0:
                break
            w = w / total
    return SammeResult(np.array(alphas), np.array(errors), np.stack(used), n_classes)


def _start_weights(y: np.ndarray, n_classes: int, sample_weight: np.ndarray | None) -> np.ndarray:
    """Normalised initial sample weights ``(N,)``; raise on bad labels ``y`` or weights."""
    if y.ndim != 1 or y.size == 0 or y.min() < 0 or y.max() >= n_classes:
        raise ValueError(f"labels must be a non-empty 1-D array in [0, {n_classes})")
    w = np.ones(y.size) if sample_weight is None else np.asarray(sample_weight, float).copy()
    if w.shape != y.shape or not np.isfinite(w).all() or (w < 0).any() or w.sum() <= 0:
        raise ValueError("sample_weight must be finite, >= 0, not all 0, one per sample")
    return w / w.sum()


def samme_decision_function(
    predictions: np.ndarray, alphas: np.ndarray, n_classes: int
) -> np.ndarray:
    """scikit-learn's SAMME ``decision_function`` ``(N, C)`` (``C > 2``) from predictions ``(M, N)``.

    Member ``m`` adds ``alpha_m`` to its predicted class and ``-alpha_m / (C - 1)`` to the
    others; the sum is divided by ``sum(alpha)``. Its argmax is the weighted vote's.
    """
    a = np.asarray(alphas, dtype=float)
    votes = vote_counts(predictions, n_classes, a)
    return (votes * n_classes / (n_classes - 1) - a.sum() / (n_classes - 1)) / a.sum()


def samme_predict(predictions: np.ndarray, alphas: np.ndarray, n_classes: int) -> np.ndarray:
    """Class ``(N,)`` of the weighted vote of every member (ties to the lowest class)."""
    return vote_counts(predictions, n_classes, np.asarray(alphas, float)).argmax(axis=1)


def early_stop_decision(
    predictions: np.ndarray,
    alphas: np.ndarray,
    n_classes: int,
    tau: float | None = None,
) -> Decision:
    """Query boosted members in path order and stop once the vote is decided.

    After members ``0..k`` the votes ``V_c`` are known and ``R = sum_{j > k} alpha_j`` is
    still to come. If the leader ``c*`` beats every other class by more than ``R``, no
    answer of the remaining members can change (or tie) the vote: stopping is **exact**.
    With ``tau`` in ``(0, 1]`` querying also stops once the leader holds a share ``>= tau``
    of the weight seen so far (cheaper, no longer exact).

    Parameters
    ----------
    predictions : int ``(M, N)`` member predictions (path order).
    alphas : ``(M,)`` non-negative member weights (e.g. :attr:`SammeResult.alphas`).
    n_classes : number of classes.
    tau : optional confidence rule.

    Returns
    -------
    Decision: members ``0..stop`` queried, member ``stop`` answers with the leader at that point.
    """
    pred = np.asarray(predictions)
    a = np.asarray(alphas, dtype=float)
    if pred.ndim != 2 or a.shape != (pred.shape[0],):
        raise ValueError(f"need predictions (M, N) and alphas (M,), got {pred.shape}, {a.shape}")
    if not np.isfinite(a).all() or (a < 0).any():
        raise ValueError("alphas must be finite and >= 0")
    if tau is not None:
        check_fraction("tau", tau, open_low=True)
    m, n = pred.shape
    votes = np.zeros((n, n_classes))
    rows = np.arange(n)
    stop = np.full(n, m - 1)
    answer_pred = np.zeros(n, dtype=np.int64)
    open_ = np.ones(n, dtype=bool)
    remaining = np.r_[np.cumsum(a[::-1])[::-1][1:], 0.0]  # weight of members after k
    seen = np.cumsum(a)
    for k in range(m):
        np.add.at(votes, (rows, pred[k]), a[k])
        top2 = np.partition(votes, n_classes - 2, axis=1)[:, -2:]
        margin = top2[:, 1] - top2[:, 0]
        done = margin > remaining[k]
        if tau is not None and seen[k] > 0:
            done |= top2[:, 1] >= tau * seen[k]
        if k == m - 1:
            done[:] = True
        newly = open_ & done
        stop[newly] = k
        answer_pred[newly] = votes[newly].argmax(axis=1)
        open_ &= ~done
        if not open_.any():
            break
    queried = np.arange(m) <= stop[:, None]
    return Decision(queried, stop, answer_pred)
