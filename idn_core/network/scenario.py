"""The book's running scenario: one dataset, its zoo, a 3-tier tree and a placement.

Every chapter starts from :func:`load_scenario`, so all chapters share one set of
trained models (loaded from the cache after the first run) and one topology.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from idn_core._util.validation import check_seed
from idn_core.learning.data import Dataset, load_dataset
from idn_core.learning.outputs import OutputsTable
from idn_core.learning.zoo import Zoo, build_zoo
from idn_core.network.deployment import Placement
from idn_core.network.latency import PathLatency, path_latency
from idn_core.network.topology import Topology, tree_topology


@dataclass
class Scenario:
    """Dataset, zoo, topology and placement of a running scenario, with evaluation outputs.

    ``val`` and ``test`` are the outputs tables of the models on the path
    (device, edge, cloud order); policies are tuned on ``val`` and reported on ``test``.
    """

    dataset: Dataset
    zoo: Zoo
    topology: Topology
    placement: Placement
    path_models: tuple[str, ...]
    val: OutputsTable
    test: OutputsTable

    def latency_table(self) -> pd.DataFrame:
        """Serving latency (ms) of each device's requests at each node of its path."""
        rows = []
        flops = self.zoo.flops()
        for device in self.topology.devices:
            for node, model in self.placement.path_models(device):
                rows.append(
                    {
                        "device": device,
                        "node": node,
                        "tier": self.topology.node(node).tier,
                        "model": model,
                        "rtt_ms": self.topology.rtt_ms(device, node),
                        "compute_ms": self.topology.node(node).compute_ms(flops[model]),
                        "latency_ms": self.topology.serving_latency_ms(device, node, flops[model]),
                    }
                )
        return pd.DataFrame(rows)

    def tier_summary(self, topology: Topology | None = None) -> pd.DataFrame:
        """Accuracy and mean latency of serving every request at one tier of the path.

        One row per model of the scenario's path (local-only, edge-only, cloud-only);
        latency is averaged over devices. Pass a modified ``topology`` to ask what-if
        questions: each model is served at the node of its tier on every device's path,
        so the topology's paths must contain every tier of the scenario's path (a
        ``ValueError`` names the missing tier otherwise).
        """
        topo = topology or self.topology
        flops = self.zoo.flops()
        accuracy = self.test.accuracy()
        rows = []
        for model in self.path_models:
            tier = self.zoo[model].spec.tier
            latencies = [
                topo.serving_latency_ms(device, _node_of_tier(topo, device, tier), flops[model])
                for device in topo.devices
            ]
            rows.append(
                {
                    "tier": self.zoo[model].spec.tier,
                    "model": model,
                    "accuracy": accuracy[model],
                    "latency_ms": float(np.mean(latencies)),
                }
            )
        return pd.DataFrame(rows)

    def path_latencies_ms(self, device: str | None = None) -> np.ndarray:
        """Latency of answering at each tier of ``device``'s path (first device by default).

        A name that is not one of the topology's devices raises ``ValueError``.
        """
        device = self.topology.devices[0] if device is None else device
        if device not in self.topology.devices:
            raise ValueError(
                f"device {device!r} is not a device of the scenario's topology; "
                f"devices are {self.topology.devices}"
            )
        table = self.latency_table()
        return table[table.device == device].latency_ms.to_numpy()


def _node_of_tier(topology: Topology, device: str, tier: str) -> str:
    """The node of ``tier`` on ``device``'s path; ``ValueError`` if the path has none."""
    path = topology.path(device)
    for node in path:
        if topology.node(node).tier == tier:
            return node
    tiers = [topology.node(n).tier for n in path]
    raise ValueError(
        f"topology: the path of {device!r} has tiers {tiers}, no {tier!r} node to serve "
        f"the scenario's {tier} model; a what-if topology needs every tier of the scenario"
    )


def load_scenario(
    dataset: str = "mnist1d",
    *,
    num_samples: int | None = None,
    epochs: int | None = None,
    seed: int = 0,
    n_edges: int = 2,
    devices_per_edge: int = 2,
    progress: bool | None = None,
    **generator_kwargs: Any,
) -> Scenario:
    """Build the running scenario; trains the zoo on the first call, loads it afterwards.

    Parameters
    ----------
    dataset : "mnist1d" (the book's default) or "digits".
    num_samples, epochs : smaller values give the quick CI profile; ``None`` = full quality.
    seed : seeds data generation, splits and training.
    n_edges, devices_per_edge : shape of the device-edge-cloud tree.
    generator_kwargs : MNIST-1D generator settings other than the book's (e.g.
        ``iid_noise_scale=0.05``), to ask what the same zoo does on other data.
    """
    check_seed(seed)
    data = load_dataset(dataset, num_samples=num_samples, seed=seed, **generator_kwargs)
    zoo = build_zoo(data, seed, epochs=epochs, progress=progress)
    topology = tree_topology(n_edges=n_edges, devices_per_edge=devices_per_edge)
    return assemble_scenario(zoo, topology)


def assemble_scenario(zoo: Zoo, topology: Topology) -> Scenario:
    """A :class:`Scenario` from a trained ``zoo`` on ``topology``: each node holds the zoo's
    model of its tier (``ValueError`` from :class:`Placement` if it does not fit the node's
    memory), and the path models are those on the first device's path."""
    if not isinstance(zoo, Zoo):
        raise TypeError(f"zoo must be a Zoo, got {type(zoo).__name__}")
    if not isinstance(topology, Topology):
        raise TypeError(f"topology must be a Topology, got {type(topology).__name__}")
    data = zoo.dataset
    by_tier = {m.spec.tier: name for name, m in zoo.models.items()}
    assignment: dict[str, list[str]] = {}
    for node in topology.nodes:
        if node.tier in by_tier:
            assignment[node.name] = [by_tier[node.tier]]
    placement = Placement(topology, assignment, zoo.sizes_kb())
    path = tuple(m for _, m in placement.path_models(topology.devices[0]))
    return Scenario(
        dataset=data,
        zoo=zoo,
        topology=topology,
        placement=placement,
        path_models=path,
        val=zoo.outputs("val").select(path),
        test=zoo.outputs("test").select(path),
    )


def scenario_latency(scenario: Scenario, topology: Topology | None = None) -> PathLatency:
    """:class:`~idn_core.network.PathLatency` of ``scenario``'s placement, on its own topology
    or on ``topology`` (a what-if with other links or node speeds, same node names)."""
    if not isinstance(scenario, Scenario):
        raise TypeError(f"scenario must be a Scenario, got {type(scenario).__name__}")
    topo = scenario.topology if topology is None else topology
    if not isinstance(topo, Topology):
        raise TypeError(f"topology must be a Topology, got {type(topo).__name__}")
    placement = Placement(topo, scenario.placement.as_dict(), scenario.placement.model_sizes_kb)
    return path_latency(topo, placement, scenario.zoo.flops())
