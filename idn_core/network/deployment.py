"""A static placement: which models each node holds, checked against memory budgets."""

from __future__ import annotations

from collections.abc import Mapping

from idn_core._util.validation import check_positive
from idn_core.network.topology import Topology


class Placement:
    """Map from node name to the names of the models it stores.

    Validated on construction against the topology (unknown nodes) and the model
    sizes (unknown models, a model or a set of models larger than the node's memory).

    Examples
    --------
    >>> from idn_core.network.topology import path_topology
    >>> topo = path_topology()
    >>> p = Placement(topo, {"device-0": ["a"], "cloud": ["b"]}, {"a": 4.0, "b": 900.0})
    >>> p.models_on("cloud")
    ('b',)
    """

    def __init__(
        self,
        topology: Topology,
        assignment: Mapping[str, list[str] | tuple[str, ...]],
        model_sizes_kb: Mapping[str, float],
    ) -> None:
        self.topology = topology
        self.model_sizes_kb = _check_sizes(model_sizes_kb)
        self._models: dict[str, tuple[str, ...]] = {}
        for node_name, models in assignment.items():
            node = topology.node(node_name)  # KeyError names an unknown node
            if isinstance(models, str):
                raise TypeError(
                    f"assignment of {node_name!r} must be a list of model names, "
                    f"got the string {models!r}"
                )
            models = tuple(models)
            for m in models:
                if m not in self.model_sizes_kb:
                    raise KeyError(
                        f"unknown model {m!r} placed on {node_name!r}; known: {sorted(self.model_sizes_kb)}"
                    )
                if self.model_sizes_kb[m] > node.memory_kb:
                    raise ValueError(
                        f"model {m!r} needs {self.model_sizes_kb[m]:.1f} KiB, more than the "
                        f"{node.memory_kb:.1f} KiB memory of node {node_name!r}"
                    )
            if len(set(models)) != len(models):
                raise ValueError(f"node {node_name!r} lists a model twice: {models}")
            used = sum(self.model_sizes_kb[m] for m in models)
            if used > node.memory_kb:
                raise ValueError(
                    f"models {models} need {used:.1f} KiB on node {node_name!r}, "
                    f"which has {node.memory_kb:.1f} KiB"
                )
            self._models[node_name] = models

    def models_on(self, node: str) -> tuple[str, ...]:
        """Models stored on ``node`` (empty tuple if none)."""
        self.topology.node(node)
        return self._models.get(node, ())

    def memory_used_kb(self, node: str) -> float:
        """Memory taken by the models on ``node``."""
        return sum(self.model_sizes_kb[m] for m in self.models_on(node))

    def path_models(self, device: str) -> list[tuple[str, str]]:
        """``(node, model)`` pairs along the path of ``device``, device first."""
        return [(n, m) for n in self.topology.path(device) for m in self.models_on(n)]

    def as_dict(self) -> dict[str, tuple[str, ...]]:
        """Plain copy of the assignment."""
        return dict(self._models)

    def __repr__(self) -> str:
        return f"Placement({self._models})"


def _check_sizes(model_sizes_kb: Mapping[str, float]) -> dict[str, float]:
    """Copy of ``model_sizes_kb``; every size must be a finite number of KiB > 0.

    A negative or NaN size would make a node's memory check pass for models that do not fit.
    """
    if not isinstance(model_sizes_kb, Mapping):
        raise TypeError(
            f"model_sizes_kb must map model names to KiB, got {type(model_sizes_kb).__name__}"
        )
    for model, size in model_sizes_kb.items():
        check_positive(f"model_sizes_kb[{model!r}]", size)
    return dict(model_sizes_kb)
