"""What a federated early-exit run derives before its first round (shared by both backends).

Each node at depth ``d`` of the tree (device 0, edge 1, cloud 2) holds exits ``0..d``;
:func:`plan_early_exit` validates the participation probabilities against that,
partitions the training data over the nodes, computes the data shares ``p`` and the
seeded initial weights.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import networkx as nx
import numpy as np
import torch

from idn_core._util.validation import check_index_array, check_seed
from idn_core.federated.early_exit.config import EarlyExitConfig
from idn_core.federated.early_exit.net import EarlyExitNet, exit_flops
from idn_core.federated.early_exit.weights import check_participation, exit_data_shares
from idn_core.learning.data import Dataset, partition_by_shares, partition_dirichlet
from idn_core.learning.state import State, module_state
from idn_core.network.topology import Topology, tree_topology


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
class ExitPlan:
    """Everything a run derives before round 1 (shared by both backends).

    ``parts`` index the training split per node; ``participation`` is ``q`` ``(C, E)``;
    ``shares`` is ``p`` ``(C, E)``; ``sum_p2`` ``(E,)``; ``flops`` ``(E,)``; ``init_state``
    the seeded initial weights.
    """

    parts: list[np.ndarray]
    participation: np.ndarray
    shares: np.ndarray
    sum_p2: np.ndarray
    flops: np.ndarray
    init_state: State

    @property
    def sizes(self) -> np.ndarray:
        return np.array([len(p) for p in self.parts])


def plan_early_exit(
    dataset: Dataset,
    config: EarlyExitConfig,
    *,
    seed: int = 0,
    topology: Topology | None = None,
    node_data: Sequence[np.ndarray] | None = None,
) -> ExitPlan:
    """Validate the set-up and derive partitions, participation, data shares and initial weights."""
    check_seed(seed)
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
    n_train = len(dataset.y_train)
    parts = [
        check_index_array(f"node_data of {name}", p, n_train).astype(np.int64)
        for name, p in zip(names, parts, strict=True)
    ]
    shares = exit_data_shares([len(p) for p in parts], q > 0)
    torch.manual_seed(seed)
    net = EarlyExitNet(dataset.input_length, dataset.n_classes, config.channels)
    return ExitPlan(parts, q, shares, (shares**2).sum(axis=0), exit_flops(net), module_state(net))
