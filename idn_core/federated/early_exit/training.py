"""Federated training of a nested early-exit network over a device-edge-cloud tree.

Each node at depth ``d`` of the tree (device 0, edge 1, cloud 2) holds exits ``0..d``.
Every round each node trains its deepest exit (and, with the participation
probabilities, lower exits too) for the same number of local SGD steps, so that local
epochs are rescaled by data size; the server adds the per-exit, lambda-tilde weighted
updates of :func:`idn_core.federated.early_exit.weights.aggregate_exit_updates`, each touching only the
layers up to its exit. Serving then follows :mod:`idn_core.federated.early_exit.serving`.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from idn_core._util.validation import (
    as_float_array,
    check_choice,
    check_fraction,
    check_positive,
    check_positive_int,
    check_seed,
    check_shares,
)
from idn_core.federated.early_exit.net import EarlyExitNet, exit_logits
from idn_core.federated.early_exit.plan import ExitPlan, plan_early_exit
from idn_core.federated.early_exit.rounds import draw_exits, node_exit_updates, server_round
from idn_core.federated.early_exit.serving import (
    assign_devices,
    normalised_entropy,
    serve_on_tree,
    serving_metrics,
)
from idn_core.federated.early_exit.weights import EXIT_WEIGHTINGS, check_serving_split
from idn_core.learning.data import Dataset
from idn_core.learning.state import State, load_state
from idn_core.learning.training import progress_enabled
from idn_core.network.topology import Topology, tree_topology

#: Each node trains only its deepest exit.
DEEPEST_ONLY = ((1.0, 0.0, 0.0), (0.0, 1.0, 0.0), (0.0, 0.0, 1.0))
#: Edges also train exit 1 with probability 0.4, the cloud exits 1-2 with probability 0.8.
LOWER_EXITS = ((1.0, 0.0, 0.0), (0.4, 1.0, 0.0), (0.8, 0.8, 1.0))


@dataclass(frozen=True)
class EarlyExitConfig:
    """One federated early-exit experiment (defaults: the 7-node tree, split 80-15-5).

    Attributes
    ----------
    serving_split : share of requests answered at depth (device, edge, cloud); sums to one.
    weighting : lambda-tilde rule, one of :data:`idn_core.federated.early_exit.weights.EXIT_WEIGHTINGS`.
    data_split : share of the training data at each depth, spread evenly over its nodes.
    label_skew_alpha : Dirichlet label skew across nodes (random sizes); ``None`` = IID.
    participation : per depth, the probability of training each exit in a round.
    rounds, local_steps, batch_size, lr, momentum : rounds, SGD steps per node and exit
        per round (the same for every node: local epochs rescaled by data size), minibatch
        size, learning rate and momentum (reset every round).
    server_lr : scale of the aggregated update.
    channels : widths of the three blocks.
    """

    serving_split: tuple[float, ...] = (0.8, 0.15, 0.05)
    weighting: str = "serving"
    data_split: tuple[float, ...] = (4 / 7, 2 / 7, 1 / 7)
    label_skew_alpha: float | None = None
    participation: tuple[tuple[float, ...], ...] = DEEPEST_ONLY
    rounds: int = 30
    local_steps: int = 20
    batch_size: int = 32
    lr: float = 0.1
    momentum: float = 0.9
    server_lr: float = 1.0
    channels: tuple[int, ...] = (8, 16, 32)

    def __post_init__(self) -> None:
        self._check_channels()
        n_exits = len(self.channels)
        check_serving_split(self.serving_split, n_exits)
        check_choice("weighting", self.weighting, EXIT_WEIGHTINGS)
        check_shares("data_split", self.data_split, n_exits)
        if self.label_skew_alpha is not None:
            check_positive("label_skew_alpha", self.label_skew_alpha)
        self._check_participation()
        check_positive_int("rounds", self.rounds)
        check_positive_int("local_steps", self.local_steps, minimum=2)
        check_positive_int("batch_size", self.batch_size)
        check_positive("lr", self.lr)
        check_fraction("momentum", self.momentum, open_high=True)
        check_positive("server_lr", self.server_lr)

    def _check_channels(self) -> None:
        """``channels``: a non-empty tuple of positive block widths."""
        if isinstance(self.channels, str) or not isinstance(self.channels, tuple | list):
            raise TypeError(f"channels must be a tuple of block widths, got {self.channels!r}")
        if not self.channels:
            raise ValueError("channels: an early-exit network needs at least one block")
        for width in self.channels:
            check_positive_int("channels (block width)", width)

    def _check_participation(self) -> None:
        """``participation``: one row of per-exit probabilities in [0, 1] per depth."""
        n = len(self.channels)
        rows = as_float_array("participation", self.participation)
        if rows.shape != (n, n):
            raise ValueError(
                f"participation must be {n} rows (depths) of {n} per-exit probabilities, "
                f"got shape {rows.shape}"
            )
        for d, row in enumerate(rows):
            for e, q in enumerate(row):
                check_fraction(f"participation[{d}][{e}] (depth {d}, exit {e + 1})", float(q))

    def label(self) -> str:
        """Short description for tables and legends."""
        split = "-".join(f"{100 * s:.0f}" for s in self.serving_split)
        return f"{self.weighting} @ {split}"


@dataclass
class EarlyExitResult:
    """Trained weights, per-round history (lambda-tilde, measured sigma), and context.

    ``timings``: wall-clock ``startup_s``, ``round_s`` (per round) and ``teardown_s``;
    ``backend`` names the engine that ran the rounds.
    """

    config: EarlyExitConfig
    state: State
    history: pd.DataFrame
    node_sizes: np.ndarray
    flops: np.ndarray
    input_length: int
    n_classes: int
    backend: str = "inprocess"
    timings: dict[str, Any] = field(default_factory=dict)

    def net(self) -> EarlyExitNet:
        """A module with the trained weights."""
        net = EarlyExitNet(self.input_length, self.n_classes, self.config.channels)
        return load_state(net, self.state).eval()

    def logits(self, x: np.ndarray) -> np.ndarray:
        """Logits of every exit on ``x``, ``(E, N, C)``."""
        return exit_logits(self.net(), x)


def run_early_exit(
    dataset: Dataset,
    config: EarlyExitConfig,
    *,
    seed: int = 0,
    topology: Topology | None = None,
    node_data: Sequence[np.ndarray] | None = None,
    progress: bool | None = None,
    backend: str = "inprocess",
    backend_config: dict[str, dict[str, Any]] | None = None,
) -> EarlyExitResult:
    """Train the early-exit network federatedly over ``topology`` (default: the 7-node tree).

    ``node_data`` overrides the partition of ``config`` (one index array into the
    training split per node of ``topology.nodes``). The variance weighting uses the
    gradient standard deviations measured in the local updates, smoothed over rounds.
    ``backend="flower"`` runs the same rounds on Flower's Ray simulation engine
    (:func:`idn_core.federated.early_exit.flower.run_early_exit_flower`, one virtual client per
    node; ``backend_config`` from :func:`idn_core.federated.flower_engine.backend_config`).
    """
    check_choice("backend", backend, ("inprocess", "flower"))
    check_seed(seed)
    start = time.perf_counter()
    plan = plan_early_exit(dataset, config, seed=seed, topology=topology, node_data=node_data)
    plan_s = time.perf_counter() - start
    if backend == "flower":
        from idn_core.federated.early_exit.flower import run_early_exit_flower

        show = progress_enabled() if progress is None else progress
        state, rows, timings = run_early_exit_flower(
            dataset, config, plan, seed, backend_config, progress=show
        )
    else:
        state, rows, timings = _run_inprocess(dataset, config, plan, seed, progress)
    timings["startup_s"] += plan_s
    return EarlyExitResult(
        config,
        state,
        pd.DataFrame(rows),
        plan.sizes,
        plan.flops,
        dataset.input_length,
        dataset.n_classes,
        backend,
        timings,
    )


def _run_inprocess(
    dataset: Dataset, config: EarlyExitConfig, plan: ExitPlan, seed: int, progress: bool | None
) -> tuple[State, list[dict[str, float]], dict[str, Any]]:
    """The in-process loop: every node's updates, then :func:`server_round`, per round."""
    net = EarlyExitNet(dataset.input_length, dataset.n_classes, config.channels)
    state, sigma = plan.init_state, np.full(len(config.channels), np.nan)
    rng = np.random.default_rng(seed)
    rows, marks = [], [time.perf_counter()]
    show = progress_enabled() if progress is None else progress
    for r in tqdm(range(config.rounds), desc=config.label(), disable=not show, leave=False):
        updates = []
        for c, exits in enumerate(draw_exits(rng, plan.participation)):
            idx = plan.parts[c]
            x, y = dataset.x_train[idx], dataset.y_train[idx]
            updates += node_exit_updates(
                net, state, x, y, node=c, exits=exits, round_=r, seed=seed, config=config
            )
        state, sigma, row = server_round(
            state,
            updates,
            sigma,
            config=config,
            shares=plan.shares,
            participation=plan.participation,
            sum_p2=plan.sum_p2,
            flops=plan.flops,
            round_=r,
        )
        rows.append(row)
        marks.append(time.perf_counter())
    timings = {"startup_s": 0.0, "round_s": [float(v) for v in np.diff(marks)], "teardown_s": 0.0}
    return state, rows, timings


