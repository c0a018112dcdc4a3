"""The playground of chapter 7: topology, placement, policy and trained models in one place.

A :class:`Playground` precomputes, once, everything that does not depend on the knobs:
every zoo model's calibrated confidences (three scores) and correctness on the validation
and test splits, and a seeded request stream over the devices. :meth:`Playground.run`
then evaluates one configuration (a topology with its link latencies, a placement, a
delivery policy and its parameters) with the vectorised evaluator of
:mod:`idn_core.delivery.evaluation`, in milliseconds.

When a node holds several models, its models are queried cheapest first (smaller model
before larger) within the cascade along the path: a device's *chain* is the list of
``(node, model)`` pairs from the device to the cloud.

Examples
--------
>>> from idn_core import load_scenario
>>> pg = Playground(load_scenario(num_samples=3000, epochs=3), n_requests=2000)  # doctest: +SKIP
>>> pg.run(policy="cascade", threshold=0.6).summary["accuracy"]  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from idn_core._util.validation import (
    check_choice,
    check_fraction,
    check_non_negative,
    check_positive_int,
    check_seed,
)
from idn_core.delivery.evaluation import Decision, Outcome, evaluate
from idn_core.delivery.policies import (
    GainAwareForwarding,
    cascade_decision,
    forward_to,
    oracle_decision,
)
from idn_core.learning.outputs import OutputsTable
from idn_core.learning.scores import SCORES, confidence, fit_temperatures
from idn_core.network.deployment import Placement
from idn_core.network.latency import PathLatency
from idn_core.network.requests import RequestStream, make_requests
from idn_core.network.scenario import Scenario
from idn_core.network.topology import Topology

__all__ = ["POLICIES", "Playground", "PlaygroundResult"]

#: Delivery policies offered by the playground.
POLICIES = ("local", "cloud", "cascade", "gain-aware", "oracle")


@dataclass(frozen=True)
class PlaygroundResult:
    """Metrics of one playground configuration on the test requests.

    Attributes
    ----------
    summary : ``accuracy`` (fraction), ``latency_ms`` (mean), ``p95_ms``, ``forwarded``
        (fraction of requests answered above the device's first model), ``models_queried``
        (mean per request).
    per_node : one row per node: ``node``, ``tier``, ``models`` (comma-separated),
        ``memory_kb`` (used), ``budget_kb``, ``load`` (models evaluated there per request
        of the whole stream) and ``answered`` (fraction of requests answered there).
    per_device : one row per device: ``device``, ``chain`` (node:model, ...), ``requests``,
        ``accuracy``, ``latency_ms``.
    """

    summary: dict[str, float]
    per_node: pd.DataFrame
    per_device: pd.DataFrame


def _rows(table: OutputsTable, temperatures: np.ndarray) -> dict[str, np.ndarray]:
    """Calibrated confidences per score ``(M, N)`` and correctness ``(M, N)`` of a table."""
    probs = table.probs(temperatures)
    out = {score: confidence(probs, score) for score in SCORES}
    out["correct"] = table.correct()
    return out


class Playground:
    """Precomputed outputs of a scenario's zoo, evaluated under any configuration.

    Parameters
    ----------
    scenario : the running scenario (its zoo, topology and placement are the defaults).
    n_requests : requests in the seeded test stream (uniform over samples and devices).
    seed : seed of the request stream.
    """

    def __init__(self, scenario: Scenario, n_requests: int = 20_000, seed: int = 0) -> None:
        check_seed(seed)
        check_positive_int("n_requests", n_requests)
        self.scenario = scenario
        self.topology: Topology = scenario.topology
        self.model_sizes_kb = scenario.zoo.sizes_kb()
        self.flops = scenario.zoo.flops()
        val, test = scenario.zoo.outputs("val"), scenario.zoo.outputs("test")
        self.models: tuple[str, ...] = tuple(test.models)
        self.temperatures = fit_temperatures(val)
        self._val = _rows(val, self.temperatures)
        self._test = _rows(test, self.temperatures)
        self._test_table = test
        self._pred = test.predictions()
        self._tables: dict[tuple[int, ...], OutputsTable] = {}  # by model indices
        self.requests = make_requests(n_requests, test.n_samples, self.topology.devices, seed)
        self._gain_cache: dict[tuple, GainAwareForwarding] = {}

    # --- configuration ---------------------------------------------------------------

    def placement(
        self, models: Mapping[str, Sequence[str]] | None = None, topology: Topology | None = None
    ) -> Placement:
        """A validated placement (default: the scenario's); errors name the node and budget."""
        topo = topology or self.topology
        assignment = self.scenario.placement.as_dict() if models is None else models
        return Placement(topo, assignment, self.model_sizes_kb)

    def with_uplink_latency(
        self, node: str, latency_ms: float, topology: Topology | None = None
    ) -> Topology:
        """The topology with the one-way latency (ms) of ``node``'s link to its parent changed."""
        import networkx as nx

        topo = topology or self.topology
        topo.node(node)
        check_non_negative(f"latency of the uplink of {node!r} (ms)", latency_ms)
        if node == topo.cloud:
            raise ValueError(f"node {node!r} is the root: it has no uplink")
        parent = nx.shortest_path(topo.graph, node, topo.cloud)[1]
        return topo.with_link_latency(node, parent, float(latency_ms))

    def chain(self, placement: Placement, device: str) -> list[tuple[str, str]]:
        """``(node, model)`` pairs queried in order by ``device``: path order, cheaper first."""
        pairs = []
        for node in placement.topology.path(device):
            models = sorted(placement.models_on(node), key=lambda m: self.flops[m])
            pairs += [(node, m) for m in models]
        if not pairs:
            raise ValueError(f"no model on the path of device {device!r}: place one on its path")
        return pairs

    def _chain_table(self, chain: list[tuple[str, str]], idx: list[int]) -> OutputsTable:
        """Test outputs of a chain's models in chain order, named ``node/model`` (cached)."""
        key = tuple(idx)
        if key not in self._tables:
            t = self._test_table
            names = tuple(f"{n}/{m}" for n, m in chain)
            self._tables[key] = OutputsTable(names, t.logits[idx], t.labels, t.split)
        return self._tables[key]

    def _latency(self, topo: Topology, device: str, chain: list[tuple[str, str]]) -> PathLatency:
        nodes = np.array([[n for n, _ in chain]])
        tiers = tuple(topo.node(n).tier for n, _ in chain)
        rtt = np.array([[topo.rtt_ms(device, n) for n, _ in chain]])
        comp = np.array([[topo.node(n).compute_ms(self.flops[m]) for n, m in chain]])
        return PathLatency((device,), nodes, tiers, rtt, comp)

    def _decision(
        self,
        idx: list[int],
        lat: PathLatency,
        policy: str,
        threshold: float,
        alpha: float,
        score: str,
    ) -> Decision:
        k, n = len(idx), self._pred.shape[1]
        if policy == "local" or k == 1:
            return forward_to(0, n, k)
        if policy == "cloud":
            return forward_to(k - 1, n, k)
        if policy == "oracle":
            return oracle_decision(self._test["correct"][idx])
        if policy == "cascade":
            return cascade_decision(self._test[score][idx[:-1]], np.full(k - 1, threshold))
        key = (tuple(idx), tuple(np.round(lat.answer_latency_ms()[0], 9)), alpha, score)
        if key not in self._gain_cache:
            self._gain_cache[key] = GainAwareForwarding(alpha).fit(
                self._val[score][idx[:-1]], self._val["correct"][idx], lat.answer_latency_ms()
            )
        return self._gain_cache[key].decide(self._test[score][idx[:-1]])

    # --- evaluation ------------------------------------------------------------------

    def _check_devices(self, topology: Topology) -> None:
        """``topology`` must have exactly the devices of the request stream.

        The stream was drawn for the scenario's devices: a device it does not know would
        get no requests, and one the topology lacks has no path.
        """
        have, want = tuple(topology.devices), tuple(self.requests.devices)
        if have != want:
            extra = sorted(set(have) - set(want))
            missing = sorted(set(want) - set(have))
            raise ValueError(
                f"topology has devices {list(have)} but the playground's request stream is "
                f"drawn over {list(want)} (not in the stream: {extra}; missing from the "
                f"topology: {missing}); build a Playground for this topology, or change only "
                "latencies and placements"
            )

    def run(
        self,
        topology: Topology | None = None,
        placement: Placement | None = None,
        policy: str = "cascade",
        threshold: float = 0.5,
        alpha: float = 0.005,
        score: str = "max_prob",
    ) -> PlaygroundResult:
        """Evaluate one configuration on the test request stream.

        Parameters
        ----------
        topology : network with its link latencies (default: the scenario's).
        placement : models per node (default: the scenario's, on ``topology``).
        policy : one of :data:`POLICIES`.
        threshold : confidence threshold in ``[0, 1]`` of every hop (``cascade``).
        alpha : accuracy traded per millisecond, ``>= 0`` (``gain-aware``).
        score : confidence score, one of :data:`~idn_core.learning.scores.SCORES`.
        """
        check_choice("policy", policy, POLICIES)
        check_fraction("threshold", threshold)
        check_non_negative("alpha", alpha)
        check_choice("score", score, SCORES)
        topo = topology or self.topology
        self._check_devices(topo)
        place = placement if placement is not None else self.placement(topology=topo)
        if place.topology is not topo:
            place = Placement(topo, place.as_dict(), place.model_sizes_kb)
        tally = _Tally.empty(len(self.requests))
        for d, device in enumerate(self.requests.devices):
            self._run_device(tally, d, device, topo, place, (policy, threshold, alpha, score))
        return tally.result(topo, place)

    def _run_device(
        self,
        tally: _Tally,
        d: int,
        device: str,
        topo: Topology,
        place: Placement,
        rule: tuple[str, float, float, str],
    ) -> None:
        """Evaluate device ``d``'s requests on its chain and add them to ``tally``."""
        req = self.requests
        chain = self.chain(place, device)
        idx = [self.models.index(m) for _, m in chain]
        lat = self._latency(topo, device, chain)
        decision = self._decision(idx, lat, *rule)
        mask = req.device == d
        if not mask.any():  # a device without requests: listed with no load and NaN metrics
            tally.devices.append(_idle_device(device, chain))
            return
        stream = RequestStream(
            req.sample[mask], np.zeros(int(mask.sum()), np.int64), (device,), req.n_samples
        )
        out = evaluate(decision, self._chain_table(chain, idx), stream, lat)
        tally.add(device, chain, mask, out)


@dataclass
class _Tally:
    """Per-request results and per-node counts gathered device by device in :meth:`Playground.run`."""

    correct: np.ndarray
    latency: np.ndarray
    answered: dict[str, float] = field(default_factory=dict)
    load: dict[str, float] = field(default_factory=dict)
    devices: list[dict[str, object]] = field(default_factory=list)

    @classmethod
    def empty(cls, n_requests: int) -> _Tally:
        return cls(np.zeros(n_requests, bool), np.zeros(n_requests))

    def add(
        self, device: str, chain: list[tuple[str, str]], mask: np.ndarray, out: Outcome
    ) -> None:
        """Record one device's outcomes (its requests are ``mask`` of the stream)."""
        self.correct[mask], self.latency[mask] = out.correct, out.latency_ms
        per_tier = out.queried.sum(axis=0)
        answers = np.bincount(out.answer_tier, minlength=len(chain))
        for (node, _), q, a in zip(chain, per_tier.tolist(), answers.tolist(), strict=True):
            self.load[node] = self.load.get(node, 0.0) + q
            self.answered[node] = self.answered.get(node, 0.0) + a
        self.devices.append(
            {
                "device": device,
                "chain": ", ".join(f"{n}:{m}" for n, m in chain),
                "requests": int(mask.sum()),
                "accuracy": float(out.correct.mean()),
                "latency_ms": float(out.latency_ms.mean()),
                "forwarded": int((out.answer_tier > 0).sum()),
                "queried": int(out.queried.sum()),
            }
        )

    def result(self, topo: Topology, place: Placement) -> PlaygroundResult:
        """The summary, per-node and per-device tables of the whole stream."""
        per_device = pd.DataFrame(self.devices)
        r = float(len(self.correct))
        nodes = [
            {
                "node": node.name,
                "tier": node.tier,
                "models": ", ".join(place.models_on(node.name)),
                "memory_kb": place.memory_used_kb(node.name),
                "budget_kb": node.memory_kb,
                "load": self.load.get(node.name, 0.0) / r,
                "answered": self.answered.get(node.name, 0.0) / r,
            }
            for node in topo.nodes
        ]
        summary = {
            "accuracy": float(self.correct.mean()),
            "latency_ms": float(self.latency.mean()),
            "p95_ms": float(np.percentile(self.latency, 95)),
            "forwarded": float(per_device.forwarded.sum() / r),
            "models_queried": float(per_device.queried.sum() / r),
        }
        per_device = per_device.drop(columns=["forwarded", "queried"])
        return PlaygroundResult(summary, pd.DataFrame(nodes), per_device)


def _idle_device(device: str, chain: list[tuple[str, str]]) -> dict[str, object]:
    """The per-device row of a device that received no request of the stream."""
    return {
        "device": device,
        "chain": ", ".join(f"{n}:{m}" for n, m in chain),
        "requests": 0,
        "accuracy": float("nan"),
        "latency_ms": float("nan"),
        "forwarded": 0,
        "queried": 0,
    }
