"""FedAvg on Flower's simulation engine, calling the same pure functions as the in-process loop.

* :func:`fedavg_client_app`: a ``ClientApp`` whose ``train`` is
  :func:`idn_core.federated.fedavg.client_update` on the node's partition with seed
  :func:`idn_core.federated.fedavg.client_seed` ``(seed, round, partition)``, so a client's result
  does not depend on which actor runs it or when;
* :func:`make_fedavg_strategy`: a Flower ``Strategy`` whose ``configure_train`` samples
  clients with :func:`idn_core.federated.fedavg.sample_clients` from the same seeded generator and
  whose ``aggregate_train`` is :func:`idn_core.federated.fedavg.weighted_average` over the replies
  sorted by partition (the in-process order, so sums match bit for bit);
* :func:`run_fedavg_flower`: what ``run_fedavg(..., backend="flower")`` calls.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from idn_core.federated.flower_engine import (
    RunClock,
    TrainOnly,
    check_replies,
    discover_partitions,
    flwr_modules,
    put_payload,
    record_to_state,
    run_simulation,
    start_ray,
    state_to_record,
    training_client_app,
)
from idn_core.federated.flower_engine import backend_config as default_config
from idn_core.federated.rounds import client_seed, client_update, sample_clients, weighted_average
from idn_core.learning.models import ModelSpec
from idn_core.learning.state import State


def fedavg_client_app(
    spec: ModelSpec,
    data_ref: Any,
    *,
    input_length: int,
    n_classes: int,
    local_epochs: int,
    seed: int,
) -> Any:
    """A ``ClientApp`` training ``spec`` on partition ``partition-id`` of the payload ``data_ref``.

    The payload is ``(x, y, partitions, sample_weight)`` in Ray's object store; replies carry
    the new weights (``"arrays"``) and ``weight`` / ``n_samples`` / ``partition`` metrics.
    """

    def train(msg: Any, pid: int, payload: Any) -> tuple[dict[str, Any], dict[str, Any]]:
        x, y, parts, sample_weight = payload
        idx = parts[pid]
        update = client_update(
            record_to_state(msg.content["arrays"]),
            spec,
            x[idx],
            y[idx],
            input_length=input_length,
            n_classes=n_classes,
            local_epochs=local_epochs,
            seed=client_seed(seed, int(msg.content["config"]["round"]), pid),
            sample_weight=None if sample_weight is None else sample_weight[idx],
        )
        metrics = {"weight": update.weight, "n_samples": update.n_samples, "partition": pid}
        return {"arrays": state_to_record(update.state)}, metrics

    return training_client_app(data_ref, train)


def make_fedavg_strategy(
    n_clients: int,
    fraction: float,
    seed: int,
    evaluate: Callable[[State], dict[str, float]] | None = None,
    *,
    rounds: int = 0,
    progress: bool = False,
) -> Any:
    """A Flower ``Strategy`` (Message API) running sample-weighted FedAvg as in-process.

    Attributes of the returned object: ``rows`` (one history dict per round), ``state``
    (the latest global weights), ``clock`` (a :class:`~idn_core.federated.flower_engine.RunClock`)
    and ``nodes`` (partition -> node id, set by the ServerApp before ``start``).
    """
    mods = flwr_modules()
    app = mods["app"]

    class IdnFedAvg(TrainOnly, mods["strategy"].Strategy):
        def __init__(self) -> None:
            self.rng = np.random.default_rng(seed)
            self.rows: list[dict[str, float]] = []
            self.state: State | None = None
            self.clock = RunClock(rounds, "FedAvg on Flower", progress)
            self.nodes: dict[int, int] = {}
            self._chosen: np.ndarray = np.array([], dtype=int)

        def configure_train(self, server_round, arrays, config, grid):
            self.clock.begin_round()
            self._chosen = sample_clients(n_clients, fraction, self.rng)
            cfg = app.ConfigRecord({"round": server_round - 1})
            return [
                app.Message(
                    app.RecordDict({"arrays": arrays, "config": cfg}),
                    dst_node_id=self.nodes[int(k)],
                    message_type="train",
                )
                for k in self._chosen
            ]

        def aggregate_train(self, server_round, replies):
            replies = check_replies(list(replies), len(self._chosen), f"round {server_round}")
            replies.sort(key=lambda r: int(r.content["metrics"]["partition"]))
            weights = [float(r.content["metrics"]["weight"]) for r in replies]
            if sum(weights) > 0:
                states = [record_to_state(r.content["arrays"]) for r in replies]
                self.state = weighted_average(states, weights)
            samples = sum(int(r.content["metrics"]["n_samples"]) for r in replies)
            row = {
                "round": server_round,
                "clients": len(replies),
                "samples": samples,
                "skipped": sum(w == 0 for w in weights),
            }
            if evaluate is not None:
                row.update(evaluate(self.state))
            self.rows.append(row)
            self.clock.end_round(sum(float(r.content["metrics"]["train_s"]) for r in replies))
            return state_to_record(self.state), None

    return IdnFedAvg()


def run_fedavg_flower(
    spec: ModelSpec,
    x: np.ndarray,
    y: np.ndarray,
    parts: Sequence[np.ndarray],
    init_state: State,
    *,
    rounds: int,
    local_epochs: int,
    fraction: float,
    seed: int,
    n_classes: int,
    sample_weight: np.ndarray | None,
    evaluate: Callable[[State], dict[str, float]] | None,
    backend_config: dict[str, dict[str, Any]] | None = None,
    progress: bool = False,
) -> tuple[State, list[dict[str, float]], dict[str, Any]]:
    """Run FedAvg through ``flwr.simulation.run_simulation``; returns state, history rows, timings.

    Arguments as :func:`idn_core.federated.fedavg.run_fedavg` (already validated there);
    ``backend_config`` as :func:`idn_core.federated.flower_engine.backend_config`.
    """

    strategy = make_fedavg_strategy(  # its clock starts now: start-up includes Ray's
        len(parts), fraction, seed, evaluate, rounds=rounds, progress=progress
    )
    config = backend_config or default_config()
    start_ray(config)
    ref = put_payload((x, y, [np.asarray(p) for p in parts], sample_weight))
    client_app = fedavg_client_app(
        spec,
        ref,
        input_length=x.shape[1],
        n_classes=n_classes,
        local_epochs=local_epochs,
        seed=seed,
    )
    strategy.state = init_state

    def server_main(grid: Any, context: Any) -> None:
        strategy.nodes = discover_partitions(grid, len(parts))
        strategy.start(grid, state_to_record(init_state), num_rounds=rounds)

    run_simulation(server_main, client_app, len(parts), config)
    if len(strategy.rows) != rounds:
        raise RuntimeError(f"the Flower run stopped after {len(strategy.rows)} of {rounds} rounds")
    return strategy.state, strategy.rows, strategy.clock.timings()
