"""Carried-evidence forwarding: a forwarded request carries the outputs of the models it met.

A threshold cascade throws away what the lower tiers computed: the edge decides and
predicts from its own model alone. Here a request forwarded upward carries the
probability vectors of the models that already answered it (``C`` numbers each, a few
dozen bytes), and tier ``k`` decides and predicts with a *combination* of the outputs of
tiers ``0..k``:

* ``"local"``: tier ``k``'s own (temperature-calibrated) probabilities; the evidence is
  ignored and the family is exactly the calibrated threshold cascade (a special case kept
  for checks);
* ``"product"``: the normalised product of the calibrated probabilities (sum of
  log-probabilities, i.e. a naive-Bayes pooling of independent opinions);
* ``"mean"``: their average;
* ``"stacked"``: per tier ``k >= 1``, a multinomial logistic regression on the stacked
  log-probabilities of tiers ``0..k`` (:class:`StackedEvidence`), fitted on the validation
  split; its out-of-fold probabilities on validation choose the thresholds.

The device has nothing to carry yet, so tier 0 always uses its own calibrated
probabilities. Above it, the evidence can serve two purposes at tier ``k``, and each is
used only where validation says it helps:

* **what the tier returns** (``predict="validated"``, the default): the combined class
  only where, on the validation split, it is right more often than the tier's own model
  by a margin that survives noise: the one-sided lower bound (``z =`` :data:`PREDICT_Z`)
  of the paired accuracy difference must be positive (:func:`paired_gain_lcb`).
  ``predict="combined"`` or ``"local"`` forces one or the other.
* **what the tier decides on**, its combined confidence or its own: chosen per tier on
  validation, with the cheapest setting of each rule, by
  :mod:`idn_core.delivery.evidence_choice` (which also explains why both choices are
  needed).

The carried bytes are priced: on every link on the way up the request carries one
probability vector per tier it has visited, transmitted at the link's bandwidth
(:func:`carried_latency`). Cloud-only, the oracle and the plain calibrated cascade
carry nothing.

Examples
--------
>>> import numpy as np
>>> p = np.array([[[0.6, 0.4]], [[0.3, 0.7]]])  # device, cloud on one sample
>>> combine_evidence(np.log(p), "product")[1].round(3).tolist()
[[0.391, 0.609]]
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.special import log_softmax, logsumexp
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from idn_core._util.validation import (
    check_choice,
    check_finite_array,
    check_non_negative,
    check_positive,
    check_positive_int,
    check_seed,
    check_type,
)
from idn_core.delivery.evaluation import Decision
from idn_core.delivery.experiments import DeliverySetup
from idn_core.delivery.policies import cascade_answer
from idn_core.delivery.sample_weights import SampleWeights, request_weights, uniform_weights
from idn_core.learning.outputs import OutputsTable
from idn_core.learning.scores import SCORES, confidence
from idn_core.network.latency import PathLatency
from idn_core.network.topology import Topology

#: Ways of combining the carried and local outputs (see the module docstring).
EVIDENCE_RULES = ("local", "product", "mean", "stacked")
#: The rules a chapter compares with the threshold families ("local" is the cascade itself).
COMPARED_RULES = ("product", "mean", "stacked")
#: What a tier returns (see the module docstring).
PREDICT_MODES = ("validated", "combined", "local")
#: Bytes of one carried probability (float32).
BYTES_PER_PROBABILITY = 4.0
#: One-sided level of the test that a tier's combined class beats its own (5 %).
PREDICT_Z = 1.645


def paired_gain_lcb(better: np.ndarray, base: np.ndarray, z: float = PREDICT_Z) -> float:
    """One-sided lower confidence bound of ``mean(better - base)`` over paired samples.

    ``better`` and ``base`` are bool ``(N,)`` (is each sample right under two predictors),
    ``N >= 2``; the bound is ``mean(d) - z * sd(d) / sqrt(N)`` with ``d = better - base``
    and the sample standard deviation (``ddof=1``). Positive: ``better`` is more accurate
    beyond what chance explains at level ``z``.
    """
    a, b = np.asarray(better), np.asarray(base)
    if a.dtype != bool or b.dtype != bool:
        raise TypeError(f"better and base must be bool arrays, got {a.dtype} and {b.dtype}")
    if a.ndim != 1 or a.shape != b.shape or a.size < 2:
        raise ValueError(f"better and base must share a shape (N >= 2,), got {a.shape}, {b.shape}")
    check_non_negative("z", z)
    d = a.astype(float) - b.astype(float)
    return float(d.mean() - z * d.std(ddof=1) / np.sqrt(d.size))


def _check_log_probs(log_probs: np.ndarray) -> np.ndarray:
    """``log_probs``: finite-or-minus-infinity float ``(K, N, C)``, rows normalised."""
    lp = np.asarray(log_probs)
    if lp.ndim != 3 or 0 in lp.shape:
        raise ValueError(f"log_probs must have a non-empty shape (K, N, C), got {lp.shape}")
    if not np.issubdtype(lp.dtype, np.number) or np.issubdtype(lp.dtype, np.complexfloating):
        raise TypeError(f"log_probs must be real numbers, got dtype {lp.dtype}")
    lp = lp.astype(float)
    if np.isnan(lp).any() or (lp == np.inf).any() or (lp > 1e-9).any():
        raise ValueError("log_probs must be log-probabilities: no NaN, none above 0")
    if (np.abs(logsumexp(lp, axis=-1)) > 1e-4).any():
        raise ValueError("log_probs rows must be normalised (their exponentials sum to one)")
    return lp


def log_probabilities(table: OutputsTable, temperatures: np.ndarray | None = None) -> np.ndarray:
    """Log-probabilities ``(K, N, C)`` of a table's models, optionally temperature-scaled."""
    check_type("table", table, OutputsTable)
    if temperatures is None:
        return log_softmax(table.logits.astype(float), axis=-1)
    t = check_finite_array("temperatures", temperatures).ravel()
    if t.shape != (table.n_models,) or (t <= 0).any():
        raise ValueError(
            f"temperatures must be {table.n_models} positive numbers, got {t.tolist()}"
        )
    return log_softmax(table.logits / t.reshape(-1, 1, 1), axis=-1)


