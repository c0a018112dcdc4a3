"""Every load-aware policy on a scenario, from light load to overload.

:func:`prepare_load` fixes what the comparison needs from chapter 2's set-up: the
scenario's network (service times from FLOPs and node speeds), the chapter's chosen
thresholds, a deadline, and the **reference rate**: the per-device Poisson rate at which
those fixed thresholds fill the busiest node (the edge) exactly, so that a *load factor*
of 1.2 means 20 % more requests than the edge can serve under chapter 2's policy.
:func:`compare_under_load` runs every policy at each load factor on a test stream (the best
static thresholds chosen on a separate validation stream); :func:`tier_response` gives
the response time per answering tier against load (the knee); :func:`varying_rate_run`
follows a rate that changes during the run (a day, a burst).

Nothing here assumes three tiers: the comparison runs on the path of whatever scenario
``prepare_load`` is given (device -> edge -> cloud for the running scenario, with a
regional hop for the graded four-tier one), and every per-tier result is labelled with
that path's tier names (:attr:`LoadSetup.tiers`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from idn_core._util.validation import check_positive, check_type
from idn_core.delivery.experiments import DeliverySetup
from idn_core.delivery.feedback import DeadlineGainRule, FeedbackRule, simulate_adaptive
from idn_core.delivery.policies import cascade_decision
from idn_core.delivery.search import threshold_candidates
from idn_core.delivery.under_load import best_static_thresholds, evaluate_under_load
from idn_core.learning.outputs import OutputsTable
from idn_core.network.arrivals import PoissonArrivals, TimedRequests, thinned_arrivals
from idn_core.network.queues import LoadNetwork, scenario_network
from idn_core.network.scenario import Scenario

__all__ = [
    "POLICIES_UNDER_LOAD",
    "LoadSetup",
    "compare_under_load",
    "prepare_load",
    "stream_at",
    "tier_response",
    "varying_rate_run",
]

POLICIES_UNDER_LOAD = ("fixed", "best static", "feedback", "shedding", "deadline gain")


@dataclass(frozen=True)
class LoadSetup:
    """What the load comparison runs on (times in s, rates per device per s).

    ``tiers`` names the path's tiers from the device up (``K`` names, as in the
    scenario's ``PathLatency.tiers``); it labels :func:`tier_response`'s rows.
    """

    network: LoadNetwork
    val: OutputsTable
    test: OutputsTable
    conf_val: np.ndarray
    conf_test: np.ndarray
    thresholds: np.ndarray
    deadline_s: float
    reference_rate: float
    feedback: FeedbackRule
    gain_rule: DeadlineGainRule
    tiers: tuple[str, ...] = ("device", "edge", "cloud")

    def __post_init__(self) -> None:
        if len(self.tiers) != self.network.n_tiers:
            raise ValueError(
                f"tiers must name the network's {self.network.n_tiers} tiers, got {self.tiers}"
            )

    def edge_capacity_per_s(self) -> float:
        """Requests per second one edge node serves: servers x speed / FLOPs."""
        name = self.network.nodes[0, 1]
        cap = self.network.capacity[name]
        return cap.servers / float(self.network.service_s()[0, 1])


def prepare_load(
    scenario: Scenario,
    setup: DeliverySetup,
    thresholds: np.ndarray,
    family: str = "max_prob calibrated",
    deadline_s: float = 0.05,
    feedback: FeedbackRule | None = None,
    gain_rule: DeadlineGainRule | None = None,
) -> LoadSetup:
    """The comparison's set-up from chapter 2's ``setup`` and its chosen ``thresholds``.

    ``setup`` must come from ``scenario`` (:func:`~idn_core.delivery.experiments.prepare_delivery`):
    ``ValueError`` if their paths differ. Any path length works; ``thresholds`` holds one
    threshold per hop (``K - 1``).
    """
    check_type("scenario", scenario, Scenario)
    check_type("setup", setup, DeliverySetup)
    check_positive("deadline_s", deadline_s)
    k = setup.val.n_models
    net = scenario_network(scenario)
    if net.n_tiers != k or scenario.val.n_models != k:
        raise ValueError(
            f"setup has {k} tiers ({setup.latency.tiers}) but the scenario's path has "
            f"{net.n_tiers}: build setup from this scenario"
        )
    conf_val, conf_test = setup.conf_val[family][: k - 1], setup.conf_test[family][: k - 1]
    t = np.asarray(thresholds, dtype=float)
    dec = cascade_decision(conf_test, t)
    share = dec.queried.mean(axis=0)  # share of requests served at each tier
    work = {}
    for d in range(len(net.devices)):
        for tier in range(k):
            name = net.nodes[d, tier]
            per = share[tier] * net.service_s()[d, tier] / net.capacity[name].servers
            work[name] = work.get(name, 0.0) + per
    rate = 1.0 / max(work.values())
    return LoadSetup(
        net,
        setup.val,
        setup.test,
        conf_val,
        conf_test,
        t,
        float(deadline_s),
        rate,
        feedback or FeedbackRule(),
        gain_rule or DeadlineGainRule(),
        tuple(setup.latency.tiers),
    )


def stream_at(
    ls: LoadSetup,
    factor: float | Callable[[np.ndarray], np.ndarray],
    duration_s: float,
    seed: int,
    split: str = "test",
) -> TimedRequests:
    """Poisson requests at ``factor`` x the reference rate at every device for ``duration_s``,
    drawing samples of ``split``; ``factor`` may be a vectorised function of time (s)."""
    table = ls.test if split == "test" else ls.val
    devices = ls.network.devices
    children = np.random.SeedSequence(seed).spawn(len(devices) + 1)
    if callable(factor):
        peak = float(np.max(factor(np.linspace(0, duration_s, 2001)))) * 1.05
        times = [
            thinned_arrivals(
                lambda t: ls.reference_rate * factor(t), ls.reference_rate * peak, duration_s, c
            )
            for c in children[:-1]
        ]
    else:
        check_positive("factor", factor)
        proc = PoissonArrivals(ls.reference_rate * float(factor))
        times = [proc.times(duration_s, c) for c in children[:-1]]
    device = np.repeat(np.arange(len(devices), dtype=np.intp), [len(t) for t in times])
    all_t = np.concatenate(times)
    order = np.argsort(all_t, kind="stable")
    rng = np.random.default_rng(children[-1])
    sample = rng.integers(0, table.n_samples, size=len(order), dtype=np.intp)
    return TimedRequests(sample, device[order], devices, table.n_samples, all_t[order])


def _row(factor: float, policy: str, metrics: dict) -> dict:
    keys = ("on_time_accuracy", "anytime_accuracy", "on_time_rate", "accuracy", "p99_s")
    out = {"factor": factor, "policy": policy, **{k: metrics[k] for k in keys}}
    out["forwarded"], out["shed"] = metrics["forwarded"], metrics["shed"]
    return out


def compare_under_load(
    ls: LoadSetup,
    factors: tuple[float, ...] = (0.5, 0.9, 1.2),
    duration_s: float = 5.0,
    seed: int = 0,
    grid_steps: int = 12,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Every policy of :data:`POLICIES_UNDER_LOAD` at each load factor, on a test stream.

    Returns the comparison (one row per factor and policy) and the best static
    thresholds chosen per factor on a validation stream (columns factor, t0, t1, ...).
    """
    rows, chosen = [], []
    for i, f in enumerate(factors):
        check_positive("factors", f)
        test = stream_at(ls, f, duration_s, seed + 2 * i)
        val = stream_at(ls, f, duration_s, seed + 2 * i + 1, split="val")
        best = _best_static(ls, val, grid_steps)
        chosen.append({"factor": f, **{f"t{h}": v for h, v in enumerate(best)}})
        fixed = cascade_decision(ls.conf_test, ls.thresholds)
        runs = {
            "fixed": evaluate_under_load(fixed, ls.test, ls.network, test, ls.deadline_s),
            "best static": evaluate_under_load(
                cascade_decision(ls.conf_test, best), ls.test, ls.network, test, ls.deadline_s
            ),
            "feedback": _adaptive(ls, ls.feedback, test).outcome,
            "shedding": evaluate_under_load(
                fixed, ls.test, ls.network, test, ls.deadline_s, shed=True
            ),
            "deadline gain": _adaptive(ls, ls.gain_rule, test).outcome,
        }
        rows += [_row(f, name, out.metrics()) for name, out in runs.items()]
    return pd.DataFrame(rows), pd.DataFrame(chosen)


