"""Headlines computed on a scenario's path: its models' outputs and its tree.

Serve or forward (the validation-chosen policy against the oracle), combining the path's
models, delivery under load (fixed thresholds, the best static thresholds and the
feedback rule at one load factor) and carried-evidence forwarding. The last three build on
the first one's set-up and choices: :func:`delivery_run` computes them once, and every
headline here accepts either that run, a loaded scenario or a scenario's name (loaded
with the settings' size).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from idn_core._util.validation import check_type
from idn_core.delivery import (
    DeliverySetup,
    choose_policies,
    compare_under_load,
    evidence_headline,
    headline,
    prepare_delivery,
    prepare_evidence,
    prepare_load,
    tier_response,
)
from idn_core.ensembles import path_rule_gain_pp
from idn_core.headlines.settings import SuiteSettings
from idn_core.network import Scenario, load_named_scenario

__all__ = [
    "LOAD_FAMILY",
    "CombinationHeadline",
    "DeliveryHeadline",
    "DeliveryRun",
    "EvidenceHeadline",
    "LoadHeadline",
    "delivery_run",
    "headline_accuracy",
    "headline_combination",
    "headline_delivery",
    "headline_evidence",
    "headline_load",
]

#: The threshold family whose chosen thresholds run under load (as in the load chapter).
LOAD_FAMILY = "max_prob calibrated"


@dataclass(frozen=True)
class DeliveryRun:
    """A scenario with chapter 2's delivery set-up and per-family choices
    (:func:`~idn_core.delivery.prepare_delivery`, :func:`~idn_core.delivery.choose_policies`),
    shared by the headlines that build on them."""

    scenario: Scenario
    setup: DeliverySetup
    choices: pd.DataFrame


@dataclass(frozen=True)
class DeliveryHeadline:
    """Serve or forward: the family chosen on validation, the share of the oracle's latency
    saving it captures on test, its and the oracle's latency over cloud-only's, and its
    test accuracy minus cloud-only's (pp)."""

    family: str
    captured: float
    latency_ratio: float
    oracle_ratio: float
    test_gap_pp: float


@dataclass(frozen=True)
class CombinationHeadline:
    """Test accuracy of the best combination of the path's models minus the cloud's (pp)."""

    combination_gain_pp: float


@dataclass(frozen=True)
class LoadHeadline:
    """Delivery under load at ``load_factor`` x the reference rate: on-time accuracy (%) of
    the fixed thresholds, the best static thresholds (chosen on a validation stream) and
    the feedback rule, the feedback gain over fixed (pp), and the path's tier whose busiest
    node has the highest utilisation under the fixed thresholds (with that utilisation, %)."""

    load_factor: float
    fixed_on_time_pct: float
    best_static_on_time_pct: float
    feedback_on_time_pct: float
    feedback_gain_pp: float
    busiest_tier: str
    busiest_utilisation_pct: float


@dataclass(frozen=True)
class EvidenceHeadline:
    """Carried-evidence forwarding chosen on validation: its rule, the share of the oracle's
    saving it captures on test, that share minus the threshold choice's, its latency over
    cloud-only's and its test accuracy minus cloud-only's (pp)."""

    evidence_rule: str
    evidence_captured: float
    evidence_gain: float
    evidence_latency_ratio: float
    evidence_gap_pp: float


def _scenario(scenario: Scenario | str, settings: SuiteSettings) -> Scenario:
    """``scenario`` itself, or the suite scenario of that name at the settings' size."""
    check_type("scenario", scenario, (Scenario, str, DeliveryRun))
    check_type("settings", settings, SuiteSettings)
    if isinstance(scenario, DeliveryRun):
        return scenario.scenario
    if isinstance(scenario, str):
        epochs = settings.epochs or None
        return load_named_scenario(
            scenario, num_samples=settings.num_samples, epochs=epochs, progress=False
        )
    return scenario


def delivery_run(
    scenario: Scenario | str | DeliveryRun, settings: SuiteSettings | None = None
) -> DeliveryRun:
    """Chapter 2's set-up (``settings.n_requests`` test requests, seed 0) and its choices
    (``settings.n_grid`` thresholds per hop, within ``settings.tolerance``); a
    :class:`DeliveryRun` is returned as it is."""
    settings = SuiteSettings() if settings is None else settings
    if isinstance(scenario, DeliveryRun):
        check_type("settings", settings, SuiteSettings)
        return scenario
    loaded = _scenario(scenario, settings)
    setup = prepare_delivery(loaded, n_requests=settings.n_requests, seed=0)
    choices = choose_policies(setup, settings.tolerance, n_grid=settings.n_grid)
    return DeliveryRun(loaded, setup, choices)