def combine_evidence(log_probs: np.ndarray, rule: str) -> np.ndarray:
    """Combined probabilities ``(K, N, C)``: row ``k`` pools tiers ``0..k`` by ``rule``.

    Parameters
    ----------
    log_probs : ``(K, N, C)`` log-probabilities of the path's models (device first).
    rule : ``"local"`` (row ``k`` is tier ``k``'s own), ``"product"`` (normalised product
        of tiers ``0..k``) or ``"mean"`` (their average). ``"stacked"`` is learned:
        use :class:`StackedEvidence`.
    """
    check_choice("rule", rule, EVIDENCE_RULES[:3])
    lp = _check_log_probs(log_probs)
    if rule == "local":
        pooled = lp
    elif rule == "product":
        pooled = np.cumsum(lp, axis=0)
    else:
        pooled = np.logaddexp.accumulate(lp, axis=0)
    return np.exp(pooled - logsumexp(pooled, axis=-1, keepdims=True))


def stacked_features(log_probs: np.ndarray, tier: int) -> np.ndarray:
    """Features of tier ``tier``'s stacked rule: log-probabilities of tiers ``0..tier``, ``(N, (tier+1) C)``."""
    lp = _check_log_probs(log_probs)
    check_type("tier", tier, (int, np.integer))
    if not 0 <= tier < lp.shape[0]:
        raise ValueError(f"tier must lie in [0, {lp.shape[0]}), got {tier}")
    # A probability of exactly 0 (log -inf) is floored at the float's smallest log.
    floor = np.log(np.finfo(float).tiny)
    return np.maximum(np.concatenate(list(lp[: tier + 1]), axis=1), floor)


