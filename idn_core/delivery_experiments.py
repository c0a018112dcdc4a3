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

from idn_core.confidence import SCORES, fit_temperatures, table_confidences
from idn_core.evaluate import RequestStream, make_requests, pareto_front
from idn_core.oracle_bound import oracle_accuracy_at, oracle_frontier, oracle_latency_for
from idn_core.outputs import OutputsTable
from idn_core.path_latency import PathLatency, scenario_latency, select_tiers
from idn_core.policies import GainAwareForwarding, LearnedForwarding, cascade_answer
from idn_core.policy_search import (
    cascade_grid,
    cascade_metrics,
    choose_within_tolerance,
    threshold_candidates,
)
from idn_core.sample_weights import (
    SampleWeights,
    decision_metrics,
    gap_bound,
    request_weights,
    uniform_weights,
)


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
    scenario, n_requests: int = 1_000_000, seed: int = 0, topology=None, learned: bool = True
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

    Cascade families use :func:`~idn_core.policy_search.choose_within_tolerance`
    (prediction bound for the test gap, corrected for the winner's curse); gain-aware
    forwarding takes the cheapest ``alpha`` whose validation prediction bound passes. Columns:
    family, thresholds (cascades) or alpha (gain-aware), the bootstrap optimism, validation
    latency and bound, test accuracy, latency, forwarded share, gap (pp), ratio to cloud-only,
    and ``chosen`` marking the family with the least validation latency.
    """
    k = setup.val.n_models
    corr_v, corr_t = setup.val.correct(), setup.test.correct()
    rows = []
    for family, cv in setup.conf_val.items():
        grids = [threshold_candidates(cv[h], n_grid) for h in range(k - 1)]
        t, info = choose_within_tolerance(
            cv[: k - 1],
            corr_v,
            setup.w_val,
            grids,
            corr_v[-1],
            tolerance,
            n_future=setup.test.n_samples,
        )
        m = cascade_metrics(setup.conf_test[family][: k - 1], corr_t, setup.w_test, t).iloc[0]
        rows.append(
            {
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
        )
    alphas = np.geomspace(1e-5, 1e-1, 41) if alphas is None else alphas
    ga = gain_aware_curve(setup, alphas)
    val = ga[(ga.split == "val") & (ga.gap_lcb >= -tolerance)]
    if not val.empty:
        best = val.sort_values(["latency_ms", "alpha"]).iloc[0]
        test = ga[(ga.split == "test") & (ga.alpha == best.alpha)].iloc[0]
        rows.append(
            {
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
        )
    frame = pd.DataFrame(rows)
    frame["gap_pp"] = 100 * (frame.accuracy - setup.cloud_accuracy)
    frame["latency_ratio"] = frame.latency_ms / setup.cloud_latency_ms
    frame["chosen"] = frame.val_latency_ms == frame.val_latency_ms.min()
    return frame


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


def what_if(scenario, setup: DeliverySetup, tolerance: float = 0.005) -> dict:
    """Captured share of the oracle's saving if one hop decided perfectly, or with stronger models.

    Perfect hop: that hop's confidence is replaced by the oracle's knowledge (forward iff
    the local answer is wrong and a tier above is right); thresholds still chosen on
    validation. Stronger zoo: the zoo's regional model (too big for an edge node's 128 KiB)
    takes the edge's place on the same path latencies.
    """
    wv, wt = setup.w_val, setup.w_test
    out = {}

    def captured(val, test, cv, ct) -> float:
        cv_, ct_ = val.correct(), test.correct()
        grids = [threshold_candidates(cv[h], 100) for h in range(2)]
        t, _ = choose_within_tolerance(
            cv[:2], cv_, wv, grids, cv_[2], tolerance, n_future=test.n_samples
        )
        m = cascade_metrics(ct[:2], ct_, wt, t).iloc[0]
        cloud_lat = wt.pattern_latency[:, 4].sum()
        front = oracle_frontier(ct_, wt)
        o_ratio = oracle_latency_for(front, wt.count @ ct_[2] - tolerance) / cloud_lat
        return round(float((1 - m.latency_ms / cloud_lat) / (1 - o_ratio)), 3)

    def perfect(corr, hop):
        helps = ~corr[hop] & corr[hop + 1 :].any(axis=0)
        return np.where(helps, 0.2, 0.8)

    cv, ct = (
        setup.conf_val["max_prob calibrated"].copy(),
        setup.conf_test["max_prob calibrated"].copy(),
    )
    for hop, name in ((0, "perfect_device_hop"), (1, "perfect_edge_hop")):
        a, b = cv.copy(), ct.copy()
        a[hop], b[hop] = perfect(scenario.val.correct(), hop), perfect(scenario.test.correct(), hop)
        out[name] = captured(scenario.val, scenario.test, a, b)
    val_all, test_all = scenario.zoo.outputs("val"), scenario.zoo.outputs("test")
    names = list(scenario.zoo.models)
    for label, models in (
        ("regional_as_edge", (names[0], names[2], names[3])),
        ("edge_as_device_regional_as_edge", (names[1], names[2], names[3])),
    ):
        v, t = val_all.select(models), test_all.select(models)
        temps = fit_temperatures(v)
        out[label] = captured(
            v, t, table_confidences(v, "max_prob", temps), table_confidences(t, "max_prob", temps)
        )
        out[label + "_acc"] = [round(a, 4) for a in t.accuracy().values()]
    return out


def tolerance_coverage(
    scenario,
    setup: DeliverySetup,
    tolerance: float = 0.005,
    n_splits: int = 40,
    n_grid: int = 60,
    seed: int = 0,
) -> pd.DataFrame:
    """How often each way of choosing thresholds keeps its promise on unseen data.

    The validation and test samples are pooled and split at random into halves ``n_splits``
    times; on each split temperatures and thresholds (calibrated maximum probability) are
    chosen on one half and the accuracy gap to cloud-only is measured on the other. Three
    rules: ``naive`` (validation gap >= -tolerance), ``prediction bound`` (one-sided 95 %
    bound for the test gap) and ``bound + bootstrap`` (the chapter's rule, corrected for the
    winner's curse). Returns one row per rule: ``coverage`` (share of splits whose test gap
    is within the tolerance), mean test gap (pp) and mean latency ratio to cloud-only.
    """
    logits = np.concatenate([scenario.val.logits, scenario.test.logits], axis=1)
    labels = np.concatenate([scenario.val.labels, scenario.test.labels])
    rng = np.random.default_rng(seed)
    k, rows = logits.shape[0], []
    for _ in range(n_splits):
        perm = rng.permutation(len(labels))
        half = len(labels) // 2
        parts = [
            OutputsTable(scenario.val.models, logits[:, idx], labels[idx], name)
            for idx, name in ((perm[:half], "val"), (perm[half:], "test"))
        ]
        val, test = parts
        temps = fit_temperatures(val)
        cv, ct = (
            table_confidences(val, "max_prob", temps),
            table_confidences(test, "max_prob", temps),
        )
        wv, wt = (
            uniform_weights(val.n_samples, setup.latency),
            uniform_weights(test.n_samples, setup.latency),
        )
        grids = [threshold_candidates(cv[h], n_grid) for h in range(k - 1)]
        corr_v, corr_t = val.correct(), test.correct()
        cloud_lat = float(wt.pattern_latency[:, 1 << (k - 1)].sum())
        naive = cascade_grid(cv[: k - 1], corr_v, wv, grids, corr_v[-1], z=0.0).cheapest_reaching(
            use_bound=True, tolerance=tolerance
        )
        bound = cascade_grid(
            cv[: k - 1], corr_v, wv, grids, corr_v[-1], n_future=test.n_samples
        ).cheapest_reaching(use_bound=True, tolerance=tolerance)
        boot, _ = choose_within_tolerance(
            cv[: k - 1],
            corr_v,
            wv,
            grids,
            corr_v[-1],
            tolerance,
            n_future=test.n_samples,
            n_boot=20,
            seed=int(rng.integers(1 << 31)),
        )
        for rule, t in (("naive", naive), ("prediction bound", bound), ("bound + bootstrap", boot)):
            m = cascade_metrics(ct[: k - 1], corr_t, wt, t).iloc[0]
            gap = m.accuracy - float(wt.count @ corr_t[-1])
            rows.append(
                {
                    "rule": rule,
                    "gap_pp": 100 * gap,
                    "latency_ratio": m.latency_ms / cloud_lat,
                    "kept": gap >= -tolerance - 1e-12,
                }
            )
    frame = pd.DataFrame(rows)
    return (
        frame.groupby("rule", sort=False)
        .agg(
            coverage=("kept", "mean"),
            mean_gap_pp=("gap_pp", "mean"),
            worst_gap_pp=("gap_pp", "min"),
            mean_latency_ratio=("latency_ratio", "mean"),
        )
        .reset_index()
    )


def answer_shares(conf: np.ndarray, thresholds: np.ndarray, weights: SampleWeights) -> np.ndarray:
    """Share of requests answered at each tier by a cascade with ``thresholds``: ``(K,)``."""
    answer = cascade_answer(conf[: len(thresholds)], thresholds)
    return np.bincount(answer, weights=weights.count, minlength=len(thresholds) + 1)
