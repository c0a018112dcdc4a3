"""Choosing carried-evidence forwarding on validation, and judging it against the thresholds.

A rule of :mod:`idn_core.delivery.carried_evidence` (its combined outputs, and per tier
whether it returns the combined class) still leaves open what each tier decides on, its
combined confidence or its own. Every *decision mask* (own or combined per intermediate
tier) is a variant of the rule; each variant's thresholds are chosen like a threshold
family's, and the rule keeps the variant with the least validation latency. The *plain
calibrated cascade* (own confidences, own classes, nothing carried and so no carried
bytes) is always among the variants (:class:`EvidenceVariant`).

Why both the significance test on what a tier returns and the variants. A first version
decided on the combined confidence everywhere and let a tier return the combined class
whenever it was right more often on validation, by any margin. On the raised-noise
scenario the cloud's pooled class was right on 3 more of 4,000 validation samples than
the cloud's own model: it was returned, and since it disagrees with the cloud's own
class (the accuracy target's reference) on several per cent of the samples, the paired
standard error of the gap to cloud-only grew so large that even forwarding everything
failed the prediction bound. Every rule then fell back to forwarding everything, and
paid the carried bytes on top: worse than the plain cascade, from a difference of 0.08
pp that noise explains. Pooled confidences of overlapping opinions are also
overconfident (product) or underconfident (mean) at some tiers, and a tier whose own
calibrated confidence ranks its errors better should keep it. With the significance test
and the variants, the family contains the plain calibrated cascade, so on validation it
is never worse than it; on test it can still lose, by chance or by the extra selection
among variants (which, like the chapter's choice among threshold families, is not
corrected for the winner's curse).

The forwarding rule of every variant is a threshold cascade on per-tier confidences
and per-tier correctness, so the exact grid search of :mod:`idn_core.delivery.search`
applies unchanged: thresholds are swept and chosen on validation exactly like those of
the threshold families, and reported on test.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import pandas as pd

from idn_core._util.validation import (
    check_choice,
    check_finite,
    check_fraction,
    check_positive_int,
    check_type,
)
from idn_core.delivery.carried_evidence import EvidenceSetup, prepare_evidence
from idn_core.delivery.evaluation import pareto_front
from idn_core.delivery.experiments import choose_policies, headline, prepare_delivery
from idn_core.delivery.search import (
    cascade_grid,
    cascade_metrics,
    choose_within_tolerance,
    threshold_candidates,
)
from idn_core.network.scenario import Scenario

#: Label of the variant that uses no evidence (see :class:`EvidenceVariant`).
PLAIN_VARIANT = "plain calibrated cascade"


@dataclass(frozen=True)
class EvidenceVariant:
    """One member of a rule's family: per tier ``(K,)``, does it decide on the combined
    confidence (``decide``) and return the combined class (``predict``). Tier 0 never
    uses evidence (there is none yet) and the last tier's confidence is never used."""

    decide: tuple[bool, ...]
    predict: tuple[bool, ...]

    def __post_init__(self) -> None:
        if len(self.decide) != len(self.predict) or len(self.decide) < 2:
            raise ValueError(f"decide and predict must have one flag per tier (K >= 2): {self}")
        if self.decide[0] or self.predict[0]:
            raise ValueError(
                "tier 0 has no evidence to use: decide[0] and predict[0] must be False"
            )

    @property
    def carries(self) -> bool:
        """Does any tier use the carried outputs (else nothing needs carrying)."""
        return any(self.decide) or any(self.predict)

    def label(self, tiers: tuple[str, ...]) -> str:
        """Readable description: ``"plain calibrated cascade"`` if it uses no evidence, else
        where it uses which, e.g. ``"combined confidence at edge; combined class at cloud"``."""
        if not self.carries:
            return PLAIN_VARIANT
        parts = []
        for what, flags in (("confidence", self.decide), ("class", self.predict)):
            where = [t for t, f in zip(tiers, flags, strict=True) if f]
            if where:
                parts.append(f"combined {what} at {', '.join(where)}")
        return "; ".join(parts)


