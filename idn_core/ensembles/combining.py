"""Combining the answers of models held by different nodes: voting, stacking, query-on-doubt.

Members of an IDN ensemble were not trained together: they sit on different nodes, may
have different architectures and may have seen different data. What they share is their
output on a request, so every rule here combines **pre-computed outputs** (probabilities
``(M, N, C)`` or predicted classes ``(M, N)``), and every ensemble policy returns a
:class:`~idn_core.delivery.evaluation.Decision` (which members are queried, which tier answers, the
combined prediction) evaluated by the same code as chapter 2's cascades.

Rules (Mienye and Sun 2022 survey them; Wang et al. 2022 cascade them):

* :func:`hard_vote`: (weighted) majority of predicted classes, ties to the lowest class;
* :func:`soft_vote`: (weighted) mean of probabilities;
* :func:`log_vote`: (weighted) sum of log-probabilities (a product of experts);
* :func:`vote_weights`: weights from validation accuracy or its log-odds;
* :class:`Stacking`: a scikit-learn logistic regression on the members' log-probabilities,
  fitted on held-out (validation) outputs.

Policies: :func:`full_ensemble_decision` (query every member),
:func:`ensemble_cascade_decision` (query members in path order, stop once the running
combination is confident: a cascade of ensembles) and :func:`query_on_doubt_decision`
(combine the local answer with remote ones only when the local model is unsure).

Examples
--------
>>> import numpy as np
>>> hard_vote(np.array([[0, 1], [2, 1], [2, 0]]), n_classes=3).tolist()
[2, 1]
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

from idn_core._util.validation import (
    check_choice,
    check_fraction,
    check_positive,
    check_positive_int,
    check_probabilities,
    check_seed,
)
from idn_core.delivery.evaluation import Decision
from idn_core.delivery.policies import cascade_answer
from idn_core.learning.outputs import softmax
from idn_core.learning.scores import confidence

RULES = ("hard", "soft", "log")
VOTE_WEIGHTINGS = ("equal", "accuracy", "log_odds")
_LOG_FLOOR = 1e-6  # probabilities are floored here before taking logs (a 0 would be -inf)


def _check_weights(weights: np.ndarray | None, n_members: int) -> np.ndarray:
    if weights is None:
        return np.ones(n_members)
    w = np.asarray(weights, dtype=float)
    if w.shape != (n_members,):
        raise ValueError(f"need {n_members} member weights, got shape {w.shape}")
    if not np.isfinite(w).all() or (w < 0).any() or w.sum() <= 0:
        raise ValueError(f"member weights must be finite, >= 0 and not all 0, got {w.tolist()}")
    return w


def hard_vote(
    predictions: np.ndarray, n_classes: int, weights: np.ndarray | None = None
) -> np.ndarray:
    """Weighted majority vote of predicted classes.

    Parameters
    ----------
    predictions : int ``(M, N)`` class predicted by member ``m`` for sample ``n``.
    n_classes : number of classes ``C``.
    weights : optional ``(M,)`` non-negative vote weights (equal by default).

    Returns
    -------
    int ``(N,)``: the class with the largest total weight; ties go to the lowest class
    (as ``np.argmax`` and scikit-learn's ``VotingClassifier(voting="hard")``).
    """
    return vote_counts(predictions, n_classes, weights).argmax(axis=1)


def vote_counts(
    predictions: np.ndarray, n_classes: int, weights: np.ndarray | None = None
) -> np.ndarray:
    """Total vote weight ``(N, C)`` of each class (see :func:`hard_vote`)."""
    check_positive_int("n_classes", n_classes, minimum=2)
    pred = np.asarray(predictions)
    if pred.ndim != 2:
        raise ValueError(f"predictions must have shape (members, samples), got {pred.shape}")
    if pred.size and not np.issubdtype(pred.dtype, np.integer):
        raise TypeError(f"predictions must be integer classes, got dtype {pred.dtype}")
    if pred.size and (pred.min() < 0 or pred.max() >= n_classes):
        raise ValueError(f"predictions must lie in [0, {n_classes})")
    w = _check_weights(weights, pred.shape[0])
    counts = np.zeros((pred.shape[1], n_classes))
    rows = np.arange(pred.shape[1])
    for m in range(pred.shape[0]):
        np.add.at(counts, (rows, pred[m]), w[m])
    return counts


def soft_vote(probs: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
    """Weighted mean ``(N, C)`` of the members' probabilities ``(M, N, C)``."""
    p = check_probabilities("probs", probs)
    if p.ndim != 3:
        raise ValueError(f"probs must have shape (members, samples, classes), got {p.shape}")
    w = _check_weights(weights, p.shape[0])
    return np.tensordot(w / w.sum(), p, axes=1)


def log_vote(probs: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
    """Product of experts: ``softmax(sum_m w_m log p_m)`` as probabilities ``(N, C)``."""
    p = check_probabilities("probs", probs)
    if p.ndim != 3:
        raise ValueError(f"probs must have shape (members, samples, classes), got {p.shape}")
    w = _check_weights(weights, p.shape[0])
    return softmax(np.tensordot(w, np.log(np.maximum(p, _LOG_FLOOR)), axes=1))


def vote_weights(correct: np.ndarray, kind: str = "log_odds", n_classes: int = 10) -> np.ndarray:
    """Member weights ``(M,)`` from held-out correctness ``(M, N)``.

    ``"equal"`` gives ones; ``"accuracy"`` the accuracy ``a_m``; ``"log_odds"`` the weight
    SAMME gives a member of that accuracy, ``log(a / (1 - a)) + log(C - 1)``, with
    ``a = (hits + 0.5) / (N + 1)`` so that a perfect member gets a finite weight. A member
    no better than chance (``a <= 1/C``) gets weight 0.
    """
    check_choice("weighting", kind, VOTE_WEIGHTINGS)
    check_positive_int("n_classes", n_classes, minimum=2)
    corr = np.asarray(correct, dtype=bool)
    if corr.ndim != 2 or corr.shape[1] == 0:
        raise ValueError(f"correct must have shape (members, samples), got {corr.shape}")
    if kind == "equal":
        return np.ones(corr.shape[0])
    acc = (corr.sum(axis=1) + 0.5) / (corr.shape[1] + 1.0)
    if kind == "accuracy":
        return acc
    return np.maximum(np.log(acc / (1 - acc)) + np.log(n_classes - 1.0), 0.0)


def combine(probs: np.ndarray, rule: str = "soft", weights: np.ndarray | None = None) -> np.ndarray:
    """Combined probabilities ``(N, C)`` of members ``(M, N, C)`` under ``rule`` (:data:`RULES`).

    The hard vote returns each class's share of the vote weight, so that a confidence
    score (and a threshold) means the same for every rule.
    """
    check_choice("rule", rule, RULES)
    if rule == "soft":
        return soft_vote(probs, weights)
    if rule == "log":
        return log_vote(probs, weights)
    p = check_probabilities("probs", probs)
    w = _check_weights(weights, p.shape[0])
    return vote_counts(p.argmax(axis=2), p.shape[2], w) / w.sum()


def running_combination(
    probs: np.ndarray, rule: str = "soft", weights: np.ndarray | None = None
) -> np.ndarray:
    """Combination of members ``0..k`` for every ``k``: ``(M, N, C)`` (``[0]`` is member 0 alone)."""
    p = check_probabilities("probs", probs)
    w = _check_weights(weights, p.shape[0])
    return np.stack([combine(p[: k + 1], rule, w[: k + 1]) for k in range(p.shape[0])])


def _features(probs: np.ndarray) -> np.ndarray:
    """Stacking features ``(N, M * C)``: each member's log-probabilities."""
    p = np.log(np.maximum(check_probabilities("probs", probs), _LOG_FLOOR))
    return p.transpose(1, 0, 2).reshape(p.shape[1], -1)


@dataclass
class Stacking:
    """A learned combiner: multinomial logistic regression on the members' log-probabilities.

    Features are standardised first (log-probabilities span ``[log 1e-6, 0]``), which
    also makes the L2 penalty treat every member alike.

    Fitted on held-out outputs (the validation split), never on the data the members were
    trained on; ``oof_proba_`` holds out-of-fold probabilities on that split, so policies
    built on the combiner can be tuned on it without the optimism of in-sample fits.

    Parameters
    ----------
    c : inverse L2 regularisation strength of the logistic regression.
    n_folds : folds of the out-of-fold probabilities.
    seed : seeds the folds.
    """

    c: float = 0.01
    n_folds: int = 5
    seed: int = 0
    model_: Pipeline | None = field(default=None, init=False)
    oof_proba_: np.ndarray | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        check_positive("c", self.c)
        check_positive_int("n_folds", self.n_folds, 2)
        check_seed(self.seed)

    def _base(self) -> Pipeline:
        return make_pipeline(
            StandardScaler(), LogisticRegression(C=check_positive("c", self.c), max_iter=1000)
        )

    def fit(self, probs: np.ndarray, labels: np.ndarray) -> Stacking:
        """Fit on held-out probabilities ``(M, N, C)`` and labels ``(N,)``."""
        x, y = _features(probs), np.asarray(labels)
        if y.shape != (x.shape[0],):
            raise ValueError(f"labels must have shape ({x.shape[0]},), got {y.shape}")
        n_classes = np.shape(probs)[2]
        if np.unique(y).size != n_classes:
            raise ValueError(f"stacking needs every one of the {n_classes} classes in the labels")
        folds = StratifiedKFold(
            check_positive_int("n_folds", self.n_folds, 2), shuffle=True, random_state=self.seed
        )
        self.oof_proba_ = cross_val_predict(self._base(), x, y, cv=folds, method="predict_proba")
        self.model_ = self._base().fit(x, y)
        return self

    def predict_proba(self, probs: np.ndarray) -> np.ndarray:
        """Combined probabilities ``(N, C)`` for members' probabilities ``(M, N, C)``."""
        if self.model_ is None:
            raise RuntimeError("call fit() first")
        return self.model_.predict_proba(_features(probs))


def stacked_running(
    val_probs: np.ndarray,
    val_labels: np.ndarray,
    test_probs: np.ndarray,
    member_stage: np.ndarray | None = None,
    c: float = 0.01,
) -> tuple[np.ndarray, np.ndarray]:
    """Running stacked combination of the members of stages ``0..s`` on validation and test.

    ``member_stage`` ``(M,)`` groups members into stages (default: one member per stage).
    A stage-0 singleton is returned as is; every other prefix gets its own
    :class:`Stacking` fitted on the validation outputs, whose out-of-fold probabilities
    are returned for validation. Returns two arrays ``(S, N, C)``.
    """
    v, t = (
        check_probabilities("val_probs", val_probs),
        check_probabilities("test_probs", test_probs),
    )
    stage = np.arange(v.shape[0]) if member_stage is None else np.asarray(member_stage, int)
    if stage.shape != (v.shape[0],) or (np.diff(stage) < 0).any() or stage[0] != 0:
        raise ValueError(f"member_stage must be non-decreasing from 0, one per member, got {stage}")
    run_v, run_t = [], []
    for s in range(int(stage[-1]) + 1):
        keep = stage <= s
        if keep.sum() == 1:
            run_v.append(v[keep][0])
            run_t.append(t[keep][0])
            continue
        st = Stacking(c=c).fit(v[keep], val_labels)
        run_v.append(st.oof_proba_)
        run_t.append(st.predict_proba(t[keep]))
    return np.stack(run_v), np.stack(run_t)


def full_ensemble_decision(combined: np.ndarray, n_members: int) -> Decision:
    """Every member queried; the deepest answers with the combined class.

    ``combined`` is ``(N, C)`` probabilities or ``(N,)`` classes.
    """
    pred = np.asarray(combined)
    pred = pred.argmax(axis=1) if pred.ndim == 2 else pred
    queried = np.ones((pred.shape[0], n_members), dtype=bool)
    return Decision(queried, np.full(pred.shape[0], n_members - 1), pred)


def ensemble_cascade_decision(
    running: np.ndarray, thresholds: np.ndarray, score: str = "max_prob"
) -> Decision:
    """A cascade of ensembles: query members in path order, stop when the combination is sure.

    Parameters
    ----------
    running : ``(M, N, C)`` combination of members ``0..k`` (:func:`running_combination`).
    thresholds : ``(M - 1,)`` per-stage thresholds on the combination's confidence in
        ``[0, 1]`` (0: always stop, 1: always go on), as for a threshold cascade.
    score : confidence score (:data:`idn_core.learning.scores.SCORES`).
    """
    run = check_probabilities("running", running)
    conf = confidence(run[:-1], score)
    answer = cascade_answer(conf, thresholds)
    queried = np.arange(run.shape[0]) <= answer[:, None]
    pred = run.argmax(axis=2)[answer, np.arange(run.shape[1])]
    return Decision(queried, answer, pred)


def query_on_doubt_decision(
    local_conf: np.ndarray,
    threshold: float,
    local_pred: np.ndarray,
    doubt_pred: np.ndarray,
    remote: tuple[int, ...] | list[int],
    n_tiers: int,
) -> Decision:
    """Answer locally when sure; otherwise query the ``remote`` tiers and return ``doubt_pred``.

    Parameters
    ----------
    local_conf : ``(N,)`` confidence of the local (tier 0) model in ``[0, 1]``.
    threshold : the local model answers alone iff ``local_conf >= threshold`` (1 = always doubt).
    local_pred : ``(N,)`` the local model's class.
    doubt_pred : ``(N,)`` the class returned on doubt: the *combination* of the local and
        remote answers (query-on-doubt), or the remote answer alone (plain forwarding).
    remote : tiers queried on doubt (e.g. ``(2,)`` the cloud, ``(1, 2)`` edge and cloud).
    n_tiers : number of tiers ``K`` on the path.
    """
    conf = np.asarray(local_conf, dtype=float)
    if conf.ndim != 1 or np.isnan(conf).any() or (conf < 0).any() or (conf > 1).any():
        raise ValueError("local_conf must be a 1-D array of confidences in [0, 1]")
    check_fraction("threshold", threshold)
    tiers = sorted(set(int(r) for r in remote))
    if not tiers or tiers[0] < 1 or tiers[-1] >= n_tiers:
        raise ValueError(f"remote tiers must lie in [1, {n_tiers}), got {list(remote)}")
    doubt = conf < (np.inf if threshold >= 1 else threshold)
    queried = np.zeros((conf.size, n_tiers), dtype=bool)
    queried[:, 0] = True
    queried[np.ix_(doubt, tiers)] = True
    answer = np.where(doubt, tiers[-1], 0)
    pred = np.where(doubt, np.asarray(doubt_pred), np.asarray(local_pred))
    return Decision(queried, answer, pred)
