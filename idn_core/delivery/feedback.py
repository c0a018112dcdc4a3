"""Decentralised load-aware forwarding: each node adapts its own rule from what it measures.

Times are in **seconds**. Every node below the top tier of a cascade decides, for each
request it has just served, whether to answer or forward. Its rule has a state that it
updates every ``interval_s`` from what it can measure locally: the answers of the
requests it forwarded come back through it carrying the queueing delay they met upstream
(as a server-timing header would) and whether they made their deadline. No node sees any
other node's queue or any central tuning. Two rules:

* :class:`FeedbackRule`: the node keeps a *forwarding share* ``f`` (its threshold is the
  ``f``-quantile of its own validation confidences) and integrates the error between the
  mean upstream wait it measured and a target wait, ``f += gain * f_max * clip(1 - w /
  target, -1, 1)``, within ``[0, f_max]`` where ``f_max`` is the share of the unloaded
  (chapter 2) thresholds;
* :class:`DeadlineGainRule`: forward when the expected accuracy gain times the measured
  probability of an in-time answer pays for the delay: ``P g(c) - (1 - P) a(c) > alpha
  delay`` (plain on-time accuracy: a late answer is worth nothing) or ``P g(c) > alpha
  delay`` (anytime: the device's answer stands), with ``g`` and ``a`` fitted on validation.

:func:`simulate_adaptive` runs either **exactly**: a node applies the state in force when
it finishes serving a request, and the state changes only at interval ends from answers
returned before them. The simulation advances interval by interval; at each interval end
every station has served exactly the requests that reached it before that time (those
depend only on decisions already taken), in FIFO order, continuing from its state at the
previous end. With a frozen rule it reproduces :func:`~idn_core.network.evaluate_load`.
"""

from __future__ import annotations

import heapq
import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.isotonic import IsotonicRegression

from idn_core._util.validation import (
    check_non_negative,
    check_positive,
    check_type,
)
from idn_core.delivery.policies import GainAwareForwarding, check_thresholds
from idn_core.delivery.under_load import LoadOutcome, routes_under_load
from idn_core.learning.outputs import OutputsTable
from idn_core.network.arrivals import TimedRequests
from idn_core.network.deadlines import request_deadlines
from idn_core.network.queues import LoadNetwork

__all__ = [
    "AdaptiveRun",
    "DeadlineGainRule",
    "FeedbackRule",
    "simulate_adaptive",
]


@dataclass(frozen=True)
class FeedbackRule:
    """Integral control of each node's forwarding share on its measured upstream wait.

    Parameters
    ----------
    interval_s : how often every node updates (s, > 0).
    target_wait_s : the upstream queueing delay (s, > 0) a node aims for.
    gain : share of ``f_max`` moved per interval at full error (> 0).
    """

    interval_s: float = 0.02
    target_wait_s: float = 0.005
    gain: float = 0.1

    def __post_init__(self) -> None:
        check_positive("interval_s", self.interval_s)
        check_positive("target_wait_s", self.target_wait_s)
        check_positive("gain", self.gain)


@dataclass(frozen=True)
class DeadlineGainRule:
    """Forward when ``P(in time) x expected gain`` pays for ``alpha_per_s x delay``.

    Parameters
    ----------
    interval_s : how often every node re-estimates ``P`` (s, > 0).
    alpha_per_s : accuracy traded per second of added delay (>= 0).
    smoothing : weight of the new interval in the running estimate of ``P`` (in (0, 1]).
    anytime : value a late answer as the device's own (the anytime variant) instead of 0.
    """

    interval_s: float = 0.02
    alpha_per_s: float = 0.0
    smoothing: float = 0.3
    anytime: bool = False

    def __post_init__(self) -> None:
        check_positive("interval_s", self.interval_s)
        check_non_negative("alpha_per_s", self.alpha_per_s)
        check_positive("smoothing", self.smoothing)
        if self.smoothing > 1:
            raise ValueError(f"smoothing must lie in (0, 1], got {self.smoothing!r}")
        check_type("anytime", self.anytime, bool)


@dataclass(frozen=True)
class AdaptiveRun:
    """Outcome of :func:`simulate_adaptive`.

    Attributes
    ----------
    outcome : the per-request :class:`LoadOutcome` of the decisions actually taken.
    history : one row per interval end and controlled node: ``time_s``, ``node``,
        ``tier``, ``state`` (forwarding share, or estimated P(in time)), ``wait_s``
        (mean upstream wait measured), ``returned`` (answers measured).
    answer_tier : int ``(R,)`` answering tier of every request.
    departure_s : float ``(R, K)`` departures (s) from each node as the simulation
        computed them interval by interval (NaN where not served); equal to
        ``outcome.load.done_s``, which the queueing engine recomputes in one pass.
    """

    outcome: LoadOutcome
    history: pd.DataFrame
    answer_tier: np.ndarray
    departure_s: np.ndarray


