"""Delivery policies: serve locally or forward along the path.

Every policy returns a :class:`~idn_core.delivery.evaluation.Decision` for the samples of a split
(which of the path's ``K`` tiers are queried, whose answer is returned), so all of them
are evaluated, summarised and plotted by the same code:

* :func:`local_only` and :func:`forward_to` (always answer at one tier);
* :func:`cascade_decision`: per-hop thresholds on a confidence in ``[0, 1]`` (tier ``k``
  answers iff its confidence is ``>= t_k``; ``t_k = 0`` always answers, ``t_k = 1``
  always forwards);
* :func:`oracle_decision`: forward exactly when the local answer is wrong and a model
  further up is right (the upper bound);
* :class:`GainAwareForwarding`: forward when the expected accuracy gain, estimated on
  the validation split as a function of the local confidence, outweighs ``alpha`` times
  the added latency;
* :class:`LearnedForwarding`: a small scikit-learn classifier per hop predicting, from
  the outputs seen so far, whether forwarding turns a wrong answer into a right one.

Examples
--------
>>> import numpy as np
>>> conf = np.array([[0.9, 0.2, 0.1], [0.5, 0.8, 0.1]])  # device, edge confidences
>>> cascade_decision(conf, [0.5, 0.5]).answer_tier.tolist()
[0, 1, 2]
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from sklearn.base import clone
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.isotonic import IsotonicRegression
from sklearn.model_selection import StratifiedKFold, cross_val_predict

from idn_core._util.validation import (
    check_non_negative,
    check_positive_int,
    check_probabilities,
    check_seed,
    check_type,
)
from idn_core.delivery.evaluation import Decision
from idn_core.learning.scores import SCORES, confidence


def _cascade_queried(answer: np.ndarray, n_tiers: int) -> np.ndarray:
    return np.arange(n_tiers) <= answer[..., None]


def local_only(n_samples: int, n_tiers: int) -> Decision:
    """Every request answered by the device's own model."""
    return forward_to(0, n_samples, n_tiers)


def forward_to(tier: int, n_samples: int, n_tiers: int) -> Decision:
    """Every request sent straight to ``tier`` (only that model is queried)."""
    check_positive_int("n_samples", n_samples)
    check_positive_int("n_tiers", n_tiers)
    check_type("tier", tier, (int, np.integer))
    if not 0 <= tier < n_tiers:
        raise ValueError(f"tier must lie in [0, {n_tiers}), got {tier}")
    queried = np.zeros((n_samples, n_tiers), dtype=bool)
    queried[:, tier] = True
    return Decision(queried, np.full(n_samples, tier, dtype=np.int64))


def check_thresholds(thresholds: np.ndarray, n_hops: int) -> np.ndarray:
    """Validate per-hop thresholds: shape ``(..., n_hops)``, finite, in ``[0, 1]``."""
    t = np.asarray(thresholds, dtype=float)
    if t.shape[-1:] != (n_hops,):
        raise ValueError(f"need {n_hops} thresholds (one per hop), got shape {t.shape}")
    if np.isnan(t).any():
        raise ValueError("thresholds contain NaN")
    if (t < 0).any() or (t > 1).any():
        raise ValueError(f"thresholds must lie in [0, 1], got {t.ravel().tolist()}")
    return t


def effective_thresholds(thresholds: np.ndarray) -> np.ndarray:
    """Map threshold 1 to infinity so that ``conf >= t`` forwards everything at ``t = 1``."""
    return np.where(thresholds >= 1.0, np.inf, thresholds)


