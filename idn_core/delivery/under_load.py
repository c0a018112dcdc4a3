"""Any policy's ``Decision`` under load: exact queues, deadlines, shedding, the best static thresholds.

Times are in **seconds**. A :class:`~idn_core.delivery.evaluation.Decision` says which
tiers each sample queries and whose answer it returns; under load the same decision is
run through the FIFO queues of every node it visits
(:func:`idn_core.network.queues.evaluate_load`), so each request gets its waits and its
response time, and a deadline turns those into on-time metrics (:class:`LoadOutcome`):

* **on-time accuracy**: the answer is right *and* back by the deadline;
* **anytime** on-time accuracy: the device's own answer is always there, and a forwarded
  request's better answer replaces it only if it returns in time.

**Load shedding** (``shed=True``): every node above the device admits a request only if,
from its own queue, the answer can still reach the device by the deadline
(:func:`idn_core.network.admission.fifo_admission`); otherwise it hands the request back
at once and the lower tier's answer stands (it reaches the device after the refusal's trip
down). Tiers are settled from the bottom up: whether tier ``k`` admits a request depends
only on the requests arriving there, whose times depend only on the tiers below.

:func:`best_static_thresholds` is the offline reference: every pair of cascade
thresholds on a grid, run under load on a *validation* stream, the best on-time accuracy
kept (then reported on a separate test stream).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from idn_core._util.validation import check_type
from idn_core.delivery.evaluation import Decision
from idn_core.delivery.policies import cascade_decision
from idn_core.learning.outputs import OutputsTable
from idn_core.network.admission import fifo_admission
from idn_core.network.arrivals import TimedRequests
from idn_core.network.deadlines import anytime_answer, deadline_metrics, request_deadlines
from idn_core.network.queues import LoadNetwork, LoadResult, evaluate_load, visits_from_queried

__all__ = [
    "LoadOutcome",
    "best_static_thresholds",
    "evaluate_under_load",
    "request_subset",
    "routes_under_load",
]


@dataclass(frozen=True)
class LoadOutcome:
    """Per-request outcome of a policy under load; arrays ``(R,)`` in stream order.

    Attributes
    ----------
    answer_tier : int, tier whose answer is returned (-1: none, a request handed back
        with no lower answer).
    correct : bool, the returned answer is right.
    device_correct : bool, the device's own answer is right (False where it did not run).
    response_s : time (s) from arrival until the answer (or the refusal) is back.
    device_response_s : when the device's own answer was ready (s after arrival; ``inf``
        where the device's model did not run).
    deadline_s : each request's deadline (s).
    shed_tier : int, the tier that handed the request back (-1: none).
    load : the queues of the requests that visited some node (:class:`LoadResult`;
        with shedding its stations hold the admitted requests, indexed among ``live``).
    live : bool, the request visited at least one node.
    """

    answer_tier: np.ndarray
    correct: np.ndarray
    device_correct: np.ndarray
    response_s: np.ndarray
    device_response_s: np.ndarray
    deadline_s: np.ndarray
    shed_tier: np.ndarray
    load: LoadResult
    live: np.ndarray

    @property
    def on_time(self) -> np.ndarray:
        """Bool ``(R,)``: the returned answer is back by the deadline."""
        return self.response_s <= self.deadline_s

    def anytime_correct(self) -> np.ndarray:
        """Bool ``(R,)``: the anytime answer (device's unless the final one is in time) is right
        and in time."""
        right, _ = anytime_answer(
            self.response_s,
            self.deadline_s,
            self.correct,
            self.device_correct,
            self.device_response_s,
        )
        return right

    def metrics(self) -> dict[str, float]:
        """On-time rate and accuracy, plain accuracy, p50/p95/p99 and mean response (s),
        ``anytime_accuracy`` (right and in time with the device's answer as fall-back),
        ``forwarded`` (answered above the device) and ``shed`` (handed back) shares."""
        out = deadline_metrics(self.response_s, self.deadline_s, self.correct)
        out["anytime_accuracy"] = float(self.anytime_correct().mean())
        out["forwarded"] = float((self.answer_tier > 0).mean())
        out["shed"] = float((self.shed_tier >= 0).mean())
        return out


def request_subset(requests: TimedRequests, keep: np.ndarray) -> TimedRequests:
    """The requests of ``requests`` where ``keep`` (bool ``(R,)``) holds, in stream order."""
    check_type("requests", requests, TimedRequests)
    keep = np.asarray(keep)
    if keep.dtype != bool or keep.shape != (len(requests),):
        raise ValueError(
            f"keep must be a bool array of shape ({len(requests)},), got {keep.dtype} {keep.shape}"
        )
    return TimedRequests(
        requests.sample[keep],
        requests.device[keep],
        requests.devices,
        requests.n_samples,
        requests.arrival_s[keep],
    )


def _per_request(values: np.ndarray, requests: TimedRequests) -> np.ndarray:
    """A decision field ``(N,)`` or ``(D, N)`` read for every request: ``(R,)``."""
    v = np.asarray(values)
    return v[requests.sample] if v.ndim == 1 else v[requests.device, requests.sample]


def _check_inputs(
    decision: Decision, table: OutputsTable, network: LoadNetwork, requests: TimedRequests
) -> None:
    check_type("decision", decision, Decision)
    check_type("table", table, OutputsTable)
    check_type("network", network, LoadNetwork)
    check_type("requests", requests, TimedRequests)
    if not decision.n_tiers == table.n_models == network.n_tiers:
        raise ValueError(
            f"decision ({decision.n_tiers}), table ({table.n_models}) and network "
            f"({network.n_tiers}) must have the same number of tiers"
        )
    if requests.n_samples != table.n_samples:
        raise ValueError(
            f"requests draw from {requests.n_samples} samples, the table has {table.n_samples}"
        )
    if len(requests) == 0:
        raise ValueError("requests must hold at least one request")


def evaluate_under_load(
    decision: Decision,
    table: OutputsTable,
    network: LoadNetwork,
    requests: TimedRequests,
    deadline_s: float | np.ndarray,
    *,
    shed: bool = False,
    variability: str = "deterministic",
    seed: int = 0,
) -> LoadOutcome:
    """Run ``decision`` through the queues of ``network``; see the module docstring.

    Parameters
    ----------
    decision : per-sample (or per device and sample) queried and answering tiers.
    table : outputs of the path's ``K`` models on the split the requests draw from.
    network : capacities along each device's path (``K`` tiers).
    requests : the timed stream (``R`` requests).
    deadline_s : one deadline (s) for all, or one per device ``(D,)``; finite and > 0.
    shed : upstream nodes hand back requests they cannot answer in time (needs a network
        without queued links: a refused request would still have used the link).
    variability, seed : service-time variability (``evaluate_load``); deterministic
        only with ``shed`` (the admission check needs the service times in advance).
    """
    _check_inputs(decision, table, network, requests)
    visits = visits_from_queried(decision.queried, requests)
    answer = _per_request(decision.answer_tier, requests).astype(np.int64)
    prediction = (
        None if decision.prediction is None else _per_request(decision.prediction, requests)
    )
    return routes_under_load(
        table, network, requests, visits, answer, deadline_s,
        prediction=prediction, shed=shed, variability=variability, seed=seed,
    )  # fmt: skip


def routes_under_load(
    table: OutputsTable,
    network: LoadNetwork,
    requests: TimedRequests,
    visits: np.ndarray,
    answer_tier: np.ndarray,
    deadline_s: float | np.ndarray,
    *,
    prediction: np.ndarray | None = None,
    shed: bool = False,
    variability: str = "deterministic",
    seed: int = 0,
) -> LoadOutcome:
    """:func:`evaluate_under_load` for per-request routes (e.g. of an adaptive policy).

    ``visits`` is bool ``(R, K)``, ``answer_tier`` int ``(R,)`` (a visited tier) and
    ``prediction`` an optional int ``(R,)`` answer replacing the answering tier's own.
    """
    check_type("table", table, OutputsTable)
    check_type("shed", shed, bool)
    visits = np.array(visits, dtype=bool, copy=True)
    answer = np.asarray(answer_tier)
    if answer.shape != (len(requests),) or not np.issubdtype(answer.dtype, np.integer):
        raise ValueError(f"answer_tier must be an int array of shape ({len(requests)},)")
    if visits.shape != (len(requests), network.n_tiers):
        raise ValueError(f"visits must have shape ({len(requests)}, {network.n_tiers})")
    if answer.size and (answer.min() < 0 or answer.max() >= network.n_tiers):
        raise ValueError(f"answer_tier must lie in [0, {network.n_tiers})")
    if not visits[np.arange(len(answer)), answer].all():
        raise ValueError("answer_tier: every answering tier must be visited")
    deadline = request_deadlines(deadline_s, requests.device)
    answer = answer.astype(np.int64)
    preds = table.predictions()
    labels = table.labels[requests.sample]
    final = preds[answer, requests.sample] if prediction is None else np.asarray(prediction)
    shed_tier = np.full(len(requests), -1, dtype=np.int64)
    back = np.full(len(requests), np.nan)
    if shed:
        if any(u.queued for u in network.uplinks.values()):
            raise ValueError("shed=True needs a network without queued links")
        if variability != "deterministic":
            raise ValueError("shed=True needs variability='deterministic'")
        _shed(network, requests, visits, deadline, shed_tier, back)
        answer, final = _stand_in_answers(visits, shed_tier, answer, final, preds, requests)
    live = visits.any(axis=1)
    res = evaluate_load(
        network, request_subset(requests, live), visits[live], variability=variability, seed=seed
    )
    response = back.copy()
    response[live] = np.where(shed_tier[live] >= 0, back[live], res.response_s)
    device_ready = np.full(len(requests), np.inf)
    device_ready[live] = res.device_response_s
    return LoadOutcome(
        answer_tier=answer,
        correct=(final == labels) & (answer >= 0),
        device_correct=(preds[0, requests.sample] == labels) & visits[:, 0],
        response_s=response,
        device_response_s=device_ready,
        deadline_s=deadline,
        shed_tier=shed_tier,
        load=res,
        live=live,
    )


def _shed(
    network: LoadNetwork,
    requests: TimedRequests,
    visits: np.ndarray,
    deadline: np.ndarray,
    shed_tier: np.ndarray,
    back: np.ndarray,
) -> None:
    """Settle admission tier by tier from the bottom; updates ``visits`` (refused requests
    visit nothing from the refusing tier up), ``shed_tier`` and ``back`` (response time of
    a refused request: its arrival at the refusing node plus the way down) in place."""
    down = network.down_s()
    for k in range(1, network.n_tiers):
        live = np.flatnonzero(visits.any(axis=1))
        res = evaluate_load(network, request_subset(requests, visits.any(axis=1)), visits[live])
        for st in res.stations:
            if st.kind != "node" or st.tier != k:
                continue
            idx = live[st.request]
            dev = requests.device[idx]
            latest = requests.arrival_s[idx] + deadline[idx] - down[dev, k]
            ok, _ = fifo_admission(st.arrival_s, st.service_s, latest, st.servers)
            refused = idx[~ok]
            visits[refused, k:] = False
            shed_tier[refused] = k
            back[refused] = st.arrival_s[~ok] + down[dev[~ok], k] - requests.arrival_s[refused]


def _stand_in_answers(
    visits: np.ndarray,
    shed_tier: np.ndarray,
    answer: np.ndarray,
    final: np.ndarray,
    preds: np.ndarray,
    requests: TimedRequests,
) -> tuple[np.ndarray, np.ndarray]:
    """Answers after shedding: a refused request returns the highest visited tier's own
    prediction (-1 and no answer where it visited none)."""
    refused = np.flatnonzero(shed_tier >= 0)
    k = visits.shape[1]
    highest = np.where(
        visits[refused].any(axis=1), k - 1 - np.argmax(visits[refused, ::-1], axis=1), -1
    )
    answer, final = answer.copy(), final.copy()
    answer[refused] = highest
    safe = np.maximum(highest, 0)
    final[refused] = np.where(highest >= 0, preds[safe, requests.sample[refused]], -1)
    return answer, final


def best_static_thresholds(
    conf: np.ndarray,
    table: OutputsTable,
    network: LoadNetwork,
    requests: TimedRequests,
    deadline_s: float | np.ndarray,
    grids: list[np.ndarray],
    *,
    anytime: bool = False,
) -> tuple[np.ndarray, pd.DataFrame]:
    """The cascade thresholds of a grid with the best on-time accuracy under load.

    Parameters
    ----------
    conf : ``(K-1, N)`` (or ``(K, N)``) confidences of the tiers on ``table``'s split.
    table, network, requests, deadline_s : as in :func:`evaluate_under_load`; pass a
        *validation* stream, then report the chosen thresholds on a test stream.
    grids : one array of candidate thresholds per hop (``K-1`` arrays, values in [0, 1]).
    anytime : rank by the anytime on-time accuracy instead of the plain one.

    Returns
    -------
    thresholds : float ``(K-1,)``, the best cell (ties: the first in grid order).
    frame : one row per cell: ``t0..`` and the metrics of :meth:`LoadOutcome.metrics`.
    """
    k = network.n_tiers
    if not isinstance(grids, list | tuple) or len(grids) != k - 1:
        raise ValueError(f"grids must hold {k - 1} arrays of thresholds (one per hop)")
    cells = np.array(np.meshgrid(*grids, indexing="ij")).reshape(k - 1, -1).T
    if cells.size == 0:
        raise ValueError("grids must not be empty")
    rows = []
    for t in cells:
        dec = cascade_decision(np.asarray(conf)[: k - 1], t)
        out = evaluate_under_load(dec, table, network, requests, deadline_s)
        rows.append({**{f"t{h}": float(v) for h, v in enumerate(t)}, **out.metrics()})
    frame = pd.DataFrame(rows)
    key = "anytime_accuracy" if anytime else "on_time_accuracy"
    best = int(np.argmax(frame[key].to_numpy()))
    return cells[best].astype(float), frame