def headline_accuracy(
    scenario: Scenario | str | DeliveryRun, settings: SuiteSettings | None = None
) -> dict[str, float]:
    """Test accuracy (%) of each model on the path, keyed by its tier, from the device up."""
    loaded = _scenario(scenario, SuiteSettings() if settings is None else settings)
    return {loaded.zoo[m].spec.tier: 100 * float(a) for m, a in loaded.test.accuracy().items()}


def headline_delivery(
    scenario: Scenario | str | DeliveryRun, settings: SuiteSettings | None = None
) -> DeliveryHeadline:
    """Serve or forward on one scenario (:func:`~idn_core.delivery.headline`)."""
    settings = SuiteSettings() if settings is None else settings
    run = delivery_run(scenario, settings)
    head = headline(run.setup, run.choices, settings.tolerance)
    return DeliveryHeadline(
        str(head["chosen_family"]),
        float(head["oracle_savings_captured"]),
        float(head["cascade_latency_ratio"]),
        float(head["oracle_latency_ratio"]),
        float(head["test_acc_gap_pp"]),
    )


def headline_combination(
    scenario: Scenario | str | DeliveryRun, settings: SuiteSettings | None = None
) -> CombinationHeadline:
    """Combining the path's models (:func:`~idn_core.ensembles.path_rule_gain_pp`)."""
    loaded = _scenario(scenario, SuiteSettings() if settings is None else settings)
    return CombinationHeadline(float(path_rule_gain_pp(loaded)))


def headline_load(
    scenario: Scenario | str | DeliveryRun, settings: SuiteSettings | None = None
) -> LoadHeadline:
    """Delivery under load on one scenario, on a path of any length.

    The thresholds are the delivery run's choice for :data:`LOAD_FAMILY`
    (:func:`~idn_core.delivery.prepare_load` sets the reference rate at which they fill
    the busiest node); :func:`~idn_core.delivery.compare_under_load` runs one load factor,
    seed 0, and :func:`~idn_core.delivery.tier_response` measures the utilisation per tier
    on the same test stream.
    """
    settings = SuiteSettings() if settings is None else settings
    run = delivery_run(scenario, settings)
    thresholds = np.array(run.choices.set_index("family").loc[LOAD_FAMILY, "thresholds"])
    ls = prepare_load(run.scenario, run.setup, thresholds, deadline_s=settings.deadline_ms / 1e3)
    factor, duration = settings.load_factor, settings.load_duration_s
    table, _ = compare_under_load(
        ls, (factor,), duration, seed=0, grid_steps=settings.load_grid_steps
    )
    on_time = 100 * table.set_index("policy").on_time_accuracy
    tiers = tier_response(ls, np.array([factor]), duration, seed=0).set_index("tier")
    busiest = str(tiers.utilisation.idxmax())
    return LoadHeadline(
        float(factor),
        float(on_time["fixed"]),
        float(on_time["best static"]),
        float(on_time["feedback"]),
        float(on_time["feedback"] - on_time["fixed"]),
        busiest,
        float(100 * tiers.utilisation[busiest]),
    )


def headline_evidence(
    scenario: Scenario | str | DeliveryRun, settings: SuiteSettings | None = None
) -> EvidenceHeadline:
    """Carried-evidence forwarding against the delivery run's threshold choice, on the
    scenario's tree (:func:`~idn_core.delivery.prepare_evidence`, seed 0, and
    :func:`~idn_core.delivery.evidence_headline` with ``settings.n_grid`` thresholds)."""
    settings = SuiteSettings() if settings is None else settings
    run = delivery_run(scenario, settings)
    ev = prepare_evidence(run.setup, run.scenario.topology, seed=0)
    head = evidence_headline(ev, run.choices, settings.tolerance, settings.n_grid)
    return EvidenceHeadline(
        str(head["evidence_rule"]),
        float(head["evidence_captured"]),
        float(head["captured_gain"]),
        float(head["evidence_latency_ratio"]),
        float(head["evidence_gap_pp"]),
    )