def evaluate_serving(
    logits: np.ndarray,
    labels: np.ndarray,
    serving_split: Sequence[float],
    topology: Topology | None = None,
    seed: int = 0,
) -> dict[str, float]:
    """Serve ``labels``' requests on the tree with ``serving_split``; return :func:`serving_metrics`."""
    check_seed(seed)
    topology = topology or tree_topology(n_edges=2, devices_per_edge=2)
    arrival = assign_devices(len(labels), topology.devices, seed)
    served = serve_on_tree(normalised_entropy(logits), arrival, topology, serving_split)
    return serving_metrics(logits, labels, served)


def sweep_early_exit(
    dataset: Dataset,
    configs: Sequence[EarlyExitConfig],
    seeds: Sequence[int],
    *,
    split: str = "test",
    progress: bool | None = None,
) -> pd.DataFrame:
    """Train and evaluate every config with every seed; one row per (config, seed).

    Runs whose training does not depend on the serving split (``equal`` and ``flops``
    weightings) are trained once and evaluated under each split.
    """
    x, y = dataset.split(split)
    trained: dict[tuple, np.ndarray] = {}
    rows = []
    show = progress_enabled() if progress is None else progress
    jobs = [(c, s) for c in configs for s in seeds]
    for config, seed in tqdm(jobs, desc="early-exit sweep", disable=not show):
        key_cfg = config
        if config.weighting in ("equal", "flops"):
            key_cfg = replace(config, serving_split=(1.0,) + (0.0,) * (len(config.channels) - 1))
        key = (key_cfg, seed)
        if key not in trained:
            trained[key] = run_early_exit(dataset, config, seed=seed, progress=False).logits(x)
        metrics = evaluate_serving(trained[key], y, config.serving_split, seed=seed)
        info = asdict(config)
        rows.append(
            {
                "weighting": config.weighting,
                "serving_split": "-".join(f"{100 * v:.0f}" for v in config.serving_split),
                "data_split": "-".join(f"{100 * v:.0f}" for v in config.data_split),
                "label_skew_alpha": info["label_skew_alpha"],
                "seed": seed,
                **metrics,
            }
        )
    return pd.DataFrame(rows)
