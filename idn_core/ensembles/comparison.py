"""Chapter 3's comparison: ensembles against chapter 2's cascades and the oracle, on one stream.

Every policy is tuned on the validation split and reported on the same seeded test request
stream through :func:`idn_core.delivery.evaluation.evaluate`, so all points share one accuracy-latency
plane and one models-queried axis. The reference point is chapter 2's choice: the cheapest
threshold cascade whose accuracy stays within ``tolerance`` of cloud-only
(:func:`idn_core.delivery.search.choose_within_tolerance`); its test mean latency is the
budget at which the best cascade and the best ensemble are compared.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from idn_core._util.validation import check_seed
from idn_core.delivery.evaluation import Decision, evaluate, make_requests, pareto_front, summarize
from idn_core.delivery.oracle_bound import oracle_frontier
from idn_core.delivery.policies import cascade_decision, forward_to
from idn_core.delivery.sample_weights import request_weights, uniform_weights
from idn_core.delivery.search import cascade_grid, cascade_metrics, threshold_candidates
from idn_core.ensembles.bagging import Members
from idn_core.ensembles.boosting import early_stop_decision, samme_predict
from idn_core.ensembles.combining import (
    full_ensemble_decision,
    log_vote,
    query_on_doubt_decision,
    stacked_running,
    vote_weights,
)
from idn_core.ensembles.paths import PathEnsemble, path_ensemble, stage_decision, stage_running
from idn_core.learning.outputs import OutputsTable
from idn_core.learning.scores import confidence, fit_temperatures, table_confidences
from idn_core.network.deployment import Placement
from idn_core.network.latency import scenario_latency


@dataclass
class EnsembleComparison:
    """Every policy's test metrics on one request stream.

    Attributes
    ----------
    points : one row per evaluated policy (``family``, ``policy``, ``accuracy``,
        ``latency_ms``, ``models_queried``, ``forwarded``, ``p95_ms``, loads).
    fronts : family -> validation-chosen Pareto front (or sweep) reported on test.
    oracle : the oracle frontier on the test stream.
    budget_ms : chapter 2's cascade latency (the comparison budget).
    numbers : headline numbers (the benchmark's keys).
    """

    points: pd.DataFrame
    fronts: dict[str, pd.DataFrame]
    oracle: pd.DataFrame
    budget_ms: float
    numbers: dict[str, float | str] = field(default_factory=dict)


def place_committees(scenario, committees: dict[int, Members]) -> Placement:
    """The scenario's placement with each committee added to every node of its tier.

    Raises ``ValueError`` (from :class:`~idn_core.network.deployment.Placement`) if a committee
    does not fit in the memory left on its nodes.
    """
    sizes = dict(scenario.placement.model_sizes_kb)
    assignment = {n: list(m) for n, m in scenario.placement.as_dict().items()}
    tiers = scenario.latency_table().drop_duplicates("node")
    for k, members in committees.items():
        tier = scenario.zoo[scenario.path_models[k]].spec.tier
        sizes.update(
            {n: m.profile.memory_kb for n, m in zip(members.names, members.models, strict=True)}
        )
        for node in tiers.loc[tiers.tier == tier, "node"]:
            assignment.setdefault(node, []).extend(members.names)
    return Placement(scenario.topology, assignment, sizes)


def committee_ensemble(
    scenario, committees: dict[int, Members] | None = None, mode: str = "relay"
) -> PathEnsemble:
    """The path's models plus committees: ``{tier: members}`` placed with that tier's model.

    The committees must fit in their nodes' memory (checked by :func:`place_committees`).
    """
    committees = committees or {}
    place_committees(scenario, committees)
    names, tiers, flops, val, test = [], [], [], [], []
    zoo_flops = scenario.zoo.flops()
    for k, model in enumerate(scenario.path_models):
        names.append(model), tiers.append(k), flops.append(zoo_flops[model])
        val.append(scenario.val.logits[k : k + 1]), test.append(scenario.test.logits[k : k + 1])
        if k in committees:
            c = committees[k]
            names += list(c.names)
            tiers += [k] * len(c.names)
            flops += c.flops()
            val.append(c.val.logits), test.append(c.test.logits)
    v = OutputsTable(tuple(names), np.concatenate(val), scenario.val.labels, "val")
    t = OutputsTable(tuple(names), np.concatenate(test), scenario.test.labels, "test")
    gflops = {n.name: n.compute_gflops for n in scenario.topology.nodes}
    return path_ensemble(scenario_latency(scenario), v, t, tiers, flops, gflops, mode)


def boosted_ensemble(scenario, members: Members, tiers: list[int] | None = None) -> PathEnsemble:
    """Boosted members along the path (default: first on the device, last in the cloud, others at the edge)."""
    m = len(members.models)
    tiers = tiers if tiers is not None else [0] + [1] * max(m - 2, 0) + ([2] if m > 1 else [])
    gflops = {n.name: n.compute_gflops for n in scenario.topology.nodes}
    path = scenario_latency(scenario)
    return path_ensemble(path, members.val, members.test, tiers, members.flops(), gflops)


def _row(decision: Decision, table: OutputsTable, requests, latency, family: str, policy: str):
    row = summarize(evaluate(decision, table, requests, latency), policy)
    row["family"] = family
    return row


def _index(grid, thresholds) -> tuple[int, ...]:
    return tuple(
        int(np.flatnonzero(g == v)[0]) for g, v in zip(grid.thresholds, thresholds, strict=True)
    )


def ensemble_runs(ens: PathEnsemble) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Stage combinations (validation, test): cumulative soft, weighted log and stacked votes
    of every member queried so far, and the soft vote of each stage's own committee."""
    stage = ens.stage_of_member()
    pv, pt = ens.val.probs(), ens.test.probs()
    w = vote_weights(ens.val.correct(), "log_odds", ens.val.n_classes)
    return {
        "soft vote": (stage_running(pv, stage, "soft"), stage_running(pt, stage, "soft")),
        "weighted log vote": (
            stage_running(pv, stage, "log", w),
            stage_running(pt, stage, "log", w),
        ),
        "stacking": stacked_running(pv, ens.val.labels, pt, stage),
        "committee soft vote": (
            stage_running(pv, stage, "soft", cumulative=False),
            stage_running(pt, stage, "soft", cumulative=False),
        ),
    }


def compare(
    scenario,
    committees: dict[int, Members] | None = None,
    boosted: Members | None = None,
    n_requests: int = 200_000,
    seed: int = 0,
    tolerance: float = 0.005,
    n_grid: int = 40,
    learned: bool = True,
) -> EnsembleComparison:
    """Evaluate cascades, ensembles, query-on-doubt and boosting on one test request stream.

    Parameters
    ----------
    scenario : the running scenario (its path models are the cascade's tiers).
    committees : extra members per tier index (e.g. ``{1: edge committee, 2: cloud committee}``).
    boosted : SAMME members (:func:`idn_core.ensembles.bagging.train_boosted`), placed along the path.
    n_requests, seed : the test request stream.
    tolerance : chapter 2's accuracy tolerance to cloud-only that sets the latency budget.
    n_grid : thresholds per hop in the validation grids.
    learned : include chapter 2's learned forwarding rule among the cascade families.
    """
    check_seed(seed)
    path = scenario_latency(scenario)
    val, test = scenario.val, scenario.test
    requests = make_requests(n_requests, test.n_samples, path.devices, seed)
    w_test, w_val = request_weights(requests, path), uniform_weights(val.n_samples, path)
    corr_v, corr_t = val.correct(), test.correct()
    temps = fit_temperatures(val)
    conf_v = table_confidences(val, "max_prob", temps)
    conf_t = table_confidences(test, "max_prob", temps)
    rows, fronts = [], {}

    for k, name in enumerate(("local only", "edge only", "cloud only")):
        d = forward_to(k, test.n_samples, 3)
        rows.append(_row(d, test, requests, path, "single model", name))
    family, t_ch2, cv, ct = chapter2_choice(scenario, n_requests, seed, tolerance, learned)
    ch2 = _row(cascade_decision(ct, t_ch2), test, requests, path, "cascade", "chapter 2 choice")
    budget = float(ch2["latency_ms"])
    grids = [threshold_candidates(cv[h], n_grid) for h in range(2)]
    grid_v = cascade_grid(cv[:2], corr_v, w_val, grids)
    front = pareto_front(grid_v.frame())[["t0", "t1"]].to_numpy()
    fronts["cascade"] = pareto_front(cascade_metrics(ct, corr_t, w_test, front))
    t_best = grid_v.best_under_latency(budget)
    best_cascade = _row(
        cascade_decision(ct, t_best), test, requests, path, "cascade", "best cascade at budget"
    )
    if best_cascade["accuracy"] < ch2["accuracy"]:  # the budget's own point may be better
        best_cascade = dict(ch2, policy="best cascade at budget")
    rows += [ch2, best_cascade]

    ens = committee_ensemble(scenario, committees)
    stage = ens.stage_of_member()
    st_lat = ens.stage_latency()
    w_val_st = uniform_weights(val.n_samples, st_lat)
    w_test_st = request_weights(requests, st_lat)
    best = None
    for rule, (rv, rt) in ensemble_runs(ens).items():
        full = full_ensemble_decision(rt[-1], ens.n_members)
        rows.append(_row(full, ens.test, requests, ens.latency, "full ensemble", rule))
        cv, ct = confidence(rv[:-1]), confidence(rt[:-1])
        cor_v, cor_t = rv.argmax(2) == ens.val.labels, rt.argmax(2) == ens.test.labels
        g = [threshold_candidates(cv[h], n_grid) for h in range(cv.shape[0])]
        grid = cascade_grid(cv, cor_v, w_val_st, g)
        fr = pareto_front(grid.frame())[[f"t{h}" for h in range(cv.shape[0])]].to_numpy()
        fronts[f"ensemble cascade ({rule})"] = pareto_front(
            cascade_metrics(ct, cor_t, w_test_st, fr)
        )
        t = grid.best_under_latency(budget)
        d = stage_decision(rt, stage, t)
        r = _row(d, ens.test, requests, ens.latency, "ensemble cascade", rule)
        rows.append(r)
        val_acc = float(grid.accuracy[_index(grid, t)])  # the rule is chosen on validation
        if best is None or val_acc > best[0]:
            best = (val_acc, r)

    qod, eq = query_on_doubt_sweep(test, val, conf_v[0], conf_t[0], requests, path, ch2)
    for fam in qod.family.unique():
        fronts[fam] = qod[qod.family == fam].sort_values("latency_ms").reset_index(drop=True)

    numbers: dict[str, float | str] = {}
    if boosted is not None:
        b_rows, fronts["boosting (confidence rule)"], frac = boosting_rows(
            scenario, boosted, requests
        )
        rows += b_rows
        numbers["boost_queried_fraction"] = frac
    points = pd.DataFrame(rows)
    oracle = oracle_frontier(corr_t, w_test)
    numbers.update(
        {
            "budget_ms": budget,
            "cloud_acc": float(points.loc[points.policy == "cloud only", "accuracy"].iloc[0]),
            "chapter2_family": family,
            "chapter2_cascade_acc": float(ch2["accuracy"]),
            "best_cascade_acc": float(best_cascade["accuracy"]),
            "best_ensemble_acc": float(best[1]["accuracy"]),
            "best_ensemble_rule": str(best[1]["policy"]),
            "best_ensemble_latency_ms": float(best[1]["latency_ms"]),
            "ensemble_gain_pp": 100 * float(best[1]["accuracy"] - best_cascade["accuracy"]),
            "combine_vs_replace_pp": 100 * (eq["combine"] - eq["replace"]),
            "forwarded_fraction": float(ch2["forwarded"]),
            "oracle_acc_at_budget": float(np.interp(budget, oracle.latency_ms, oracle.accuracy)),
        }
    )
    return EnsembleComparison(points, fronts, oracle, budget, numbers)


def chapter2_choice(
    scenario, n_requests: int, seed: int, tolerance: float, learned: bool = True
) -> tuple[str, np.ndarray, np.ndarray, np.ndarray]:
    """Chapter 2's chosen cascade: the cheapest validation-chosen cascade within ``tolerance``
    of cloud-only (:func:`idn_core.delivery.experiments.choose_policies`).

    Returns its family (e.g. ``"margin calibrated"``), thresholds ``(K-1,)`` and the family's
    validation and test confidences.
    """
    check_seed(seed)
    from idn_core.delivery.experiments import choose_policies, prepare_delivery

    setup = prepare_delivery(scenario, n_requests, seed, learned=learned)
    choices = choose_policies(setup, tolerance)
    cascades = choices[choices.thresholds.notna()]
    best = cascades.loc[cascades.val_latency_ms.idxmin()]
    family = str(best.family)
    thresholds = np.asarray(best.thresholds, dtype=float)
    return family, thresholds, setup.conf_val[family], setup.conf_test[family]


def query_on_doubt_sweep(test, val, conf_v0, conf_t0, requests, path, reference, n_points=21):
    """Query-on-doubt (combine the device and cloud answers) against forwarding (cloud replaces).

    Both query the cloud exactly when the device's confidence is below the threshold, so
    at every threshold they have the same forwarded share and latency. Returns the sweep
    and the accuracies at the forwarded share of ``reference`` (threshold set on validation).
    """
    w = vote_weights(val.correct()[[0, 2]], "log_odds", val.n_classes)
    combined = log_vote(test.probs()[[0, 2]], w).argmax(1)
    pred = test.predictions()
    doubt = {"combine": combined, "replace": pred[2]}
    family = {"combine": "query-on-doubt (combine)", "replace": "forward on doubt (replace)"}
    rows = []
    for th in threshold_candidates(conf_v0, n_points):
        for key, dp in doubt.items():
            d = query_on_doubt_decision(conf_t0, float(th), pred[0], dp, (2,), 3)
            r = _row(d, test, requests, path, family[key], f"t={th:.3f}")
            r["threshold"] = float(th)
            rows.append(r)
    th_eq = float(np.quantile(conf_v0, float(reference["forwarded"])))
    eq = {}
    for key, dp in doubt.items():
        d = query_on_doubt_decision(conf_t0, th_eq, pred[0], dp, (2,), 3)
        eq[key] = float(summarize(evaluate(d, test, requests, path))["accuracy"])
    return pd.DataFrame(rows), eq


def boosting_rows(scenario, boosted: Members, requests, taus=(0.5, 0.6, 0.7, 0.8, 0.9)):
    """Boosting along the path: exact early stopping, all members, and the confidence rule sweep.

    Returns the two points, the sweep over ``tau`` and the mean fraction of members
    queried under exact early stopping.
    """
    b = boosted.boosting
    if b is None:
        raise ValueError("boosted members carry no SAMME result; use train_boosted")
    ens = boosted_ensemble(scenario, boosted)
    preds = boosted.test.predictions()
    exact = early_stop_decision(preds, b.alphas, b.n_classes)
    full = full_ensemble_decision(samme_predict(preds, b.alphas, b.n_classes), b.n_members)
    out = evaluate(exact, boosted.test, requests, ens.latency)
    rows = [
        _row(exact, boosted.test, requests, ens.latency, "boosting", "exact early stop"),
        _row(full, boosted.test, requests, ens.latency, "boosting", "all members"),
    ]
    sweep = []
    for tau in taus:
        d = early_stop_decision(preds, b.alphas, b.n_classes, tau)
        r = _row(d, boosted.test, requests, ens.latency, "boosting (confidence rule)", f"tau={tau}")
        r["tau"] = float(tau)
        sweep.append(r)
    return rows, pd.DataFrame(sweep), float(out.n_queried.mean() / b.n_members)
