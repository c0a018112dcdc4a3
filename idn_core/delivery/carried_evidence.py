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
probabilities. Tier ``k`` answers iff the confidence of its *combined* probabilities
reaches its threshold. What it returns is chosen per tier on validation
(``predict="validated"``, the default): the combined output's class where the combination
is more accurate on validation than the tier's own model, its own model's class otherwise
(pooling a strong model with weaker ones can lose accuracy, typically at the cloud);
``predict="combined"`` or ``"local"`` forces one or the other. The forwarding rule is
therefore a threshold cascade on combined confidences and per-tier correctness, and the exact grid
search of :mod:`idn_core.delivery.search` applies unchanged: thresholds are swept and
chosen on validation exactly like those of the threshold families, and reported on test.

The carried bytes are priced: on every link on the way up the request carries one
probability vector per tier it has visited, transmitted at the link's bandwidth
(:func:`carried_latency`). Cloud-only and the oracle carry nothing.

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
import pandas as pd
from scipy.special import log_softmax, logsumexp
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from idn_core._util.validation import (
    check_choice,
    check_finite_array,
    check_fraction,
    check_non_negative,
    check_positive,
    check_positive_int,
    check_seed,
    check_type,
)
from idn_core.delivery.evaluation import Decision, pareto_front
from idn_core.delivery.experiments import (
    DeliverySetup,
    choose_policies,
    headline,
    prepare_delivery,
)
from idn_core.delivery.policies import cascade_answer
from idn_core.delivery.sample_weights import SampleWeights, request_weights, uniform_weights
from idn_core.delivery.search import (
    cascade_grid,
    cascade_metrics,
    choose_within_tolerance,
    threshold_candidates,
)
from idn_core.learning.outputs import OutputsTable
from idn_core.learning.scores import SCORES, confidence
from idn_core.network.latency import PathLatency
from idn_core.network.scenario import Scenario
from idn_core.network.topology import Topology

#: Ways of combining the carried and local outputs (see the module docstring).
EVIDENCE_RULES = ("local", "product", "mean", "stacked")
#: The rules a chapter compares with the threshold families ("local" is the cascade itself).
COMPARED_RULES = ("product", "mean", "stacked")
#: What a tier returns (see the module docstring).
PREDICT_MODES = ("validated", "combined", "local")
#: Bytes of one carried probability (float32).
BYTES_PER_PROBABILITY = 4.0


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

    def confidences(self, rule: str, split: str) -> np.ndarray:
        """Confidences ``(K, N)`` of the combined probabilities of ``rule`` on ``split``."""
        return confidence(self._combined(rule, split), self.score)

    def predictions(self, rule: str, split: str) -> np.ndarray:
        """Int ``(K, N)``: the class tier ``k`` returns (combined or its own, per tier)."""
        table = self.base.val if split == "val" else self.base.test
        combined = self._combined(rule, split).argmax(axis=-1)
        return np.where(self.predict_combined[rule][:, None], combined, table.predictions())

    def correct(self, rule: str, split: str) -> np.ndarray:
        """Bool ``(K, N)``: is the class tier ``k`` returns right."""
        labels = (self.base.val if split == "val" else self.base.test).labels
        return self.predictions(rule, split) == labels

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
    """Bool ``(K,)``: which tiers return the combined class (``"validated"``: where it is
    right more often than the tier's own model on validation, ties to the own model)."""
    if predict != "validated":
        return np.full(val.n_models, predict == "combined")
    combined = (combined_val.argmax(axis=-1) == val.labels).sum(axis=1)
    return combined > val.correct().sum(axis=1)


def evidence_curve(ev: EvidenceSetup, rule: str, n_grid: int = 60) -> pd.DataFrame:
    """Test metrics of the validation-Pareto-optimal thresholds of one rule (as
    :func:`~idn_core.delivery.experiments.family_curve` for a threshold family)."""
    check_type("ev", ev, EvidenceSetup)
    k = ev.base.val.n_models
    cv, corr_v = ev.confidences(rule, "val"), ev.correct(rule, "val")
    grids = [threshold_candidates(cv[h], n_grid) for h in range(k - 1)]
    front = pareto_front(cascade_grid(cv[: k - 1], corr_v, ev.w_val, grids).frame())
    thresholds = front[[f"t{h}" for h in range(k - 1)]].to_numpy()
    ct, corr_t = ev.confidences(rule, "test"), ev.correct(rule, "test")
    out = cascade_metrics(ct[: k - 1], corr_t, ev.w_test, thresholds)
    out.insert(0, "family", f"carried evidence ({rule})")
    return out


def evidence_choice(
    ev: EvidenceSetup, rule: str, tolerance: float = 0.005, n_grid: int = 100
) -> dict:
    """The cheapest thresholds of ``rule`` within ``tolerance`` of cloud-only, chosen on
    validation as for the threshold families (prediction bound corrected for the
    winner's curse), with their test metrics: a row like those of
    :func:`~idn_core.delivery.experiments.choose_policies`."""
    check_type("ev", ev, EvidenceSetup)
    check_fraction("tolerance", tolerance)
    k = ev.base.val.n_models
    cv, corr_v = ev.confidences(rule, "val"), ev.correct(rule, "val")
    cloud_v = ev.base.val.correct()[-1]  # the reference: the cloud's model alone
    grids = [threshold_candidates(cv[h], n_grid) for h in range(k - 1)]
    t, info = choose_within_tolerance(
        cv[: k - 1], corr_v, ev.w_val, grids, cloud_v, tolerance,
        n_future=ev.base.test.n_samples,
    )  # fmt: skip
    ct, corr_t = ev.confidences(rule, "test"), ev.correct(rule, "test")
    m = cascade_metrics(ct[: k - 1], corr_t, ev.w_test, t).iloc[0]
    return {
        "family": f"carried evidence ({rule})",
        "rule": rule,
        "thresholds": t.tolist(),
        "optimism": info["optimism"],
        "val_latency_ms": info["latency_ms"],
        "val_gap_lcb": info["gap_lcb"],
        "accuracy": float(m.accuracy),
        "latency_ms": float(m.latency_ms),
        "forwarded": float(m.forwarded),
    }


