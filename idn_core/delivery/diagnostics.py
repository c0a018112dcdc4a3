"""Diagnostics of chapter 2's choices: where the distance to the oracle sits, and whether
the threshold rule keeps its promise on unseen data.

:func:`what_if` replays the validation-chosen procedure with one hop made perfect or with
stronger models on the path; :func:`tolerance_coverage` re-splits validation and test
samples many times and counts how often each selection rule keeps the accuracy tolerance.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from idn_core._util.validation import check_seed
from idn_core.delivery.experiments import DeliverySetup
from idn_core.delivery.oracle_bound import oracle_frontier, oracle_latency_for
from idn_core.delivery.sample_weights import uniform_weights
from idn_core.delivery.search import (
    cascade_grid,
    cascade_metrics,
    choose_within_tolerance,
    threshold_candidates,
)
from idn_core.learning.outputs import OutputsTable
from idn_core.learning.scores import fit_temperatures, table_confidences
from idn_core.network.latency import PathLatency
from idn_core.network.scenario import Scenario


def what_if(scenario: Scenario, setup: DeliverySetup, tolerance: float = 0.005) -> dict:
    """Captured share of the oracle's saving if one hop decided perfectly, or with stronger models.

    Perfect hop: that hop's confidence is replaced by the oracle's knowledge (forward iff
    the local answer is wrong and a tier above is right); thresholds still chosen on
    validation. Stronger zoo: the zoo's regional model (too big for an edge node's 128 KiB)
    takes the edge's place on the same path latencies.
    """
    wv, wt = setup.w_val, setup.w_test
    out = {}

    def captured(val: OutputsTable, test: OutputsTable, cv: np.ndarray, ct: np.ndarray) -> float:
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

    def perfect(corr: np.ndarray, hop: int) -> np.ndarray:
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
    scenario: Scenario,
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
    check_seed(seed)
    logits = np.concatenate([scenario.val.logits, scenario.test.logits], axis=1)
    labels = np.concatenate([scenario.val.labels, scenario.test.labels])
    rng = np.random.default_rng(seed)
    rows = []
    for _ in range(n_splits):
        val, test = random_halves(scenario.val.models, logits, labels, rng)
        rows += rule_outcomes(val, test, setup.latency, tolerance, n_grid, rng)
    return (
        pd.DataFrame(rows)
        .groupby("rule", sort=False)
        .agg(
            coverage=("kept", "mean"),
            mean_gap_pp=("gap_pp", "mean"),
            worst_gap_pp=("gap_pp", "min"),
            mean_latency_ratio=("latency_ratio", "mean"),
        )
        .reset_index()
    )


def random_halves(
    models: tuple[str, ...], logits: np.ndarray, labels: np.ndarray, rng: np.random.Generator
) -> tuple[OutputsTable, OutputsTable]:
    """Pooled samples (``logits`` ``(K, N, C)``, ``labels`` ``(N,)``) split at random into
    a ``"val"`` and a ``"test"`` half (one permutation drawn from ``rng``)."""
    perm = rng.permutation(len(labels))
    half = len(labels) // 2
    val, test = (
        OutputsTable(models, logits[:, idx], labels[idx], name)
        for idx, name in ((perm[:half], "val"), (perm[half:], "test"))
    )
    return val, test


def rule_outcomes(
    val: OutputsTable,
    test: OutputsTable,
    latency: PathLatency,
    tolerance: float,
    n_grid: int,
    rng: np.random.Generator,
) -> list[dict]:
    """Thresholds chosen on ``val`` by each rule, measured on ``test``: one row per rule.

    Rows: ``rule``, test gap to cloud-only (``gap_pp``, pp), ``latency_ratio`` to cloud-only
    and ``kept`` (gap within ``tolerance``). The bootstrap draws its seed from ``rng``.
    """
    k = val.n_models
    temps = fit_temperatures(val)
    cv = table_confidences(val, "max_prob", temps)
    ct = table_confidences(test, "max_prob", temps)
    wv, wt = uniform_weights(val.n_samples, latency), uniform_weights(test.n_samples, latency)
    grids = [threshold_candidates(cv[h], n_grid) for h in range(k - 1)]
    corr_v, corr_t = val.correct(), test.correct()
    cloud_lat = float(wt.pattern_latency[:, 1 << (k - 1)].sum())
    choose = dict(use_bound=True, tolerance=tolerance)
    naive = cascade_grid(cv[: k - 1], corr_v, wv, grids, corr_v[-1], z=0.0).cheapest_reaching(
        **choose
    )
    bound = cascade_grid(
        cv[: k - 1], corr_v, wv, grids, corr_v[-1], n_future=test.n_samples
    ).cheapest_reaching(**choose)
    boot, _ = choose_within_tolerance(
        cv[: k - 1], corr_v, wv, grids, corr_v[-1], tolerance,
        n_future=test.n_samples, n_boot=20, seed=int(rng.integers(1 << 31)),
    )  # fmt: skip
    rows = []
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
    return rows
