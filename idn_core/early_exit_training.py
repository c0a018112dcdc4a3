"""Federated training of a nested early-exit network over a device-edge-cloud tree.

Each node at depth ``d`` of the tree (device 0, edge 1, cloud 2) holds exits ``0..d``.
Every round each node trains its deepest exit (and, with the participation
probabilities, lower exits too) for the same number of local SGD steps, so that local
epochs are rescaled by data size; the server adds the per-exit, lambda-tilde weighted
updates of :func:`idn_core.exit_weights.aggregate_exit_updates`, each touching only the
layers up to its exit. Serving then follows :mod:`idn_core.exit_serving`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace

import networkx as nx
import numpy as np
import pandas as pd
import torch
from tqdm.auto import tqdm

from idn_core._validation import check_choice, check_positive, check_positive_int
from idn_core.data import Dataset, partition_by_shares, partition_dirichlet
from idn_core.early_exit import EarlyExitNet, exit_flops, exit_logits, local_exit_update
from idn_core.exit_serving import assign_devices, normalised_entropy, serve_on_tree, serving_metrics
from idn_core.exit_weights import (
    WEIGHTINGS,
    State,
    aggregate_exit_updates,
    check_participation,
    check_serving_split,
    exit_data_shares,
    lambda_tilde,
)
from idn_core.federated import client_seed, load_state, module_state
from idn_core.topology import Topology, tree_topology
from idn_core.training import _show_progress

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
    weighting : lambda-tilde rule, one of :data:`idn_core.exit_weights.WEIGHTINGS`.
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
        check_serving_split(self.serving_split, len(self.channels))
        check_choice("weighting", self.weighting, WEIGHTINGS)
        shares = np.asarray(self.data_split, dtype=float)
        if (
            shares.shape != (len(self.channels),)
            or (shares <= 0).any()
            or abs(shares.sum() - 1) > 1e-6
        ):
            raise ValueError(
                f"data_split must be {len(self.channels)} positive shares summing to one, got {self.data_split}"
            )
        if self.label_skew_alpha is not None:
            check_positive("label_skew_alpha", self.label_skew_alpha)
        check_positive_int("rounds", self.rounds)
        check_positive_int("local_steps", self.local_steps, minimum=2)
        check_positive_int("batch_size", self.batch_size)
        check_positive("lr", self.lr)

    def label(self) -> str:
        """Short description for tables and legends."""
        split = "-".join(f"{100 * s:.0f}" for s in self.serving_split)
        return f"{self.weighting} @ {split}"


def node_depths(topology: Topology, n_exits: int) -> np.ndarray:
    """Depth ``(C,)`` of each node of ``topology.nodes`` (devices ``0``, the cloud ``E-1``)."""
    depth = []
    for node in topology.nodes:
        d = n_exits - 1 - nx.shortest_path_length(topology.graph, node.name, topology.cloud)
        if d < 0:
            raise ValueError(f"{node.name} is deeper than the network's {n_exits} exits")
        depth.append(d)
    return np.array(depth)


def participation_matrix(
    participation: Sequence[Sequence[float]], depths: np.ndarray
) -> np.ndarray:
    """Probabilities ``(C, E)`` from per-depth rows, validated (in [0, 1], held exits only)."""
    rows = np.asarray(participation, dtype=float)
    if rows.ndim != 2 or rows.shape[0] != rows.shape[1] or rows.shape[0] <= depths.max():
        raise ValueError(
            f"participation must be one row of per-exit probabilities per depth, got {rows.shape}"
        )
    return rows[depths]


def node_partitions(
    topology: Topology, y: np.ndarray, config: EarlyExitConfig, seed: int = 0
) -> list[np.ndarray]:
    """Training indices per node of ``topology.nodes`` following ``config``'s data split or skew."""
    depths = node_depths(topology, len(config.channels))
    if config.label_skew_alpha is not None:
        return partition_dirichlet(y, len(depths), config.label_skew_alpha, seed=seed)
    per_depth = np.bincount(depths, minlength=len(config.channels))
    shares = np.asarray(config.data_split)[depths] / per_depth[depths]
    return partition_by_shares(len(y), shares, seed=seed)


