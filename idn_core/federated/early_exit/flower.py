"""Federated early-exit training on Flower's simulation engine (one virtual client per tree node).

* :func:`early_exit_client_app`: a ``ClientApp`` whose ``train`` is
  :func:`idn_core.federated.early_exit.rounds.node_exit_updates` for the exits the server drew; it
  replies with one ``ArrayRecord`` of layer changes per exit (``"delta-<e>"``) and the
  measured gradient standard deviations;
* :func:`make_early_exit_strategy`: a Flower ``Strategy`` whose ``configure_train`` draws
  the exits with :func:`idn_core.federated.early_exit.rounds.draw_exits` (participation probabilities)
  and whose ``aggregate_train`` is :func:`idn_core.federated.early_exit.rounds.server_round` (per-exit
  lambda-tilde weighting, ``p / q`` scaling);
* :func:`run_early_exit_flower`: what ``run_early_exit(..., backend="flower")`` calls.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from idn_core.federated.early_exit import rounds as exit_rounds
from idn_core.federated.early_exit.config import EarlyExitConfig
from idn_core.federated.early_exit.net import EarlyExitNet, ExitUpdate
from idn_core.federated.early_exit.plan import ExitPlan
from idn_core.federated.flower_engine import (
    RunClock,
    TrainOnly,
    backend_config,
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
from idn_core.learning.data import Dataset
from idn_core.learning.state import State


def early_exit_client_app(config: EarlyExitConfig, data_ref: Any, *, seed: int) -> Any:
    """A ``ClientApp`` training node ``partition-id``'s drawn exits on its share of the payload.

    The payload ``data_ref`` holds ``(x_train, y_train, parts, input_length, n_classes)``.
    """

    def train(msg: Any, node: int, payload: Any) -> tuple[dict[str, Any], dict[str, Any]]:
        x, y, parts, input_length, n_classes = payload
        cfg = msg.content["config"]
        net = EarlyExitNet(input_length, n_classes, config.channels)
        updates = exit_rounds.node_exit_updates(
            net,
            record_to_state(msg.content["arrays"]),
            x[parts[node]],
            y[parts[node]],
            node=node,
            exits=list(cfg["exits"]),
            round_=int(cfg["round"]),
            seed=seed,
            config=config,
        )
        records = {f"delta-{u.exit}": state_to_record(u.delta) for u in updates}
        metrics = {
            "node": node,
            "n_samples": len(parts[node]),
            "exits": [u.exit for u in updates],
            "grad_sigma": [u.grad_sigma for u in updates],
        }
        return records, metrics

    return training_client_app(data_ref, train)


def _exit_updates(reply: Any) -> list[ExitUpdate]:
    """The :class:`~idn_core.federated.early_exit.net.ExitUpdate` objects carried by one client reply."""
    m = reply.content["metrics"]
    return [
        ExitUpdate(
            int(m["node"]),
            int(e),
            record_to_state(reply.content[f"delta-{int(e)}"]),
            int(m["n_samples"]),
            float(s),
        )
        for e, s in zip(m["exits"], m["grad_sigma"], strict=True)
    ]


def make_early_exit_strategy(
    config: EarlyExitConfig, plan: ExitPlan, seed: int, progress: bool = False
) -> Any:
    """A Flower ``Strategy`` (Message API) running the per-exit aggregation of ``config``.

    Attributes: ``rows`` (history), ``state`` (latest weights), ``sigma``, ``clock``,
    ``nodes`` (partition -> node id, set by the ServerApp before ``start``).
    """
    mods = flwr_modules()
    app = mods["app"]

    class IdnEarlyExit(TrainOnly, mods["strategy"].Strategy):
        def __init__(self) -> None:
            self.rng = np.random.default_rng(seed)
            self.rows: list[dict[str, float]] = []
            self.state: State = plan.init_state
            self.sigma = np.full(len(config.channels), np.nan)
            self.clock = RunClock(config.rounds, f"{config.label()} on Flower", progress)
            self.nodes: dict[int, int] = {}
            self._sent = 0

        def configure_train(self, server_round, arrays, cfg, grid):
            self.clock.begin_round()
            drawn = exit_rounds.draw_exits(self.rng, plan.participation)
            msgs = [
                app.Message(
                    app.RecordDict(
                        {
                            "arrays": arrays,
                            "config": app.ConfigRecord(
                                {"round": server_round - 1, "exits": [int(e) for e in exits]}
                            ),
                        }
                    ),
                    dst_node_id=self.nodes[c],
                    message_type="train",
                )
                for c, exits in enumerate(drawn)
                if len(exits)
            ]
            self._sent = len(msgs)
            return msgs

        def aggregate_train(self, server_round, replies):
            replies = check_replies(list(replies), self._sent, f"round {server_round}")
            updates = [u for r in replies for u in _exit_updates(r)]
            self.state, self.sigma, row = exit_rounds.server_round(
                self.state,
                updates,
                self.sigma,
                config=config,
                shares=plan.shares,
                participation=plan.participation,
                sum_p2=plan.sum_p2,
                flops=plan.flops,
                round_=server_round - 1,
            )
            self.rows.append(row)
            self.clock.end_round(sum(float(r.content["metrics"]["train_s"]) for r in replies))
            return state_to_record(self.state), None

    return IdnEarlyExit()


def run_early_exit_flower(
    dataset: Dataset,
    config: EarlyExitConfig,
    plan: ExitPlan,
    seed: int,
    backend_cfg: dict[str, dict[str, Any]] | None = None,
    progress: bool = False,
) -> tuple[State, list[dict[str, float]], dict[str, Any]]:
    """Run the rounds of ``plan`` through ``flwr.simulation.run_simulation``.

    Returns the final state, the history rows and the timings
    (:meth:`~idn_core.federated.flower_engine.RunClock.timings`).
    """
    strategy = make_early_exit_strategy(config, plan, seed, progress)  # clock starts now
    cfg = backend_cfg or backend_config()
    start_ray(cfg)
    ref = put_payload(
        (dataset.x_train, dataset.y_train, plan.parts, dataset.input_length, dataset.n_classes)
    )
    client_app = early_exit_client_app(config, ref, seed=seed)
    n_nodes = len(plan.parts)

    def server_main(grid: Any, context: Any) -> None:
        strategy.nodes = discover_partitions(grid, n_nodes)
        strategy.start(grid, state_to_record(plan.init_state), num_rounds=config.rounds)

    run_simulation(server_main, client_app, n_nodes, cfg)
    if len(strategy.rows) != config.rounds:
        raise RuntimeError(
            f"the Flower run stopped after {len(strategy.rows)} of {config.rounds} rounds"
        )
    return strategy.state, strategy.rows, strategy.clock.timings()
