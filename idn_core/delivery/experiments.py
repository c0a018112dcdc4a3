"""Chapter 2's experiments: every policy family tuned on validation, reported on test.

:func:`prepare_delivery` gathers what every experiment needs from a scenario (outputs,
temperatures, confidences, path latencies, a seeded request stream and exact weights);
the other functions return tidy DataFrames that the chapter plots and the benchmark
quotes, so both report the same numbers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from idn_core.delivery.evaluation import pareto_front
from idn_core.delivery.oracle_bound import oracle_accuracy_at, oracle_frontier, oracle_latency_for
from idn_core.delivery.policies import GainAwareForwarding, LearnedForwarding
from idn_core.delivery.sample_weights import (
    SampleWeights,
    decision_metrics,
    gap_bound,
    request_weights,
    uniform_weights,
)
from idn_core.delivery.search import (
    cascade_grid,
    cascade_metrics,
    choose_within_tolerance,
    threshold_candidates,
)
from idn_core.learning.outputs import OutputsTable
from idn_core.learning.scores import SCORES, fit_temperatures, table_confidences
from idn_core.network.latency import PathLatency, select_tiers
from idn_core.network.requests import RequestStream, make_requests
from idn_core.network.scenario import Scenario, scenario_latency
from idn_core.network.topology import Topology


@dataclass
class DeliverySetup:
    """Everything chapter 2 evaluates policies on (validation to tune, test to report)."""

    val: OutputsTable
    test: OutputsTable
    latency: PathLatency
    requests: RequestStream
    w_val: SampleWeights
    w_test: SampleWeights
    temperatures: np.ndarray
    conf_val: dict[str, np.ndarray]
    conf_test: dict[str, np.ndarray]

    @property
    def cloud_accuracy(self) -> float:
        return float(self.w_test.count @ self.test.correct()[-1])

    @property
    def cloud_latency_ms(self) -> float:
        """Mean latency of sending every request straight to the last tier."""
        return float(self.w_test.pattern_latency[:, 1 << (self.test.n_models - 1)].sum())


def prepare_delivery(
    scenario: Scenario,
    n_requests: int = 1_000_000,
    seed: int = 0,
    topology: Topology | None = None,
    learned: bool = True,
) -> DeliverySetup:
    """Fit temperatures, compute every score (raw and calibrated) and the learned rule's confidences.

    Keys of ``conf_val``/``conf_test``: ``"<score> raw"``, ``"<score> calibrated"`` and
    ``"learned"`` (validation: out-of-fold scores), each ``(K, N)`` (learned: ``(K-1, N)``).
    """
    latency = scenario_latency(scenario, topology)
    requests = make_requests(n_requests, scenario.test.n_samples, latency.devices, seed=seed)
    temps = fit_temperatures(scenario.val)
    conf_val, conf_test = {}, {}
    for score in SCORES:
        for label, t in (("raw", None), ("calibrated", temps)):
            conf_val[f"{score} {label}"] = table_confidences(scenario.val, score, t)
            conf_test[f"{score} {label}"] = table_confidences(scenario.test, score, t)
    if learned:
        rule = LearnedForwarding(seed=seed).fit(scenario.val.probs(temps), scenario.val.correct())
        conf_val["learned"] = rule.oof_conf_
        conf_test["learned"] = rule.confidences(scenario.test.probs(temps))
    return DeliverySetup(
        scenario.val,
        scenario.test,
        latency,
        requests,
        uniform_weights(scenario.val.n_samples, latency),
        request_weights(requests, latency),
        temps,
        conf_val,
        conf_test,
    )


def oracle_test_frontier(setup: DeliverySetup) -> pd.DataFrame:
    """The oracle frontier on the test requests."""
    return oracle_frontier(setup.test.correct(), setup.w_test)


def family_curve(
    setup: DeliverySetup, family: str, tiers: tuple[int, ...] | None = None, n_grid: int = 60
) -> pd.DataFrame:
    """Test metrics of the validation-Pareto-optimal thresholds of one cascade family.

    ``tiers`` restricts the path (e.g. ``(0, 2)`` for device-cloud); all tiers by default.
    """
    k = setup.val.n_models
    tiers = tuple(range(k)) if tiers is None else tiers
    hops = [t for t in tiers[:-1]]
    cv = setup.conf_val[family]
    ct = setup.conf_test[family]
    if family == "learned" and tiers != tuple(range(k)):
        raise ValueError("the learned rule is trained for the full path")
    sub_lat = select_tiers(setup.latency, tiers)
    wv, wt = uniform_weights(setup.val.n_samples, sub_lat), request_weights(setup.requests, sub_lat)
    corr_v, corr_t = setup.val.correct()[list(tiers)], setup.test.correct()[list(tiers)]
    grids = [threshold_candidates(cv[h], n_grid) for h in hops]
    grid = cascade_grid(cv[hops], corr_v, wv, grids)
    front = pareto_front(grid.frame())
    thresholds = front[[f"t{h}" for h in range(len(hops))]].to_numpy()
    out = cascade_metrics(ct[hops], corr_t, wt, thresholds)
    out.insert(
        0,
        "family",
        family
        if len(tiers) == k
        else f"{family} ({'-'.join(setup.latency.tiers[t] for t in tiers)})",
    )
    return out


def gain_aware_curve(
    setup: DeliverySetup, alphas: np.ndarray, family: str = "max_prob calibrated"
) -> pd.DataFrame:
    """Gain-aware forwarding for each ``alpha`` (accuracy per ms): fitted on validation, test metrics."""
    lat_row = setup.latency.answer_latency_ms().mean(axis=0, keepdims=True)
    cv, ct = setup.conf_val[family], setup.conf_test[family]
    corr_v, corr_t = setup.val.correct(), setup.test.correct()
    h = setup.val.n_models - 1
    rows = []
    for alpha in np.asarray(alphas, dtype=float):
        rule = GainAwareForwarding(float(alpha)).fit(cv[:h], corr_v, lat_row)
        for split, conf, corr, w in (
            ("val", cv, corr_v, setup.w_val),
            ("test", ct, corr_t, setup.w_test),
        ):
            dec = rule.decide(conf[:h])
            right = corr[dec.answer_tier, np.arange(corr.shape[1])]
            row = {"alpha": alpha, "split": split, **decision_metrics(dec.queried, right, w)}
            row["forwarded"] = float(w.count @ (dec.answer_tier > 0))
            row["gap"], row["gap_lcb"] = gap_bound(
                right, corr[-1], w, n_future=setup.test.n_samples
            )
            rows.append(row)
    return pd.DataFrame(rows)


def choose_policies(
    setup: DeliverySetup,
    tolerance: float = 0.005,
    n_grid: int = 100,
    alphas: np.ndarray | None = None,
) -> pd.DataFrame:
    """Per family, the cheapest setting within ``tolerance`` of cloud-only, chosen on validation.

    Cascade families use :func:`~idn_core.delivery.search.choose_within_tolerance`
    (prediction bound for the test gap, corrected for the winner's curse); gain-aware
    forwarding takes the cheapest ``alpha`` whose validation prediction bound passes. Columns:
    family, thresholds (cascades) or alpha (gain-aware), the bootstrap optimism, validation
    latency and bound, test accuracy, latency, forwarded share, gap (pp), ratio to cloud-only,
    and ``chosen`` marking the family with the least validation latency.
    """
    rows = [cascade_choice(setup, family, tolerance, n_grid) for family in setup.conf_val]
    alphas = np.geomspace(1e-5, 1e-1, 41) if alphas is None else alphas
    gain_aware = gain_aware_choice(setup, alphas, tolerance)
    if gain_aware is not None:
        rows.append(gain_aware)
    frame = pd.DataFrame(rows)
    frame["gap_pp"] = 100 * (frame.accuracy - setup.cloud_accuracy)
    frame["latency_ratio"] = frame.latency_ms / setup.cloud_latency_ms
    frame["chosen"] = frame.val_latency_ms == frame.val_latency_ms.min()
    return frame


def cascade_choice(setup: DeliverySetup, family: str, tolerance: float, n_grid: int) -> dict:
    """The cheapest cascade of one confidence family within ``tolerance``, a row of
    :func:`choose_policies` (validation choice and bound, test metrics)."""
    k = setup.val.n_models
    corr_v, corr_t = setup.val.correct(), setup.test.correct()
    cv = setup.conf_val[family]
    grids = [threshold_candidates(cv[h], n_grid) for h in range(k - 1)]
    t, info = choose_within_tolerance(
        cv[: k - 1], corr_v, setup.w_val, grids, corr_v[-1], tolerance,
        n_future=setup.test.n_samples,
    )  # fmt: skip
    m = cascade_metrics(setup.conf_test[family][: k - 1], corr_t, setup.w_test, t).iloc[0]
    return {
        "family": family,
        "thresholds": t.tolist(),
        "alpha": np.nan,
        "optimism": info["optimism"],
        "val_latency_ms": info["latency_ms"],
        "val_gap_lcb": info["gap_lcb"],
        "accuracy": m.accuracy,
        "latency_ms": m.latency_ms,
        "forwarded": m.forwarded,
    }


def gain_aware_choice(setup: DeliverySetup, alphas: np.ndarray, tolerance: float) -> dict | None:
    """Gain-aware forwarding at the cheapest ``alpha`` whose validation prediction bound
    stays within ``tolerance`` (ties: smaller alpha), a row of :func:`choose_policies`;
    ``None`` if no alpha passes."""
    ga = gain_aware_curve(setup, alphas)
    val = ga[(ga.split == "val") & (ga.gap_lcb >= -tolerance)]
    if val.empty:
        return None
    best = val.sort_values(["latency_ms", "alpha"]).iloc[0]
    test = ga[(ga.split == "test") & (ga.alpha == best.alpha)].iloc[0]
    return {
        "family": "gain-aware",
        "thresholds": None,
        "alpha": float(best.alpha),
        "optimism": np.nan,
        "val_latency_ms": best.latency_ms,
        "val_gap_lcb": best.gap_lcb,
        "accuracy": test.accuracy,
        "latency_ms": test.latency_ms,
        "forwarded": test.forwarded,
    }


def headline(
    setup: DeliverySetup, choices: pd.DataFrame, tolerance: float = 0.005
) -> dict[str, float]:
    """The benchmark's policy numbers: cloud-only, chosen policy, oracle, savings captured."""
    chosen = choices[choices.chosen].iloc[0]
    front = oracle_test_frontier(setup)
    cloud_lat = setup.cloud_latency_ms
    oracle_ratio = oracle_latency_for(front, setup.cloud_accuracy - tolerance) / cloud_lat
    ratio = float(chosen.latency_ms / cloud_lat)
    return {
        "chosen_family": chosen.family,
        "cloud_acc": setup.cloud_accuracy,
        "cloud_latency_ms": cloud_lat,
        "cascade_latency_ratio": ratio,
        "oracle_latency_ratio": oracle_ratio,
        "oracle_gap_pp": 100 * (oracle_accuracy_at(front, chosen.latency_ms) - chosen.accuracy),
        "oracle_savings_captured": (1 - ratio) / (1 - oracle_ratio),
        "test_acc_gap_pp": float(chosen.gap_pp),
    }