@dataclass
class EarlyExitResult:
    """Trained weights, per-round history (lambda-tilde, measured sigma), and context."""

    config: EarlyExitConfig
    state: State
    history: pd.DataFrame
    node_sizes: np.ndarray
    flops: np.ndarray
    input_length: int
    n_classes: int

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
) -> EarlyExitResult:
    """Train the early-exit network federatedly over ``topology`` (default: the 7-node tree).

    ``node_data`` overrides the partition of ``config`` (one index array into the
    training split per node of ``topology.nodes``). The variance weighting uses the
    gradient standard deviations measured in the local updates, smoothed over rounds.
    """
    topology = topology or tree_topology(n_edges=2, devices_per_edge=2)
    n_exits = len(config.channels)
    names = [n.name for n in topology.nodes]
    depths = node_depths(topology, n_exits)
    holds = depths[:, None] >= np.arange(n_exits)[None, :]
    q = check_participation(participation_matrix(config.participation, depths), holds, names)
    parts = (
        node_partitions(topology, dataset.y_train, config, seed) if node_data is None else node_data
    )
    if len(parts) != len(names):
        raise ValueError(f"need one index array per node ({len(names)}), got {len(parts)}")
    for name, idx in zip(names, parts, strict=True):
        if len(idx) == 0:
            raise ValueError(f"node {name} has no training data")
    sizes = np.array([len(p) for p in parts])
    shares = exit_data_shares(sizes, q > 0)
    sum_p2 = (shares**2).sum(axis=0)
    torch.manual_seed(seed)
    net = EarlyExitNet(dataset.input_length, dataset.n_classes, config.channels)
    state, flops = module_state(net), exit_flops(net)
    sigma = np.full(n_exits, np.nan)
    rng = np.random.default_rng(seed)
    rows = []
    show = _show_progress() if progress is None else progress
    for r in tqdm(range(config.rounds), desc=config.label(), disable=not show, leave=False):
        updates = []
        for c, idx in enumerate(parts):
            for e in np.flatnonzero(rng.random(n_exits) < q[c]):
                updates.append(
                    local_exit_update(
                        net,
                        state,
                        dataset.x_train[idx],
                        dataset.y_train[idx],
                        node=c,
                        exit_=int(e),
                        steps=config.local_steps,
                        batch_size=config.batch_size,
                        lr=config.lr,
                        momentum=config.momentum,
                        seed=client_seed(seed, r, c * n_exits + int(e)),
                    )
                )
        for e in range(n_exits):
            measured = [u.grad_sigma for u in updates if u.exit == e]
            if measured:
                new = float(np.mean(measured))
                sigma[e] = new if np.isnan(sigma[e]) else 0.5 * sigma[e] + 0.5 * new
        fill = 1.0 if np.isnan(sigma).all() else np.nanmean(sigma)
        known = np.where(np.isnan(sigma), fill, sigma)
        lam = lambda_tilde(
            config.weighting, config.serving_split, sigma=known, sum_p2=sum_p2, flops=flops
        )
        triples = [(u.node, u.exit, u.delta) for u in updates]
        state = aggregate_exit_updates(state, triples, shares, q, lam, config.server_lr)
        if not all(np.isfinite(v).all() for v in state.values()):
            raise FloatingPointError(
                f"training diverged in round {r + 1}: lower lr ({config.lr}) or server_lr "
                f"({config.server_lr})"
            )
        row: dict[str, float] = {"round": r + 1, "updates": len(updates)}
        row.update({f"lambda{e + 1}": float(lam[e]) for e in range(n_exits)})
        row.update({f"sigma{e + 1}": float(known[e]) for e in range(n_exits)})
        rows.append(row)
    return EarlyExitResult(
        config, state, pd.DataFrame(rows), sizes, flops, dataset.input_length, dataset.n_classes
    )


def evaluate_serving(
    logits: np.ndarray,
    labels: np.ndarray,
    serving_split: Sequence[float],
    topology: Topology | None = None,
    seed: int = 0,
) -> dict[str, float]:
    """Serve ``labels``' requests on the tree with ``serving_split``; return :func:`serving_metrics`."""
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
    show = _show_progress() if progress is None else progress
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
