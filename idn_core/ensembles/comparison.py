"""Ensembles against threshold cascades and the oracle, on one request stream.

Every policy is tuned on the validation split and reported on the same seeded test request
stream through :func:`idn_core.delivery.evaluation.evaluate`, so all points share one accuracy-latency
plane and one models-queried axis. The reference point is the reference cascade
(:func:`reference_cascade`): the cheapest threshold cascade whose accuracy stays within
``tolerance`` of cloud-only (:func:`idn_core.delivery.search.choose_within_tolerance`); its
test mean latency is the budget at which the best cascade and the best ensemble are compared.

:func:`compare` runs the steps in order: the test stream (:func:`comparison_stream`), the
single models (:func:`single_model_rows`), the reference cascade and the best cascade at
its budget (:func:`cascade_rows`), the ensemble cascades per combination rule
(:func:`ensemble_cascade_rows`), query-on-doubt (:func:`query_on_doubt_sweep`), boosting
(:func:`boosting_rows`) and the headline numbers (:func:`headline_numbers`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from idn_core._util.validation import check_seed
from idn_core.delivery.evaluation import Decision, evaluate, pareto_front, summarize
from idn_core.delivery.experiments import choose_policies, prepare_delivery
from idn_core.delivery.oracle_bound import oracle_frontier
from idn_core.delivery.policies import cascade_decision, forward_to
from idn_core.delivery.sample_weights import SampleWeights, request_weights, uniform_weights
from idn_core.delivery.search import (
    CascadeGrid,
    cascade_grid,
    cascade_metrics,
    threshold_candidates,
)
from idn_core.ensembles.bagging import Members
from idn_core.ensembles.boosting import early_stop_decision, samme_predict
from idn_core.ensembles.combining import (
    full_ensemble_decision,
    log_vote,
    query_on_doubt_decision,
    stacked_running,
    vote_weights,
)
from idn_core.ensembles.paths import (
    PathEnsemble,
    path_ensemble,
    rule_accuracies,
    stage_decision,
    stage_running,
)
from idn_core.learning.outputs import OutputsTable
from idn_core.learning.scores import confidence, fit_temperatures, table_confidences
from idn_core.network.deployment import Placement
from idn_core.network.latency import PathLatency
from idn_core.network.requests import RequestStream, make_requests
from idn_core.network.scenario import Scenario, scenario_latency


@dataclass
class EnsembleComparison:
    """Every policy's test metrics on one request stream.

    Attributes
    ----------
    points : one row per evaluated policy (``family``, ``policy``, ``accuracy``,
        ``latency_ms``, ``models_queried``, ``forwarded``, ``p95_ms``, loads).
    fronts : family -> validation-chosen Pareto front (or sweep) reported on test.
    oracle : the oracle frontier on the test stream.
    budget_ms : the reference cascade's test latency (the comparison budget), ms.
    numbers : the headline numbers (the chapter's and the benchmark's).
    """

    points: pd.DataFrame
    fronts: dict[str, pd.DataFrame]
    oracle: pd.DataFrame
    budget_ms: float
    numbers: ComparisonNumbers


def place_committees(scenario: Scenario, committees: dict[int, Members]) -> Placement:
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
    scenario: Scenario, committees: dict[int, Members] | None = None, mode: str = "relay"
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


def boosted_ensemble(
    scenario: Scenario, members: Members, tiers: list[int] | None = None
) -> PathEnsemble:
    """Boosted members along the path, member ``i`` on tier ``tiers[i]``.

    Default: the first on the device (tier 0), the last on the path's last tier (the
    cloud), the others on tier 1 (the edge).
    """
    m = len(members.models)
    path = scenario_latency(scenario)
    last = len(path.tiers) - 1
    tiers = tiers if tiers is not None else [0] + [1] * max(m - 2, 0) + ([last] if m > 1 else [])
    gflops = {n.name: n.compute_gflops for n in scenario.topology.nodes}
    return path_ensemble(path, members.val, members.test, tiers, members.flops(), gflops)


def _row(
    decision: Decision,
    table: OutputsTable,
    requests: RequestStream,
    latency: PathLatency,
    family: str,
    policy: str,
) -> dict:
    """The test metrics of one policy (:func:`summarize`), labelled with its family."""
    row = summarize(evaluate(decision, table, requests, latency), policy)
    row["family"] = family
    return row


def _index(grid: CascadeGrid, thresholds: np.ndarray) -> tuple[int, ...]:
    """Grid cell of ``thresholds`` (one value of each hop's grid)."""
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
    scenario: Scenario,
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
    tolerance : accuracy tolerance to cloud-only of the reference cascade, which sets the
        latency budget (:func:`reference_cascade`).
    n_grid : thresholds per hop in the validation grids.
    learned : include the learned forwarding rule among the reference cascade's families.
    """
    stream = comparison_stream(scenario, n_requests, seed)
    ref = reference_cascade(scenario, n_requests, seed, tolerance, learned)
    cascades = cascade_rows(stream, ref, n_grid)
    ensembles = ensemble_cascade_rows(
        committee_ensemble(scenario, committees), stream, cascades.budget_ms, n_grid
    )
    qod, eq = device_query_on_doubt(stream, cascades.reference)
    rows = single_model_rows(stream) + [cascades.reference, cascades.best] + ensembles.rows
    fronts = {"cascade": cascades.front, **ensembles.fronts, **_split_by_family(qod)}
    boost_fraction = None
    if boosted is not None:
        b_rows, fronts["boosting (confidence rule)"], boost_fraction = boosting_rows(
            scenario, boosted, stream.requests
        )
        rows += b_rows
    points = pd.DataFrame(rows)
    oracle = oracle_frontier(stream.test.correct(), stream.w_test)
    numbers = headline_numbers(points, ref, cascades, ensembles, eq, oracle, boost_fraction)
    return EnsembleComparison(points, fronts, oracle, cascades.budget_ms, numbers)


@dataclass(frozen=True)
class ComparisonStream:
    """The splits, the path and the seeded test request stream every policy is reported on.

    Attributes
    ----------
    val, test : outputs tables of the path models (tune on ``val``, report on ``test``).
    path : the path's latencies (``K`` tiers).
    requests : the seeded test request stream.
    w_val : uniform weights over the validation samples (for tuning).
    w_test : exact weights of ``requests`` over the test samples.
    """

    val: OutputsTable
    test: OutputsTable
    path: PathLatency
    requests: RequestStream
    w_val: SampleWeights
    w_test: SampleWeights

    @property
    def n_tiers(self) -> int:
        """``K``: the number of models on the path."""
        return self.test.n_models


def comparison_stream(scenario: Scenario, n_requests: int, seed: int) -> ComparisonStream:
    """The scenario's splits, path latency and a seeded stream of ``n_requests`` test requests."""
    path = scenario_latency(scenario)
    val, test = scenario.val, scenario.test
    requests = make_requests(n_requests, test.n_samples, path.devices, seed)
    w_test, w_val = request_weights(requests, path), uniform_weights(val.n_samples, path)
    return ComparisonStream(val, test, path, requests, w_val, w_test)


def single_model_rows(stream: ComparisonStream) -> list[dict]:
    """One row per tier: every request sent straight to that tier's model."""
    rows = []
    for k in range(stream.n_tiers):
        name = "local only" if k == 0 else f"{stream.path.tiers[k]} only"
        d = forward_to(k, stream.test.n_samples, stream.n_tiers)
        rows.append(_row(d, stream.test, stream.requests, stream.path, "single model", name))
    return rows


@dataclass(frozen=True)
class ReferenceCascade:
    """The cheapest threshold cascade within a tolerance of cloud-only, chosen on validation.

    Attributes
    ----------
    family : its confidence family (e.g. ``"margin calibrated"``).
    thresholds : ``(K-1,)`` per-hop thresholds.
    conf_val, conf_test : the family's confidences on each split, ``(K, N)`` (learned:
        ``(K-1, N)``).
    """

    family: str
    thresholds: np.ndarray
    conf_val: np.ndarray
    conf_test: np.ndarray


def reference_cascade(
    scenario: Scenario, n_requests: int, seed: int, tolerance: float, learned: bool = True
) -> ReferenceCascade:
    """The reference cascade: the cheapest validation-chosen cascade within ``tolerance``
    of cloud-only over every confidence family (:func:`idn_core.delivery.experiments.choose_policies`).

    Its test latency is the budget at which cascades and ensembles are compared.
    """
    check_seed(seed)
    setup = prepare_delivery(scenario, n_requests, seed, learned=learned)
    choices = choose_policies(setup, tolerance)
    cascades = choices[choices.thresholds.notna()]
    best = cascades.loc[cascades.val_latency_ms.idxmin()]
    family = str(best.family)
    thresholds = np.asarray(best.thresholds, dtype=float)
    return ReferenceCascade(family, thresholds, setup.conf_val[family], setup.conf_test[family])


@dataclass(frozen=True)
class CascadeRows:
    """The threshold cascades on the test stream.

    Attributes
    ----------
    reference : row of the reference cascade; its mean latency is ``budget_ms``.
    best : row of the most accurate validation-chosen cascade within the budget.
    front : the validation Pareto front of the reference family, reported on test.
    """

    reference: dict
    best: dict
    front: pd.DataFrame

    @property
    def budget_ms(self) -> float:
        """The comparison's latency budget: the reference cascade's mean test latency (ms)."""
        return float(self.reference["latency_ms"])


def cascade_rows(stream: ComparisonStream, ref: ReferenceCascade, n_grid: int) -> CascadeRows:
    """The reference cascade, the reference family's front and its best cascade at the budget."""
    test, requests, path = stream.test, stream.requests, stream.path
    reference = _row(
        cascade_decision(ref.conf_test, ref.thresholds),
        test, requests, path, "cascade", "chapter 2 choice",
    )  # fmt: skip
    budget = float(reference["latency_ms"])
    hops = stream.n_tiers - 1
    cv, ct = ref.conf_val[:hops], ref.conf_test
    grids = [threshold_candidates(cv[h], n_grid) for h in range(hops)]
    grid_v = cascade_grid(cv, stream.val.correct(), stream.w_val, grids)
    thresholds = pareto_front(grid_v.frame())[[f"t{h}" for h in range(hops)]].to_numpy()
    front = pareto_front(cascade_metrics(ct, test.correct(), stream.w_test, thresholds))
    t_best = grid_v.best_under_latency(budget)
    best = _row(
        cascade_decision(ct, t_best), test, requests, path, "cascade", "best cascade at budget"
    )
    if best["accuracy"] < reference["accuracy"]:  # the budget's own point may be better
        best = dict(reference, policy="best cascade at budget")
    return CascadeRows(reference, best, front)


@dataclass(frozen=True)
class EnsembleRows:
    """The committee ensemble on the test stream, one combination rule at a time.

    Attributes
    ----------
    rows : per rule, the full ensemble's row then the ensemble cascade's row at the budget.
    fronts : ``"ensemble cascade (<rule>)"`` -> validation Pareto front reported on test.
    best : row of the ensemble cascade whose rule is most accurate on validation.
    """

    rows: list[dict]
    fronts: dict[str, pd.DataFrame]
    best: dict


def ensemble_cascade_rows(
    ens: PathEnsemble, stream: ComparisonStream, budget_ms: float, n_grid: int
) -> EnsembleRows:
    """For every combination rule: the full ensemble and the ensemble cascade at the budget.

    The stages' thresholds are chosen on validation for the budget; the rule reported as
    best is the one with the highest validation accuracy (ties: the first rule).
    """
    st_lat = ens.stage_latency()
    w_val = uniform_weights(stream.val.n_samples, st_lat)
    w_test = request_weights(stream.requests, st_lat)
    rows, fronts, best, best_val_acc = [], {}, None, None
    for rule, (rv, rt) in ensemble_runs(ens).items():
        full = full_ensemble_decision(rt[-1], ens.n_members)
        rows.append(_row(full, ens.test, stream.requests, ens.latency, "full ensemble", rule))
        grid = _stage_grid(ens, rv, w_val, n_grid)
        fronts[f"ensemble cascade ({rule})"] = _stage_front(ens, grid, rt, w_test)
        t = grid.best_under_latency(budget_ms)
        d = stage_decision(rt, ens.stage_of_member(), t)
        r = _row(d, ens.test, stream.requests, ens.latency, "ensemble cascade", rule)
        rows.append(r)
        val_acc = float(grid.accuracy[_index(grid, t)])  # the rule is chosen on validation
        if best_val_acc is None or val_acc > best_val_acc:
            best_val_acc, best = val_acc, r
    return EnsembleRows(rows, fronts, best)


def _stage_grid(
    ens: PathEnsemble, run_val: np.ndarray, w_val: SampleWeights, n_grid: int
) -> CascadeGrid:
    """Validation metrics of stopping after each stage: ``run_val`` is ``(S, N, C)`` stage votes."""
    cv = confidence(run_val[:-1])
    correct = run_val.argmax(2) == ens.val.labels
    grids = [threshold_candidates(cv[h], n_grid) for h in range(cv.shape[0])]
    return cascade_grid(cv, correct, w_val, grids)


def _stage_front(
    ens: PathEnsemble, grid: CascadeGrid, run_test: np.ndarray, w_test: SampleWeights
) -> pd.DataFrame:
    """Test metrics of the validation Pareto front of a stage grid."""
    hops = len(grid.thresholds)
    thresholds = pareto_front(grid.frame())[[f"t{h}" for h in range(hops)]].to_numpy()
    correct = run_test.argmax(2) == ens.test.labels
    return pareto_front(cascade_metrics(confidence(run_test[:-1]), correct, w_test, thresholds))


def _split_by_family(sweep: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """One front per family of a sweep, sorted by latency."""
    return {
        fam: sweep[sweep.family == fam].sort_values("latency_ms").reset_index(drop=True)
        for fam in sweep.family.unique()
    }


def device_query_on_doubt(
    stream: ComparisonStream, reference: Mapping[str, float]
) -> tuple[pd.DataFrame, dict[str, float]]:
    """:func:`query_on_doubt_sweep` on the device's calibrated maximum probability.

    ``reference`` is the row of the policy whose forwarded share sets the threshold of
    the combine-against-replace comparison.
    """
    temps = fit_temperatures(stream.val)
    conf_v = table_confidences(stream.val, "max_prob", temps)
    conf_t = table_confidences(stream.test, "max_prob", temps)
    return query_on_doubt_sweep(
        stream.test, stream.val, conf_v[0], conf_t[0], stream.requests, stream.path, reference
    )


@dataclass(frozen=True, kw_only=True)
class ComparisonNumbers:
    """The comparison's headline numbers (quoted by the chapter and the benchmark).

    Accuracies are fractions of the test requests, latencies mean ms per request, gains
    percentage points.

    Attributes
    ----------
    boost_queried_fraction : mean share of the boosted members queried under exact early
        stopping (``None`` without boosted members).
    budget_ms : the reference cascade's latency, at which policies are compared.
    cloud_acc : cloud-only accuracy.
    reference_family, reference_cascade_acc : the reference cascade's family and accuracy.
    best_cascade_acc : the best threshold cascade within the budget.
    best_ensemble_acc, best_ensemble_rule, best_ensemble_latency_ms : the ensemble cascade
        of the rule chosen on validation.
    ensemble_gain_pp : its accuracy gain over the best cascade.
    combine_vs_replace_pp : query-on-doubt (combine) minus forwarding (replace) at the
        reference's forwarded share.
    forwarded_fraction : share of requests the reference cascade forwards.
    oracle_acc_at_budget : the oracle frontier's accuracy at the budget.
    """

    boost_queried_fraction: float | None = None
    budget_ms: float
    cloud_acc: float
    reference_family: str
    reference_cascade_acc: float
    best_cascade_acc: float
    best_ensemble_acc: float
    best_ensemble_rule: str
    best_ensemble_latency_ms: float
    ensemble_gain_pp: float
    combine_vs_replace_pp: float
    forwarded_fraction: float
    oracle_acc_at_budget: float

    def as_dict(self) -> dict[str, float | str]:
        """The numbers by name, without the ones that are ``None``."""
        return {k: v for k, v in asdict(self).items() if v is not None}


def headline_numbers(
    points: pd.DataFrame,
    ref: ReferenceCascade,
    cascades: CascadeRows,
    ensembles: EnsembleRows,
    combine_vs_replace: dict[str, float],
    oracle: pd.DataFrame,
    boost_queried_fraction: float | None = None,
) -> ComparisonNumbers:
    """The headline numbers of a comparison from its rows (see :class:`ComparisonNumbers`)."""
    budget, best, best_cascade = cascades.budget_ms, ensembles.best, cascades.best
    eq = combine_vs_replace
    return ComparisonNumbers(
        boost_queried_fraction=boost_queried_fraction,
        budget_ms=budget,
        cloud_acc=float(points.loc[points.policy == "cloud only", "accuracy"].iloc[0]),
        reference_family=ref.family,
        reference_cascade_acc=float(cascades.reference["accuracy"]),
        best_cascade_acc=float(best_cascade["accuracy"]),
        best_ensemble_acc=float(best["accuracy"]),
        best_ensemble_rule=str(best["policy"]),
        best_ensemble_latency_ms=float(best["latency_ms"]),
        ensemble_gain_pp=100 * float(best["accuracy"] - best_cascade["accuracy"]),
        combine_vs_replace_pp=100 * (eq["combine"] - eq["replace"]),
        forwarded_fraction=float(cascades.reference["forwarded"]),
        oracle_acc_at_budget=float(np.interp(budget, oracle.latency_ms, oracle.accuracy)),
    )


def query_on_doubt_sweep(
    test: OutputsTable,
    val: OutputsTable,
    conf_v0: np.ndarray,
    conf_t0: np.ndarray,
    requests: RequestStream,
    path: PathLatency,
    reference: Mapping[str, float],
    n_points: int = 21,
) -> tuple[pd.DataFrame, dict[str, float]]:
    """Query-on-doubt (combine the device and cloud answers) against forwarding (cloud replaces).

    Both query the cloud (the last tier) exactly when the device's confidence (``conf_v0``
    on validation, ``conf_t0`` on test, ``(N,)``) is below the threshold, so at every
    threshold they have the same forwarded share and latency. Returns the sweep over
    ``n_points`` thresholds and the accuracies at the forwarded share of ``reference`` (a
    policy's row; the threshold is set on validation).
    """
    cloud, n_tiers = test.n_models - 1, test.n_models
    w = vote_weights(val.correct()[[0, cloud]], "log_odds", val.n_classes)
    combined = log_vote(test.probs()[[0, cloud]], w).argmax(1)
    pred = test.predictions()
    doubt = {"combine": combined, "replace": pred[cloud]}
    family = {"combine": "query-on-doubt (combine)", "replace": "forward on doubt (replace)"}
    rows = []
    for th in threshold_candidates(conf_v0, n_points):
        for key, dp in doubt.items():
            d = query_on_doubt_decision(conf_t0, float(th), pred[0], dp, (cloud,), n_tiers)
            r = _row(d, test, requests, path, family[key], f"t={th:.3f}")
            r["threshold"] = float(th)
            rows.append(r)
    th_eq = float(np.quantile(conf_v0, float(reference["forwarded"])))
    eq = {}
    for key, dp in doubt.items():
        d = query_on_doubt_decision(conf_t0, th_eq, pred[0], dp, (cloud,), n_tiers)
        eq[key] = float(summarize(evaluate(d, test, requests, path))["accuracy"])
    return pd.DataFrame(rows), eq


def boosting_rows(
    scenario: Scenario,
    boosted: Members,
    requests: RequestStream,
    taus: Sequence[float] = (0.5, 0.6, 0.7, 0.8, 0.9),
) -> tuple[list[dict], pd.DataFrame, float]:
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


def path_rule_gain_pp(scenario: Scenario) -> float:
    """Test accuracy (pp) of the best combination rule over every model of ``scenario``'s
    path (all queried, rules fitted on validation, :func:`rule_accuracies`) minus the test
    accuracy of the path's last model (the cloud's): what combining the models a request
    could visit adds over asking the cloud. Negative when no rule beats the cloud."""
    if not isinstance(scenario, Scenario):
        raise TypeError(f"scenario must be a Scenario, got {type(scenario).__name__}")
    ens = committee_ensemble(scenario)
    rules = rule_accuracies(ens, {"path": list(range(len(scenario.path_models)))})
    cloud = scenario.test.accuracy()[scenario.path_models[-1]]
    return float(100 * (rules.iloc[0].drop("best member").max() - cloud))