def evidence_variants(n_tiers: int, predict: np.ndarray) -> list[EvidenceVariant]:
    """The variants of a rule whose tiers return the combined class where ``predict`` (bool
    ``(K,)``): the plain cascade first, then every decision mask over tiers ``1..K-2``."""
    check_positive_int("n_tiers", n_tiers, 2)
    pred = np.asarray(predict)
    if pred.shape != (n_tiers,) or pred.dtype != bool:
        raise ValueError(f"predict must be {n_tiers} bool flags, got {pred.shape} {pred.dtype}")
    none = (False,) * n_tiers
    out = [EvidenceVariant(none, none)]
    for mask in itertools.product((False, True), repeat=n_tiers - 2):
        v = EvidenceVariant((False, *mask, False), tuple(bool(x) for x in pred))
        if v.carries:
            out.append(v)
    return out


def evidence_curve(
    ev: EvidenceSetup, rule: str, n_grid: int = 60, decide: np.ndarray | None = None
) -> pd.DataFrame:
    """Test metrics of the validation-Pareto-optimal thresholds of one rule (as
    :func:`~idn_core.delivery.experiments.family_curve` for a threshold family), deciding
    on combined confidences where ``decide`` (bool ``(K,)``; default every tier above the
    device) and returning the classes of ``ev.predict_combined[rule]``."""
    check_type("ev", ev, EvidenceSetup)
    k = ev.base.val.n_models
    if decide is None:
        decide = np.arange(k) > 0
    v = EvidenceVariant(
        tuple(bool(x) for x in ev.tier_flags("decide", decide)),
        tuple(bool(x) for x in ev.predict_combined[rule]),
    )
    cv, corr_v = ev.confidences(rule, "val", decide), ev.correct(rule, "val")
    grids = [threshold_candidates(cv[h], n_grid) for h in range(k - 1)]
    wv = ev.weights("val", v.carries)
    front = pareto_front(cascade_grid(cv[: k - 1], corr_v, wv, grids).frame())
    thresholds = front[[f"t{h}" for h in range(k - 1)]].to_numpy()
    ct, corr_t = ev.confidences(rule, "test", decide), ev.correct(rule, "test")
    out = cascade_metrics(ct[: k - 1], corr_t, ev.weights("test", v.carries), thresholds)
    out.insert(0, "family", f"carried evidence ({rule})")
    return out


def variant_choice(
    ev: EvidenceSetup,
    rule: str,
    variant: EvidenceVariant,
    tolerance: float = 0.005,
    n_grid: int = 100,
) -> dict:
    """The cheapest thresholds of one variant of ``rule`` within ``tolerance`` of
    cloud-only, chosen on validation as for the threshold families (prediction bound
    corrected for the winner's curse), with their test metrics."""
    check_type("ev", ev, EvidenceSetup)
    check_type("variant", variant, EvidenceVariant)
    check_fraction("tolerance", tolerance)
    k = ev.base.val.n_models
    if len(variant.decide) != k:
        raise ValueError(f"variant must have {k} tiers, got {len(variant.decide)}")
    decide, predict = np.array(variant.decide), np.array(variant.predict)
    cv = ev.confidences(rule, "val", decide)
    corr_v = ev.correct(rule, "val", predict)
    cloud_v = ev.base.val.correct()[-1]  # the reference: the cloud's model alone
    grids = [threshold_candidates(cv[h], n_grid) for h in range(k - 1)]
    t, info = choose_within_tolerance(
        cv[: k - 1], corr_v, ev.weights("val", variant.carries), grids, cloud_v, tolerance,
        n_future=ev.base.test.n_samples,
    )  # fmt: skip
    ct, corr_t = ev.confidences(rule, "test", decide), ev.correct(rule, "test", predict)
    m = cascade_metrics(ct[: k - 1], corr_t, ev.weights("test", variant.carries), t).iloc[0]
    return {
        "family": f"carried evidence ({rule})",
        "rule": rule,
        "variant": variant.label(ev.base.latency.tiers),
        "decide": list(variant.decide),
        "predict": list(variant.predict),
        "carries": variant.carries,
        "thresholds": t.tolist(),
        "optimism": info["optimism"],
        "val_latency_ms": info["latency_ms"],
        "val_gap_lcb": info["gap_lcb"],
        "accuracy": float(m.accuracy),
        "latency_ms": float(m.latency_ms),
        "forwarded": float(m.forwarded),
    }