@dataclass
class _Station:
    """A FIFO station that keeps its servers' free times between calls."""

    servers: int
    free: list[float] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.free = [-math.inf] * self.servers

    def serve(self, a: np.ndarray, s: np.ndarray) -> np.ndarray:
        """Departures of arrivals ``a`` (sorted) with services ``s``, continuing the queue."""
        if self.servers == 1:  # D_n = C_n + max(F, max_{i<=n} (A_i - C_{i-1})), F: free time
            c = np.cumsum(s)
            d = np.maximum.accumulate(a - c + s)
            np.maximum(d, self.free[0], out=d)
            d += c
            if len(d):
                self.free[0] = float(d[-1])
            return d
        deps = []
        for ai, si in zip(a.tolist(), s.tolist(), strict=True):
            free = self.free[0]
            d = (ai if ai > free else free) + si
            heapq.heapreplace(self.free, d)
            deps.append(d)
        return np.array(deps, dtype=float)


class _Measures:
    """Per node and interval: answers returned, their summed upstream wait, in time."""

    def __init__(self, n_nodes: int, n_intervals: int) -> None:
        self.count = np.zeros((n_nodes, n_intervals + 1))
        self.wait = np.zeros((n_nodes, n_intervals + 1))
        self.in_time = np.zeros((n_nodes, n_intervals + 1))

    def add(self, node, slot, wait, in_time) -> None:
        np.add.at(self.count, (node, slot), 1.0)
        np.add.at(self.wait, (node, slot), wait)
        np.add.at(self.in_time, (node, slot), in_time)


class _Controller:
    """Rule state per node, its decisions and its update at interval ends."""

    def __init__(self, rule, shares_max, conf, gain, acc, delay_s, ceiling) -> None:
        self.rule = rule
        self.ceiling = ceiling  # (K-1,) unloaded thresholds, 1 mapped to infinity
        self.shares_max = shares_max  # (V,) for FeedbackRule
        self.conf = conf
        self.gain, self.acc, self.delay_s = gain, acc, delay_s
        feedback = isinstance(rule, FeedbackRule)
        self.state = shares_max.copy() if feedback else np.ones(len(shares_max))

    def forward(self, k, node, sample, dev, sorted_conf) -> np.ndarray:
        c = self.conf[k, sample]
        if isinstance(self.rule, FeedbackRule):
            share = self.state[node]
            n = sorted_conf.shape[1]
            idx = np.clip(np.floor(share * n + 1e-6).astype(np.int64), 0, n - 1)
            at_ceiling = share >= self.shares_max[node] - 1e-12
            q = np.where(
                at_ceiling, self.ceiling[k], np.minimum(self.ceiling[k], sorted_conf[k][idx])
            )
            return (c < q) & (share > 0)
        p = self.state[node]
        lhs = p * self.gain[k, sample]
        if not self.rule.anytime:
            lhs = lhs - (1 - p) * self.acc[k, sample]
        return lhs > self.rule.alpha_per_s * self.delay_s[dev, k]

    def update(self, count, wait, in_time) -> np.ndarray:
        """New state from one interval's measures ``(V,)``; returns the mean wait seen."""
        mean_wait = np.divide(wait, count, out=np.zeros_like(wait), where=count > 0)
        if isinstance(self.rule, FeedbackRule):
            err = np.clip(1 - mean_wait / self.rule.target_wait_s, -1, 1)
            step = self.rule.gain * self.shares_max * err
            self.state = np.clip(self.state + step, 0, self.shares_max)
        else:
            seen = count > 0
            p = np.divide(in_time, count, out=np.ones_like(count), where=seen)
            w = self.rule.smoothing
            self.state = np.where(seen, (1 - w) * self.state + w * p, self.state)
        return mean_wait


