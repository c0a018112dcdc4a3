"""The catalogue from real (tiny, cached) zoos, and capacities from their FLOPs and node speeds."""

from __future__ import annotations

import numpy as np
import pytest
from torch import nn

from idn_core.learning import build_zoo, load_dataset
from idn_core.placement import (
    build_instance,
    catalogue_from_zoos,
    compute_capacity,
    placement_topology,
)


@pytest.fixture(scope="module")
def zoo():
    """The digits zoo trained for 3 epochs (the tests' shared cached models)."""
    return build_zoo(load_dataset("digits", seed=0), 0, epochs=3, progress=False)


def test_catalogue_numbers_come_from_the_models_themselves(zoo) -> None:
    catalogue = catalogue_from_zoos({"a": zoo, "b": zoo})

    assert [m.name for m in catalogue] == [f"{t}:{n}" for t in "ab" for n in zoo.names]
    x, y = zoo.dataset.split("test")
    for entry in catalogue:
        model = zoo[entry.name.split(":", 1)[1]]
        module = model.module
        weights = [*module.parameters(), *module.buffers()]
        linear = [m for m in module.modules() if isinstance(m, nn.Linear)]
        assert entry.task == entry.name.split(":")[0]
        assert entry.size_kb == pytest.approx(sum(4 * w.numel() for w in weights) / 1024, abs=5e-3)
        assert entry.flops == sum(2 * m.in_features * m.out_features for m in linear)  # an MLP
        assert entry.accuracy == pytest.approx((model.predict_logits(x).argmax(1) == y).mean())
    sizes = [m.size_kb for m in catalogue[: len(zoo.names)]]
    assert sizes == sorted(sizes)  # the zoo grows from the device's model to the cloud's


def test_capacities_are_slot_time_over_compute_time(zoo) -> None:
    catalogue = catalogue_from_zoos({"a": zoo})
    topology = placement_topology()

    cap = compute_capacity(topology, catalogue, slot_ms=100.0, share=0.5)

    for v, node in enumerate(topology.nodes):
        for m, model in enumerate(catalogue):
            seconds = model.flops / (node.compute_gflops * 1e9)
            assert cap[v, m] == np.floor(0.5 * 0.1 / seconds)
    # the cloud is faster than a device: it serves more requests of every model per slot
    cloud, device = topology.nodes.index(topology.node("cloud")), 0
    assert (cap[cloud] > cap[device]).all()
    inst = build_instance(topology, catalogue, slot_ms=100.0)
    np.testing.assert_array_equal(inst.capacity, compute_capacity(topology, catalogue, 100.0))