def evidence_choices(
    ev: EvidenceSetup, tolerance: float = 0.005, n_grid: int = 100
) -> pd.DataFrame:
    """:func:`evidence_choice` for every rule of ``ev``, with the test gap to cloud-only
    (pp), the latency ratio to cloud-only and ``chosen``: the least validation latency."""
    frame = pd.DataFrame([evidence_choice(ev, r, tolerance, n_grid) for r in ev.combined_val])
    frame["gap_pp"] = 100 * (frame.accuracy - ev.base.cloud_accuracy)
    frame["latency_ratio"] = frame.latency_ms / ev.base.cloud_latency_ms
    frame["chosen"] = frame.val_latency_ms == frame.val_latency_ms.min()
    return frame


def evidence_headline(
    ev: EvidenceSetup,
    choices: pd.DataFrame,
    tolerance: float = 0.005,
    n_grid: int = 100,
    rows: pd.DataFrame | None = None,
) -> dict[str, float | str]:
    """Carried evidence against the threshold families, in shares of the oracle's saving.

    ``choices`` is :func:`~idn_core.delivery.experiments.choose_policies` on ``ev.base``
    (the threshold families, gain-aware forwarding included); ``rows`` is
    :func:`evidence_choices` of ``ev`` at the same ``tolerance`` if already computed
    (computed here otherwise; ``n_grid`` is then its grid). Both choices are made on
    validation and measured on the test requests; the oracle is the plain one (it carries
    nothing). Keys: ``threshold_family``, ``threshold_captured``, ``evidence_rule``,
    ``evidence_captured``, ``captured_gain`` (evidence minus threshold),
    ``evidence_latency_ratio``, ``evidence_gap_pp``, ``oracle_latency_ratio``,
    ``carried_bytes`` (per output) and ``captured:<rule>`` for every rule.
    """
    check_type("ev", ev, EvidenceSetup)
    check_type("choices", choices, pd.DataFrame)
    base = headline(ev.base, choices, tolerance)
    if rows is None:
        rows = evidence_choices(ev, tolerance, n_grid)
    check_type("rows", rows, pd.DataFrame)
    if set(rows.rule) != set(ev.combined_val) or rows.chosen.sum() < 1:
        raise ValueError(f"rows must be evidence_choices of ev (rules {list(ev.combined_val)})")
    saving = 1.0 - base["oracle_latency_ratio"]
    captured = (1.0 - rows.latency_ratio) / saving
    best = rows[rows.chosen].iloc[0]
    out: dict[str, float | str] = {
        "threshold_family": base["chosen_family"],
        "threshold_captured": float(base["oracle_savings_captured"]),
        "evidence_rule": str(best.rule),
        "evidence_captured": float(captured[rows.chosen].iloc[0]),
        "evidence_latency_ratio": float(best.latency_ratio),
        "evidence_gap_pp": float(best.gap_pp),
        "oracle_latency_ratio": float(base["oracle_latency_ratio"]),
        "carried_bytes": float(ev.bytes_per_output),
    }
    out["captured_gain"] = float(out["evidence_captured"]) - float(out["threshold_captured"])
    for rule, value in zip(rows.rule, captured, strict=True):
        out[f"captured:{rule}"] = float(value)
    return out


def carried_evidence_headline(
    scenario: Scenario,
    tolerance: float = 0.005,
    n_requests: int = 1_000_000,
    n_grid: int = 100,
    seed: int = 0,
    n_alphas: int = 61,
) -> dict[str, float | str]:
    """:func:`evidence_headline` of a scenario from scratch: chapter 2's set-up and choices
    (``n_requests`` test requests, ``n_grid`` thresholds per hop, ``n_alphas`` values of
    gain-aware forwarding's alpha), then carried evidence on the scenario's topology."""
    check_type("scenario", scenario, Scenario)
    check_positive_int("n_alphas", n_alphas)
    setup = prepare_delivery(scenario, n_requests=n_requests, seed=seed)
    alphas = np.geomspace(1e-5, 1e-1, n_alphas)
    choices = choose_policies(setup, tolerance, n_grid=n_grid, alphas=alphas)
    ev = prepare_evidence(setup, scenario.topology, seed=seed)
    return evidence_headline(ev, choices, tolerance, n_grid)


__all__ = [
    "BYTES_PER_PROBABILITY",
    "COMPARED_RULES",
    "EVIDENCE_RULES",
    "PREDICT_MODES",
    "EvidenceSetup",
    "StackedEvidence",
    "carried_evidence_headline",
    "carried_latency",
    "combine_evidence",
    "evidence_choice",
    "evidence_choices",
    "evidence_curve",
    "evidence_decision",
    "evidence_headline",
    "log_probabilities",
    "prepare_evidence",
    "stacked_features",
]