def cascade_answer(conf: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    """Answering tier of a threshold cascade.

    Parameters
    ----------
    conf : ``(H, N)`` or ``(H, D, N)`` confidences in ``[0, 1]`` of the first ``H = K - 1`` tiers.
    thresholds : ``(H,)``, or ``(D, H)`` for per-device thresholds.

    Returns
    -------
    int array ``(N,)`` (or ``(D, N)``): first tier whose confidence reaches its threshold, or ``H``.
    """
    c = np.asarray(conf, dtype=float)
    if np.isnan(c).any():
        raise ValueError("confidences contain NaN")
    if (c < 0).any() or (c > 1).any():
        raise ValueError("confidences must lie in [0, 1]; use idn_core.learning.scores.confidence")
    t = effective_thresholds(check_thresholds(thresholds, c.shape[0]))
    t = np.moveaxis(t, -1, 0)[..., None]  # (H, [D,] 1)
    h = c.shape[0]
    answer = np.full(np.broadcast_shapes(c.shape[1:], t.shape[1:]), h, dtype=np.int64)
    for k in range(h - 1, -1, -1):  # the first tier that is confident enough wins
        answer[c[k] >= t[k]] = k
    return answer


def cascade_decision(conf: np.ndarray, thresholds: np.ndarray) -> Decision:
    """Decision of a threshold cascade that queries tiers in path order (see :func:`cascade_answer`).

    ``conf`` may hold all ``K`` tiers' confidences; the last tier's is ignored.
    """
    c = np.asarray(conf, dtype=float)
    h = np.shape(thresholds)[-1] if np.ndim(thresholds) else -1
    if c.ndim < 2 or c.shape[0] not in (h, h + 1):
        raise ValueError(
            f"conf must hold the confidences of the {h} hops (or of all {h + 1} tiers), "
            f"one row per tier, got shape {c.shape} for thresholds of shape {np.shape(thresholds)}"
        )
    answer = cascade_answer(c[:h], thresholds)
    return Decision(_cascade_queried(answer, h + 1), answer)


def oracle_answer(correct: np.ndarray) -> np.ndarray:
    """First tier (device first) whose model is right, or 0 when none is: ``(N,)``."""
    corr = np.asarray(correct, dtype=bool)
    if corr.ndim != 2 or 0 in corr.shape:
        raise ValueError(f"correct must have a non-empty shape (K, N), got {corr.shape}")
    return np.where(corr.any(axis=0), corr.argmax(axis=0), 0)


def oracle_decision(correct: np.ndarray, skip: bool = True) -> Decision:
    """The oracle: forward exactly when the local answer is wrong and a model further up is right.

    It forwards to the first tier that is right; with ``skip`` it queries only the device
    and that tier (the request passes the tiers in between without computing there),
    otherwise every tier up to it. Its accuracy is the share of samples some tier gets right.
    """
    answer = oracle_answer(correct)
    k = np.shape(correct)[0]
    if skip:
        queried = np.zeros((answer.size, k), dtype=bool)
        queried[:, 0] = True
        queried[np.arange(answer.size), answer] = True
    else:
        queried = _cascade_queried(answer, k)
    return Decision(queried, answer)


@dataclass
class GainAwareForwarding:
    """Forward at hop ``k`` when ``E[gain | confidence] > alpha * E[added latency | confidence]``.

    Fitted on the validation split by backward induction from the cloud: the value of a
    request at tier ``k`` is ``correct - alpha * latency`` of the outcome it finally gets;
    the expected advantage of forwarding, as a function of the local confidence, is fitted
    by isotonic regression (decreasing: the surer the local model, the less to gain).

    Parameters
    ----------
    alpha : accuracy traded per millisecond (``>= 0``); 0 forwards whenever it helps at all.
    """

    alpha: float
    models_: list[list[IsotonicRegression]] = field(default_factory=list, init=False)

    def fit(
        self, conf: np.ndarray, correct: np.ndarray, answer_latency_ms: np.ndarray
    ) -> GainAwareForwarding:
        """Fit on validation confidences ``(K-1, N)``, correctness ``(K, N)`` and latencies ``(D, K)``."""
        check_non_negative("alpha", self.alpha)
        conf = np.asarray(conf, dtype=float)
        if not np.isfinite(conf).all() or (conf < 0).any() or (conf > 1).any():
            raise ValueError("conf must hold finite confidences in [0, 1]")
        corr = np.asarray(correct, dtype=float)
        lat = np.atleast_2d(np.asarray(answer_latency_ms, dtype=float))
        h = corr.shape[0] - 1
        if np.shape(conf)[0] < h or lat.shape[1] != h + 1:
            raise ValueError(
                f"need {h} confidences and {h + 1} latencies per device, got {np.shape(conf)}, {lat.shape}"
            )
        self.models_ = []
        for row in lat:
            value = corr[h] - self.alpha * row[h]
            fitted: list[IsotonicRegression] = [None] * h  # type: ignore[list-item]
            for k in range(h - 1, -1, -1):
                stay = corr[k] - self.alpha * row[k]
                iso = IsotonicRegression(increasing=False, out_of_bounds="clip").fit(
                    conf[k], value - stay
                )
                forward = iso.predict(conf[k]) > 0
                value = np.where(forward, value, stay)
                fitted[k] = iso
            self.models_.append(fitted)
        return self

    def gain(self, conf: np.ndarray, hop: int, device: int = 0) -> np.ndarray:
        """Fitted expected advantage of forwarding at ``hop`` for confidences ``conf``."""
        return self.models_[device][hop].predict(np.asarray(conf, dtype=float))

    def decide(self, conf: np.ndarray) -> Decision:
        """Decision on confidences ``(K-1, N)``; per device ``(D, N, K)`` if fitted on several latency rows."""
        if not self.models_:
            raise RuntimeError("call fit() first")
        h = len(self.models_[0])
        answers = []
        for d in range(len(self.models_)):
            stay = [self.gain(conf[k], k, d) <= 0 for k in range(h)]
            stay.append(np.ones(np.shape(conf)[1], dtype=bool))
            answers.append(np.argmax(np.stack(stay), axis=0))
        answer = answers[0] if len(answers) == 1 else np.stack(answers)
        return Decision(_cascade_queried(answer, h + 1), answer)


def forwarding_features(probs: np.ndarray, hop: int) -> np.ndarray:
    """Features for the forwarding decision at ``hop``: ``(N, F)``.

    The request carries the outputs of the tiers it has visited, so hop ``k`` sees the
    sorted probability vectors and the three confidence scores of tiers ``0..k`` and
    whether tier ``k``'s predicted class agrees with each lower tier's.
    """
    p = check_probabilities("probs", probs)
    feats = []
    for j in range(hop + 1):
        feats.append(np.sort(p[j], axis=1)[:, ::-1])
        feats.extend(confidence(p[j], s)[:, None] for s in SCORES)
    for j in range(hop):
        feats.append((p[j].argmax(1) == p[hop].argmax(1))[:, None].astype(float))
    return np.hstack(feats)


@dataclass
class LearnedForwarding:
    """Learned forwarding rule: per hop, a classifier of "forwarding turns wrong into right".

    The target at hop ``k`` is: tier ``k`` is wrong and some tier above it is right (the
    oracle's reason to forward), as in learning to defer and LLM routers. Its output gives
    a confidence ``1 - P(forwarding helps)`` that plugs into :func:`cascade_decision`, so
    thresholds are searched exactly like those of the score-based cascades.

    Parameters
    ----------
    estimator : scikit-learn classifier with ``predict_proba`` (default: a small
        ``HistGradientBoostingClassifier``).
    n_folds : folds of the out-of-fold scores used to choose thresholds on validation.
    seed : seeds the folds and the estimator.
    """

    estimator: object | None = None
    n_folds: int = 5
    seed: int = 0
    models_: list = field(default_factory=list, init=False)
    oof_conf_: np.ndarray | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        check_positive_int("n_folds", self.n_folds, 2)
        check_seed(self.seed)

    def _base(self):
        if self.estimator is not None:
            return clone(self.estimator)
        return HistGradientBoostingClassifier(
            max_iter=150,
            learning_rate=0.05,
            max_leaf_nodes=15,
            l2_regularization=1.0,
            random_state=self.seed,
        )

    def fit(self, probs: np.ndarray, correct: np.ndarray) -> LearnedForwarding:
        """Fit on validation probabilities ``(K, N, C)`` and correctness ``(K, N)``."""
        corr = np.asarray(correct, dtype=bool)
        k = corr.shape[0]
        if np.shape(probs)[:2] != corr.shape:
            raise ValueError(f"probs {np.shape(probs)} and correct {corr.shape} disagree on (K, N)")
        folds = StratifiedKFold(self.n_folds, shuffle=True, random_state=self.seed)
        self.models_, oof = [], []
        for hop in range(k - 1):
            x = forwarding_features(probs, hop)
            y = (~corr[hop] & corr[hop + 1 :].any(axis=0)).astype(int)
            if y.min() == y.max():
                raise ValueError(
                    f"hop {hop}: forwarding never (or always) helps on this split; cannot learn"
                )
            oof.append(
                1.0 - cross_val_predict(self._base(), x, y, cv=folds, method="predict_proba")[:, 1]
            )
            self.models_.append(self._base().fit(x, y))
        self.oof_conf_ = np.stack(oof)
        return self

    def confidences(self, probs: np.ndarray) -> np.ndarray:
        """Learned confidence ``1 - P(forwarding helps)`` per hop: ``(K-1, N)``."""
        if not self.models_:
            raise RuntimeError("call fit() first")
        return np.stack(
            [
                1.0 - m.predict_proba(forwarding_features(probs, h))[:, 1]
                for h, m in enumerate(self.models_)
            ]
        )
