"""The model catalogue of the placement problem: every model of every task, with the
numbers the cost model needs (memory, FLOPs, accuracy), and compute-derived capacities."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from idn_core._util.validation import check_positive, check_type
from idn_core.network.queues import NodeCapacity
from idn_core.network.topology import Topology


@dataclass(frozen=True)
class CatalogueModel:
    """One model of one task: ``name`` is unique over the catalogue (``"task:model"``).

    Attributes
    ----------
    task : task the model solves.  size_kb : memory in KiB.  flops : FLOPs per request.
    accuracy : test accuracy in [0, 1].
    """

    name: str
    task: str
    size_kb: float
    flops: float
    accuracy: float


def catalogue_from_zoos(tasks: Mapping[str, object]) -> list[CatalogueModel]:
    """Catalogue of every model of every task; ``tasks`` maps a task name to a :class:`Zoo`.

    Several tasks may share one zoo (same models, different popularity); each task gets its
    own copies, named ``"task:model"``. Accuracy is the model's test accuracy.
    """
    if not tasks:
        raise ValueError("tasks must name at least one task")
    out = []
    for task, zoo in tasks.items():
        check_type("task name", task, str)
        table = zoo.table()
        for model, row in table.iterrows():
            out.append(
                CatalogueModel(
                    f"{task}:{model}",
                    task,
                    float(row.memory_kb),
                    float(row.flops),
                    float(row.test_acc),
                )
            )
    return out


def compute_capacity(
    topology: Topology, catalogue: Sequence[CatalogueModel], slot_ms: float, share: float = 1.0
) -> np.ndarray:
    """Requests per slot each node can serve with each model, from the queueing chapter's
    service model: a node of speed ``v`` (one server, ``compute_gflops * 1e9`` FLOP/s)
    serves a model of ``F`` FLOPs in ``F / v`` seconds, so ``floor(share * slot / (F / v))``
    requests fit in a slot (:meth:`idn_core.network.NodeCapacity.requests_per_slot`).

    Returns a ``(V, M)`` float array (nodes in ``topology.nodes`` order).
    """
    check_positive("slot_ms", slot_ms)
    check_positive("share", share)
    cap = np.zeros((len(topology.nodes), len(catalogue)))
    for v, node in enumerate(topology.nodes):
        server = NodeCapacity(1, node.compute_gflops * 1e9)
        for m, model in enumerate(catalogue):
            cap[v, m] = server.requests_per_slot(model.flops, share * slot_ms / 1e3)
    return cap