def _adaptive(ls: LoadSetup, rule, requests: TimedRequests):
    return simulate_adaptive(
        rule,
        ls.conf_test,
        ls.test,
        ls.network,
        requests,
        ls.deadline_s,
        ls.thresholds,
        ls.conf_val,
        ls.val,
    )


def _best_static(ls: LoadSetup, val: TimedRequests, grid_steps: int) -> np.ndarray:
    """Best thresholds on the validation stream: the device hop on quantiles of its
    confidences, the edge hop on a few quantiles around the chosen threshold."""
    grids = [threshold_candidates(ls.conf_val[0], grid_steps)]
    for h in range(1, len(ls.thresholds)):
        grids.append(np.unique(np.r_[ls.thresholds[h], threshold_candidates(ls.conf_val[h], 4)]))
    best, _ = best_static_thresholds(ls.conf_val, ls.val, ls.network, val, ls.deadline_s, grids)
    return best


def tier_response(ls: LoadSetup, factors: np.ndarray, duration_s: float, seed: int = 0):
    """Fixed thresholds at each load factor: per answering tier the mean and p95 response
    (s) and on-time rate, and per tier the busiest station's utilisation; one row per load
    factor and tier of the path (``ls.tiers``, e.g. four on a path with a regional hop)."""
    rows = []
    dec = cascade_decision(ls.conf_test, ls.thresholds)
    for f in np.asarray(factors, dtype=float):
        req = stream_at(ls, float(f), duration_s, seed)
        out = evaluate_under_load(dec, ls.test, ls.network, req, ls.deadline_s)
        table = out.load.station_table(horizon_s=duration_s)
        for k, tier in enumerate(ls.tiers):
            at = out.answer_tier == k
            util = table[(table.kind == "node") & (table.tier == k)].utilisation.max()
            rows.append(
                {
                    "factor": float(f),
                    "tier": tier,
                    "mean_s": float(out.response_s[at].mean()) if at.any() else np.nan,
                    "p95_s": float(np.percentile(out.response_s[at], 95)) if at.any() else np.nan,
                    "on_time_rate": float(out.on_time[at].mean()) if at.any() else np.nan,
                    "utilisation": float(util),
                }
            )
    return pd.DataFrame(rows)