@dataclass
class StackedEvidence:
    """A learned combination: per tier ``k >= 1``, multinomial logistic regression on the
    standardised log-probabilities of tiers ``0..k`` (tier 0 keeps its own outputs).

    Parameters
    ----------
    c : inverse regularisation strength of the logistic regressions (``> 0``).
    n_folds : folds of the out-of-fold validation probabilities used to choose thresholds.
    seed : seeds the folds.
    """

    c: float = 1.0
    n_folds: int = 5
    seed: int = 0
    models_: list = field(default_factory=list, init=False)
    oof_probs_: np.ndarray | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        check_positive("c", self.c)
        check_positive_int("n_folds", self.n_folds, 2)
        check_seed(self.seed)

    def _base(self):
        return make_pipeline(StandardScaler(), LogisticRegression(C=self.c, max_iter=2000))

    def fit(self, log_probs: np.ndarray, labels: np.ndarray) -> StackedEvidence:
        """Fit on validation log-probabilities ``(K, N, C)`` and labels ``(N,)``."""
        lp = _check_log_probs(log_probs)
        y = np.asarray(labels)
        if y.shape != (lp.shape[1],) or not np.issubdtype(y.dtype, np.integer):
            raise ValueError(f"labels must be {lp.shape[1]} integer classes, got {y.shape}")
        if y.min() < 0 or y.max() >= lp.shape[2]:
            raise ValueError(f"labels must lie in [0, {lp.shape[2]})")
        if np.bincount(y, minlength=lp.shape[2]).min() < self.n_folds:
            raise ValueError(f"every class needs at least n_folds={self.n_folds} labels")
        folds = StratifiedKFold(self.n_folds, shuffle=True, random_state=self.seed)
        oof = np.exp(lp)
        self.models_ = []
        for tier in range(1, lp.shape[0]):
            x = stacked_features(lp, tier)
            oof[tier] = cross_val_predict(self._base(), x, y, cv=folds, method="predict_proba")
            self.models_.append(self._base().fit(x, y))
        self.oof_probs_ = oof
        return self

    def predict_proba(self, log_probs: np.ndarray) -> np.ndarray:
        """Combined probabilities ``(K, N, C)`` of new samples (row 0: the device's own)."""
        if not self.models_:
            raise RuntimeError("call fit() first")
        lp = _check_log_probs(log_probs)
        if lp.shape[0] != len(self.models_) + 1:
            raise ValueError(f"fitted for {len(self.models_) + 1} tiers, got {lp.shape[0]}")
        out = np.exp(lp)
        for tier, model in enumerate(self.models_, start=1):
            out[tier] = model.predict_proba(stacked_features(lp, tier))
        return out


def evidence_decision(
    combined: np.ndarray,
    thresholds: np.ndarray,
    score: str = "max_prob",
    predictions: np.ndarray | None = None,
) -> Decision:
    """Decision of carried-evidence forwarding on combined probabilities ``(K, N, C)``.

    Tier ``k`` answers iff the ``score`` confidence of its combined probabilities reaches
    ``thresholds[k]`` (``(K-1,)``, or ``(D, K-1)`` per device; 0 always answers, 1 always
    forwards); the request has queried tiers ``0..k``. The answer is
    ``predictions[k, n]`` (int ``(K, N)``, e.g. :meth:`EvidenceSetup.predictions`), by
    default the combined probabilities' argmax.
    """
    q = _check_combined(combined)
    check_choice("score", score, SCORES)
    conf = confidence(q[:-1], score)
    answer = cascade_answer(conf, thresholds)
    n = np.arange(q.shape[1])
    if predictions is None:
        predictions = q.argmax(axis=-1)
    pred = np.asarray(predictions)
    if pred.shape != q.shape[:2] or not np.issubdtype(pred.dtype, np.integer):
        raise ValueError(f"predictions must be integer classes of shape {q.shape[:2]}")
    if pred.min() < 0 or pred.max() >= q.shape[2]:
        raise ValueError(f"predictions must lie in [0, {q.shape[2]})")
    prediction = pred[answer, n]
    queried = np.arange(q.shape[0]) <= answer[..., None]
    return Decision(queried, answer, prediction=prediction)


def _check_combined(combined: np.ndarray) -> np.ndarray:
    q = np.asarray(combined, dtype=float)
    if q.ndim != 3 or q.shape[0] < 2 or 0 in q.shape:
        raise ValueError(f"combined must have shape (K >= 2, N, C), got {q.shape}")
    if np.isnan(q).any() or (q < 0).any() or (np.abs(q.sum(-1) - 1) > 1e-6).any():
        raise ValueError("combined must hold probability vectors (no NaN, >= 0, sum 1)")
    return q


