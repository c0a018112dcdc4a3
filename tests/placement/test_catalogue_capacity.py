"""Chapter 4's capacities follow from the queueing model's service times."""

from __future__ import annotations

import numpy as np

from idn_core.network import network_from_topology, tree_topology
from idn_core.placement import compute_capacity
from idn_core.placement.catalogue import CatalogueModel


def test_capacity_is_the_slot_over_the_queue_service_time():
    topo = tree_topology(n_edges=2, devices_per_edge=2, n_regional=1)
    models = [CatalogueModel(f"t:m{i}", "t", 1.0, f, 0.9) for i, f in enumerate((5760, 1e5, 4.2e6))]
    cap = compute_capacity(topo, models, slot_ms=10.0)
    for m, model in enumerate(models):
        net = network_from_topology(topo, {n.name: model.flops for n in topo.nodes})
        service = dict(zip(net.nodes.ravel(), net.service_s().ravel(), strict=True))
        for v, node in enumerate(topo.nodes):
            # the number of back-to-back services of the queue model that fit in 10 ms
            expected = np.floor(0.01 / service[node.name] * (1 + 1e-12))
            assert cap[v, m] == expected
            assert cap[v, m] == net.capacity[node.name].requests_per_slot(model.flops, 0.01)