def varying_rate_run(ls: LoadSetup, factor_fn, duration_s: float, window_s: float, seed: int = 0):
    """Fixed thresholds and the feedback rule on a stream whose load factor follows
    ``factor_fn`` (vectorised, time in s): per window, the load factor, on-time accuracy
    of both and the devices' mean forwarding share under feedback."""
    req = stream_at(ls, factor_fn, duration_s, seed)
    fixed = evaluate_under_load(
        cascade_decision(ls.conf_test, ls.thresholds), ls.test, ls.network, req, ls.deadline_s
    )
    run = _adaptive(ls, ls.feedback, req)
    edges = np.arange(0.0, duration_s + window_s / 2, window_s)
    slot = np.clip(np.digitize(req.arrival_s, edges) - 1, 0, len(edges) - 2)
    n = np.bincount(slot, minlength=len(edges) - 1).clip(1)
    hist = run.history[run.history.tier == 0].groupby("time_s").state.mean()
    mids = (edges[:-1] + edges[1:]) / 2
    share = np.interp(mids, hist.index.to_numpy(), hist.to_numpy())
    return pd.DataFrame(
        {
            "time_s": mids,
            "factor": factor_fn(mids),
            "fixed": np.bincount(slot, fixed.correct & fixed.on_time, len(n)) / n,
            "feedback": np.bincount(slot, run.outcome.correct & run.outcome.on_time, len(n)) / n,
            "feedback_share": share,
        }
    )