def carried_latency(
    latency: PathLatency, topology: Topology, bytes_per_output: float
) -> PathLatency:
    """``latency`` with the transmission of the carried outputs added on the way up.

    On the link leaving the ``j``-th node of a device's path towards the cloud, a
    cascade request carries one output (``bytes_per_output`` bytes) per path tier at or
    below that node; the link adds ``bytes * 8 / (bandwidth_mbps * 1e3)`` ms to the round
    trip of every tier above it. (A request that skips a tier would carry less: the
    carried-evidence family never skips.) ``latency.nodes`` must be on the topology's paths.
    """
    check_type("latency", latency, PathLatency)
    check_type("topology", topology, Topology)
    size = check_non_negative("bytes_per_output", bytes_per_output)
    extra = np.zeros(latency.rtt_ms.shape)
    for d, device in enumerate(latency.devices):
        path = topology.path(device)
        missing = [n for n in latency.nodes[d] if n not in path]
        if missing:
            raise ValueError(
                f"topology: nodes {missing} of device {device!r}'s latency are not on its path {path}"
            )
        pos = np.array([path.index(n) for n in latency.nodes[d]])
        link_ms = [
            np.count_nonzero(pos <= j) * size * 8 / (topology.link(a, b).bandwidth_mbps * 1e3)
            for j, (a, b) in enumerate(zip(path[:-1], path[1:], strict=True))
        ]
        cum = np.r_[0.0, np.cumsum(link_ms)]
        extra[d] = cum[pos]
    return PathLatency(
        latency.devices, latency.nodes, latency.tiers, latency.rtt_ms + extra, latency.compute_ms
    )


@dataclass(frozen=True)
class EvidenceSetup:
    """What carried-evidence forwarding is evaluated on, beside a :class:`DeliverySetup`.

    ``combined_val[rule]`` and ``combined_test[rule]`` are the combined probabilities
    ``(K, N, C)`` (stacked: out-of-fold on validation); ``predict_combined[rule]`` is bool
    ``(K,)``: does tier ``k`` return the combined class (else its own model's);
    ``latency`` prices the carried outputs and ``w_val``/``w_test`` are the exact weights
    under it.
    """

    base: DeliverySetup
    combined_val: dict[str, np.ndarray]
    combined_test: dict[str, np.ndarray]
    predict_combined: dict[str, np.ndarray]
    latency: PathLatency
    w_val: SampleWeights
    w_test: SampleWeights
    score: str
    bytes_per_output: float

    @property
    def carried_ms(self) -> np.ndarray:
        """Delay ``(D, K)`` the carried outputs add to the round trip to each tier (ms)."""
        return self.latency.rtt_ms - self.base.latency.rtt_ms

    def decision_probs(self, rule: str, split: str, decide: np.ndarray | None = None) -> np.ndarray:
        """Probabilities ``(K, N, C)`` tier ``k`` decides on: combined where ``decide``
        (bool ``(K,)``; default all), the tier's own calibrated ones elsewhere."""
        combined = self._combined(rule, split)
        if decide is None:
            return combined
        mask = self.tier_flags("decide", decide)
        own = np.exp(log_probabilities(self._table(split), self.base.temperatures))
        return np.where(mask[:, None, None], combined, own)

    def confidences(self, rule: str, split: str, decide: np.ndarray | None = None) -> np.ndarray:
        """Confidences ``(K, N)`` of :meth:`decision_probs`."""
        return confidence(self.decision_probs(rule, split, decide), self.score)

    def predictions(self, rule: str, split: str, predict: np.ndarray | None = None) -> np.ndarray:
        """Int ``(K, N)``: the class tier ``k`` returns: combined where ``predict`` (bool
        ``(K,)``; default ``predict_combined[rule]``), its own model's elsewhere."""
        combined = self._combined(rule, split).argmax(axis=-1)
        use = (
            self.predict_combined[rule] if predict is None else self.tier_flags("predict", predict)
        )
        return np.where(use[:, None], combined, self._table(split).predictions())

    def correct(self, rule: str, split: str, predict: np.ndarray | None = None) -> np.ndarray:
        """Bool ``(K, N)``: is the class tier ``k`` returns right (see :meth:`predictions`)."""
        return self.predictions(rule, split, predict) == self._table(split).labels

    def weights(self, split: str, carries: bool = True) -> SampleWeights:
        """Exact weights of ``split``, with the carried bytes priced iff ``carries``."""
        check_choice("split", split, ("val", "test"))
        if carries:
            return self.w_val if split == "val" else self.w_test
        return self.base.w_val if split == "val" else self.base.w_test

    def _table(self, split: str) -> OutputsTable:
        check_choice("split", split, ("val", "test"))
        return self.base.val if split == "val" else self.base.test

    def tier_flags(self, name: str, flags: np.ndarray) -> np.ndarray:
        """``flags`` checked as one bool per tier of the path, ``(K,)``; ``name`` names it in errors."""
        f = np.asarray(flags)
        k = self.base.val.n_models
        if f.shape != (k,) or f.dtype != bool:
            raise ValueError(f"{name} must be {k} bool flags, got {f.shape} {f.dtype}")
        return f

    def _combined(self, rule: str, split: str) -> np.ndarray:
        check_choice("split", split, ("val", "test"))
        check_choice("rule", rule, tuple(self.combined_val))
        return (self.combined_val if split == "val" else self.combined_test)[rule]


