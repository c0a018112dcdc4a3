"""Committees placed beside the path's models (the placement the comparison evaluates)."""

from __future__ import annotations

import pytest

from idn_core.ensembles import member_specs, place_committees, train_bagged
from idn_core.network import load_scenario


@pytest.fixture(scope="module")
def scenario():
    return load_scenario("digits", epochs=3, progress=False)


def test_committees_join_every_node_of_their_tier_and_nothing_else(scenario) -> None:
    data = scenario.dataset
    edge = train_bagged(data, member_specs("digits", 2, epochs=2), 0, progress=False)

    placement = place_committees(scenario, {1: edge})

    before, after = scenario.placement.as_dict(), placement.as_dict()
    edge_tier = scenario.zoo[scenario.path_models[1]].spec.tier
    assert edge_tier == "edge"
    for node in scenario.topology.nodes:
        added = set(after.get(node.name, ())) - set(before.get(node.name, ()))
        assert added == (set(edge.names) if node.tier == edge_tier else set()), node.name
        held = sum(placement.model_sizes_kb[m] for m in after.get(node.name, ()))
        assert held <= node.memory_kb
    for name, model in zip(edge.names, edge.models, strict=True):
        assert placement.model_sizes_kb[name] == model.profile.memory_kb


def test_a_committee_too_big_for_its_nodes_is_refused(scenario) -> None:
    data = scenario.dataset
    cloud = train_bagged(data, member_specs("digits", 2, epochs=2, tier="cloud"), 1, progress=False)
    device = scenario.topology.nodes[0]
    assert sum(m.profile.memory_kb for m in cloud.models) > device.memory_kb

    with pytest.raises(ValueError, match="KiB"):
        place_committees(scenario, {0: cloud})