def _gain_tables(conf_val, val: OutputsTable, conf: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Expected accuracy gain of forwarding ``g`` and local accuracy ``a`` per hop and
    sample ``(K-1, N)``, fitted on validation (isotonic in the confidence)."""
    h = val.n_models - 1
    corr = val.correct()
    rule = GainAwareForwarding(0.0).fit(np.asarray(conf_val)[:h], corr, np.zeros((1, h + 1)))
    g = np.stack([rule.gain(conf[k], k) for k in range(h)])
    a = np.stack(
        [
            IsotonicRegression(increasing=True, out_of_bounds="clip")
            .fit(np.asarray(conf_val)[k], corr[k].astype(float))
            .predict(conf[k])
            for k in range(h)
        ]
    )
    return g, a


def simulate_adaptive(
    rule: FeedbackRule | DeadlineGainRule,
    conf: np.ndarray,
    table: OutputsTable,
    network: LoadNetwork,
    requests: TimedRequests,
    deadline_s: float | np.ndarray,
    thresholds: np.ndarray,
    conf_val: np.ndarray,
    val: OutputsTable,
) -> AdaptiveRun:
    """Simulate a cascade whose nodes adapt by ``rule``, exactly (module docstring).

    Parameters
    ----------
    rule : :class:`FeedbackRule` or :class:`DeadlineGainRule`.
    conf : ``(K-1, N)`` (or ``(K, N)``) confidences of the tiers on ``table``'s split.
    table, network, requests, deadline_s : as in ``evaluate_under_load``.
    thresholds : ``(K-1,)`` the unloaded thresholds; their forwarding shares on
        validation are the feedback rule's ceilings ``f_max`` (and its start).
    conf_val, val : validation confidences ``(K-1, N_val)`` and outputs, from which each
        node reads its own confidence quantiles and the gain rule fits ``g`` and ``a``.
    """
    check_type("rule", rule, (FeedbackRule, DeadlineGainRule))
    check_type("table", table, OutputsTable)
    check_type("val", val, OutputsTable)
    check_type("network", network, LoadNetwork)
    check_type("requests", requests, TimedRequests)
    k_tiers = network.n_tiers
    t = check_thresholds(thresholds, k_tiers - 1)
    conf = _check_conf("conf", conf, k_tiers - 1, table.n_samples)
    conf_val = _check_conf("conf_val", conf_val, k_tiers - 1, val.n_samples)
    if len(requests) == 0 or requests.n_samples != table.n_samples:
        raise ValueError("requests must be non-empty and draw from the table's samples")
    deadline = request_deadlines(deadline_s, requests.device)
    sim = _Simulation(rule, conf, table, network, requests, deadline, t, conf_val, val)
    return sim.run()


def _check_conf(name: str, conf: np.ndarray, hops: int, n: int) -> np.ndarray:
    c = np.asarray(conf, dtype=float)
    if c.ndim != 2 or c.shape[0] < hops or c.shape[1] != n:
        raise ValueError(f"{name} must have shape ({hops}, {n}), got {c.shape}")
    if not np.isfinite(c).all() or (c < 0).any() or (c > 1).any():
        raise ValueError(f"{name} must hold finite confidences in [0, 1]")
    return c[:hops]


class _Simulation:
    """The interval-by-interval exact simulation behind :func:`simulate_adaptive`."""

    def __init__(self, rule, conf, table, network, requests, deadline, t, conf_val, val):
        self.rule, self.net, self.req, self.table = rule, network, requests, table
        self.deadline = deadline
        self.k = network.n_tiers
        self.dev = requests.device
        r = len(requests)
        self.service = network.service_s()
        self.up, self.down = network.up_delay_s(), network.down_s()
        self.dep = np.full((r, self.k), np.nan)
        self.wait = np.full((r, self.k), np.nan)
        self.answer = np.full(r, -1, dtype=np.int64)
        self.sorted_conf = np.sort(conf_val, axis=1)
        shares = (conf_val < np.where(t >= 1, np.inf, t)[:, None]).mean(axis=1)  # (K-1,)
        self.ctrl_nodes = sorted({n for k in range(self.k - 1) for n in network.nodes[:, k]})
        node_id = {n: i for i, n in enumerate(self.ctrl_nodes)}
        self.node_at = np.full(network.nodes.shape, -1)
        for (d, k), n in np.ndenumerate(network.nodes[:, :-1]):
            self.node_at[d, k] = node_id[n]
        tier_of = np.array(
            [int(np.argmax((network.nodes == n).any(axis=0))) for n in self.ctrl_nodes]
        )
        self.tier_of = tier_of
        gain = acc = None
        if isinstance(rule, DeadlineGainRule):
            gain, acc = _gain_tables(conf_val, val, conf)
        delay = self.up + self.down[:, 1:] - self.down[:, :-1] + self.service[:, 1:]
        ceiling = np.where(t >= 1, np.inf, t)
        self.ctrl = _Controller(rule, shares[tier_of], conf, gain, acc, delay, ceiling)
        self.stations = {n: _Station(network.capacity[n].servers) for n in network.names}
        self.pool = [np.empty(0, dtype=np.int64) for _ in range(self.k)]  # reached tier k
        self.pool_t = [np.empty(0) for _ in range(self.k)]
        self.undecided = [np.empty(0, dtype=np.int64) for _ in range(self.k)]
        self.n_intervals = int(np.ceil(requests.arrival_s[-1] / rule.interval_s)) + 1
        self.measures = _Measures(len(self.ctrl_nodes), self.n_intervals)
        self.next_arrival = 0

    def run(self) -> AdaptiveRun:
        rows = []
        for j in range(1, self.n_intervals + 1):
            self._advance(j * self.rule.interval_s)
            m = self.measures
            mean_wait = self.ctrl.update(m.count[:, j - 1], m.wait[:, j - 1], m.in_time[:, j - 1])
            for i, n in enumerate(self.ctrl_nodes):
                rows.append(
                    {
                        "time_s": j * self.rule.interval_s,
                        "node": n,
                        "tier": int(self.tier_of[i]),
                        "state": float(self.ctrl.state[i]),
                        "wait_s": float(mean_wait[i]),
                        "returned": int(m.count[i, j - 1]),
                    }
                )
        self._advance(math.inf)
        return self._result(pd.DataFrame(rows))

    def _advance(self, horizon: float) -> None:
        """Serve and decide everything that happens before ``horizon``, tier by tier."""
        arr = self.req.arrival_s
        stop = int(np.searchsorted(arr, horizon, side="left"))
        new = np.arange(self.next_arrival, stop)
        self.next_arrival = stop
        self.pool[0] = np.concatenate([self.pool[0], new])
        self.pool_t[0] = np.concatenate([self.pool_t[0], arr[new]])
        for k in range(self.k):
            self._serve_tier(k, horizon)
            self._decide_tier(k, horizon)

    def _serve_tier(self, k: int, horizon: float) -> None:
        ready = self.pool_t[k] < horizon
        idx, a = self.pool[k][ready], self.pool_t[k][ready]
        self.pool[k], self.pool_t[k] = self.pool[k][~ready], self.pool_t[k][~ready]
        order = np.lexsort((idx, a))
        idx, a = idx[order], a[order]
        names = self.net.nodes[self.dev[idx], k]
        for name in np.unique(names):
            sel = names == name
            i, ai = idx[sel], a[sel]
            s = self.service[self.dev[i], k]
            d = self.stations[name].serve(ai, s)
            self.dep[i, k] = d
            self.wait[i, k] = d - s - ai
        self.undecided[k] = np.concatenate([self.undecided[k], idx])

    def _decide_tier(self, k: int, horizon: float) -> None:
        und = self.undecided[k]
        due = self.dep[und, k] < horizon
        idx = und[due]
        self.undecided[k] = und[~due]
        if k == self.k - 1:
            self._answer(idx, k)
            return
        dev = self.dev[idx]
        fwd = self.ctrl.forward(
            k, self.node_at[dev, k], self.req.sample[idx], dev, self.sorted_conf
        )
        self._answer(idx[~fwd], k)
        up = idx[fwd]
        self.pool[k + 1] = np.concatenate([self.pool[k + 1], up])
        self.pool_t[k + 1] = np.concatenate(
            [self.pool_t[k + 1], self.dep[up, k] + self.up[self.dev[up], k]]
        )

    def _answer(self, idx: np.ndarray, m: int) -> None:
        """Requests ``idx`` answered at tier ``m``: measured by every node below that forwarded them."""
        self.answer[idx] = m
        dev = self.dev[idx]
        done = self.dep[idx, m] + self.down[dev, m]
        on_time = done - self.req.arrival_s[idx] <= self.deadline[idx]
        for k in range(m):
            back = self.dep[idx, m] + self.down[dev, m] - self.down[dev, k]
            upstream = np.nansum(self.wait[idx, k + 1 : m + 1], axis=1)
            slot = np.minimum((back // self.rule.interval_s).astype(np.int64), self.n_intervals)
            self.measures.add(self.node_at[dev, k], slot, upstream, on_time.astype(float))

    def _result(self, history: pd.DataFrame) -> AdaptiveRun:
        queried = np.arange(self.k)[None, :] <= self.answer[:, None]
        outcome = routes_under_load(
            self.table, self.net, self.req, queried, self.answer, self.deadline
        )
        return AdaptiveRun(outcome, history, self.answer, self.dep)