def prepare_evidence(
    setup: DeliverySetup,
    topology: Topology,
    rules: tuple[str, ...] = COMPARED_RULES,
    score: str = "max_prob",
    bytes_per_probability: float = BYTES_PER_PROBABILITY,
    seed: int = 0,
    predict: str = "validated",
) -> EvidenceSetup:
    """Combine the calibrated outputs by every rule (stacked: fitted on validation), choose
    per tier what it returns (``predict``, see :data:`PREDICT_MODES`; ``"validated"``
    compares the validation accuracies) and price the carried bytes on ``topology`` (the
    one ``setup``'s latencies come from)."""
    check_type("setup", setup, DeliverySetup)
    check_type("rules", rules, tuple)
    if not rules or len(set(rules)) != len(rules):
        raise ValueError(f"rules must name at least one rule, each once, got {rules}")
    for rule in rules:
        check_choice("rule", rule, EVIDENCE_RULES)
    check_choice("score", score, SCORES)
    check_choice("predict", predict, PREDICT_MODES)
    check_seed(seed)
    lp_val = log_probabilities(setup.val, setup.temperatures)
    lp_test = log_probabilities(setup.test, setup.temperatures)
    combined_val, combined_test = {}, {}
    for rule in rules:
        if rule == "stacked":
            stack = StackedEvidence(seed=seed).fit(lp_val, setup.val.labels)
            combined_val[rule], combined_test[rule] = stack.oof_probs_, stack.predict_proba(lp_test)
        else:
            combined_val[rule] = combine_evidence(lp_val, rule)
            combined_test[rule] = combine_evidence(lp_test, rule)
    size = setup.val.n_classes * check_non_negative("bytes_per_probability", bytes_per_probability)
    lat = carried_latency(setup.latency, topology, size)
    use = {r: _predict_combined(q, setup.val, predict) for r, q in combined_val.items()}
    return EvidenceSetup(
        setup,
        combined_val,
        combined_test,
        use,
        lat,
        uniform_weights(setup.val.n_samples, lat),
        request_weights(setup.requests, lat),
        score,
        size,
    )


def _predict_combined(combined_val: np.ndarray, val: OutputsTable, predict: str) -> np.ndarray:
    """Bool ``(K,)``: which tiers return the combined class (``"validated"``: where it beats
    the tier's own model on validation beyond chance, :func:`paired_gain_lcb` ``> 0``)."""
    if predict != "validated":
        use = np.full(val.n_models, predict == "combined")
    else:
        combined = combined_val.argmax(axis=-1) == val.labels
        own = val.correct()
        use = np.array([paired_gain_lcb(combined[k], own[k]) > 0 for k in range(val.n_models)])
    use[0] = False  # the device has no evidence: its combined output is its own
    return use


__all__ = [
    "BYTES_PER_PROBABILITY",
    "COMPARED_RULES",
    "EVIDENCE_RULES",
    "PREDICT_MODES",
    "PREDICT_Z",
    "EvidenceSetup",
    "StackedEvidence",
    "carried_latency",
    "combine_evidence",
    "evidence_decision",
    "log_probabilities",
    "paired_gain_lcb",
    "prepare_evidence",
    "stacked_features",
]