def evidence_choice(
    ev: EvidenceSetup, rule: str, tolerance: float = 0.005, n_grid: int = 100
) -> dict:
    """The cheapest setting of ``rule`` within ``tolerance`` of cloud-only: over its
    variants (:func:`evidence_variants`, the plain cascade included), the
    :func:`variant_choice` of least validation latency (ties to the earlier variant, so
    to the plain cascade first). A row like those of
    :func:`~idn_core.delivery.experiments.choose_policies`, plus the variant's
    ``variant`` label, ``decide``/``predict`` flags and ``carries``."""
    return _rule_choice(ev, rule, tolerance, n_grid, plain=None)


def _rule_choice(
    ev: EvidenceSetup, rule: str, tolerance: float, n_grid: int, plain: dict | None
) -> dict:
    """:func:`evidence_choice`, reusing ``plain`` (the plain cascade's row) if given."""
    check_type("ev", ev, EvidenceSetup)
    check_fraction("tolerance", tolerance)
    check_choice("rule", rule, tuple(ev.combined_val))
    k = ev.base.val.n_models
    variants = evidence_variants(k, ev.predict_combined[rule])
    if rule == "local":  # its combined outputs are the tiers' own: only the plain cascade
        variants = variants[:1]
    rows = []
    for i, variant in enumerate(variants):
        if i == 0 and plain is not None:
            rows.append({**plain, "family": f"carried evidence ({rule})", "rule": rule})
        else:
            rows.append(variant_choice(ev, rule, variant, tolerance, n_grid))
    return rows[int(np.argmin([r["val_latency_ms"] for r in rows]))]


def evidence_choices(
    ev: EvidenceSetup, tolerance: float = 0.005, n_grid: int = 100
) -> pd.DataFrame:
    """:func:`evidence_choice` for every rule of ``ev``, with the test gap to cloud-only
    (pp), the latency ratio to cloud-only and ``chosen``: the least validation latency
    (the first such rule if several tie)."""
    check_type("ev", ev, EvidenceSetup)
    rules = list(ev.combined_val)
    none = (False,) * ev.base.val.n_models
    plain = variant_choice(ev, rules[0], EvidenceVariant(none, none), tolerance, n_grid)
    frame = pd.DataFrame([_rule_choice(ev, r, tolerance, n_grid, plain) for r in rules])
    frame["gap_pp"] = 100 * (frame.accuracy - ev.base.cloud_accuracy)
    frame["latency_ratio"] = frame.latency_ms / ev.base.cloud_latency_ms
    frame["chosen"] = np.arange(len(frame)) == int(np.argmin(frame.val_latency_ms.to_numpy()))
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
    nothing). Keys: ``threshold_family``, ``threshold_captured``,
    ``threshold_latency_ratio``, ``threshold_gap_pp``, ``evidence_rule``,
    ``evidence_captured``, ``evidence_variant`` (the chosen variant's label,
    :data:`PLAIN_VARIANT` if no variant that uses the evidence is cheaper on validation),
    ``evidence_carries`` (1.0 if it carries outputs, else 0.0), ``captured_gain``
    (evidence minus threshold),
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
        "threshold_latency_ratio": float(base["cascade_latency_ratio"]),
        "threshold_gap_pp": float(base["test_acc_gap_pp"]),
        "evidence_rule": str(best.rule),
        "evidence_variant": str(best.variant),
        "evidence_carries": float(bool(best.carries)),
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


def evidence_verdict(captured_gain: float, digits: int = 3) -> str:
    """What carrying the evidence does to the captured share, in words for prose:
    ``"gains 0.004"``, ``"loses 0.032"``, or ``"gains or loses less than 0.001"`` when the
    difference rounds to zero at ``digits`` decimals."""
    gain = check_finite("captured_gain", captured_gain)
    check_positive_int("digits", digits)
    if round(abs(gain), digits) == 0:
        return f"gains or loses less than {10.0**-digits:.{digits}f}"
    return f"{'gains' if gain > 0 else 'loses'} {abs(gain):.{digits}f}"


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
    "PLAIN_VARIANT",
    "EvidenceVariant",
    "carried_evidence_headline",
    "evidence_choice",
    "evidence_choices",
    "evidence_curve",
    "evidence_headline",
    "evidence_variants",
    "evidence_verdict",
    "variant_choice",
]
