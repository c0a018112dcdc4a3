"""Tests of nodes, links, the tree topology and placements."""

import math

import pytest

from idn_core.network import Link, Node, Placement, Topology, path_topology, tree_topology


def test_path_from_device_to_cloud():
    topo = tree_topology(n_edges=2, devices_per_edge=2, n_regional=1)

    assert topo.path("device-3") == ["device-3", "edge-1", "regional-0", "cloud"]
    assert len(topo.devices) == 4


def test_rtt_adds_both_directions_of_every_hop():
    topo = path_topology(latencies_ms=(4.0, 20.0))

    rtt = topo.rtt_ms("device-0", "cloud")

    assert rtt == pytest.approx(2 * (4.0 + 20.0), abs=0.1)
    assert topo.rtt_ms("device-0", "device-0") == 0.0


def test_serving_latency_adds_compute_scaled_by_node_speed():
    topo = path_topology()
    flops = 2_000_000

    edge = topo.serving_latency_ms("device-0", "edge-0", flops)

    expected = topo.rtt_ms("device-0", "edge-0") + flops / (
        topo.node("edge-0").compute_gflops * 1e6
    )
    assert edge == pytest.approx(expected)


def test_slower_link_raises_latency():
    topo = path_topology()
    slower = topo.with_link_latency("edge-0", "cloud", 50.0)

    assert slower.rtt_ms("device-0", "cloud") > topo.rtt_ms("device-0", "cloud") + 50


@pytest.mark.parametrize(
    ("build", "error", "match"),
    [
        (lambda: Link("a", "b", -1.0), ValueError, "latency_ms of link a-b"),
        (lambda: Link("a", "b", math.nan), ValueError, "finite"),
        (lambda: Node("x", "fog", 1.0, 1.0), ValueError, "unknown tier"),
        (lambda: Node("x", "edge", -1.0, 1.0), ValueError, "memory_kb of x"),
        (lambda: tree_topology(n_edges=0), ValueError, "n_edges"),
        (lambda: tree_topology(latencies_ms={"edge": -3.0}), ValueError, "edge"),
    ],
)
def test_bad_parts_are_named(build, error, match):
    with pytest.raises(error, match=match):
        build()


def test_cycle_is_rejected():
    nodes = [
        Node("cloud", "cloud", 1e6, 50),
        Node("e1", "edge", 64, 2),
        Node("e2", "regional", 64, 2),
        Node("d", "device", 4, 0.05),
    ]
    links = [
        Link("d", "e1", 1),
        Link("e1", "e2", 1),
        Link("e2", "cloud", 1),
        Link("e1", "cloud", 1),
    ]

    with pytest.raises(ValueError, match="cycle"):
        Topology(nodes, links)


def test_device_without_path_to_cloud_is_rejected():
    nodes = [Node("cloud", "cloud", 1e6, 50), Node("d", "device", 4, 0.05)]

    with pytest.raises(ValueError, match="'d' has no path to the cloud"):
        Topology(nodes, [])


def test_unknown_node_is_named():
    topo = path_topology()

    with pytest.raises(KeyError, match="unknown node 'edge-9'"):
        topo.node("edge-9")
    with pytest.raises(KeyError, match="unknown node 'ghost'"):
        Topology([Node("cloud", "cloud", 1e6, 50)], [Link("ghost", "cloud", 1.0)])


SIZES = {"small": 2.5, "medium": 40.0, "large": 900.0}


def test_placement_checks_memory():
    topo = path_topology()

    placement = Placement(
        topo, {"device-0": ["small"], "edge-0": ["medium"], "cloud": ["large"]}, SIZES
    )

    assert placement.path_models("device-0") == [
        ("device-0", "small"),
        ("edge-0", "medium"),
        ("cloud", "large"),
    ]
    with pytest.raises(
        ValueError, match="'large' needs 900.0 KiB, more than the 128.0 KiB memory of node 'edge-0'"
    ):
        Placement(topo, {"edge-0": ["large"]}, SIZES)
    with pytest.raises(ValueError, match="need"):
        Placement(topo, {"edge-0": ["medium", "medium2"]}, {**SIZES, "medium2": 100.0})


def test_placement_names_unknown_things():
    topo = path_topology()

    with pytest.raises(KeyError, match="unknown model 'huge'"):
        Placement(topo, {"cloud": ["huge"]}, SIZES)
    with pytest.raises(KeyError, match="unknown node 'edge-7'"):
        Placement(topo, {"edge-7": ["small"]}, SIZES)


def test_unknown_tier_in_tree_latencies_is_rejected():
    # {"egde": 1} used to be ignored: the edge uplink kept its default latency.
    with pytest.raises(ValueError, match=r"latencies_ms names unknown tier 'egde'"):
        tree_topology(latencies_ms={"egde": 1.0})
    with pytest.raises(ValueError, match="latencies_ms\\['edge'\\]"):
        tree_topology(latencies_ms={"edge": math.nan})
    with pytest.raises(ValueError, match="unknown tier 'fog'"):
        path_topology(("device", "fog", "cloud"))


def test_two_links_between_the_same_nodes_are_rejected():
    nodes = [Node("d", "device", 4.0, 1.0), Node("c", "cloud", 1e6, 50.0)]
    # The second link used to replace the first without a word.
    with pytest.raises(ValueError, match="two links join 'c' and 'd'"):
        Topology(nodes, [Link("d", "c", 5.0), Link("c", "d", 50.0)])
    with pytest.raises(ValueError, match="joins node 'd' to itself"):
        Topology(nodes, [Link("d", "c", 5.0), Link("d", "d", 1.0)])


@pytest.mark.parametrize("bad", [-5.0, math.nan, math.inf, 0.0, "6"])
def test_placement_rejects_bad_model_sizes(bad):
    topo = path_topology()
    # A -5 KiB model used to make a 6 KiB model "fit" the 4 KiB device beside it.
    with pytest.raises((ValueError, TypeError), match=r"model_sizes_kb\['neg'\]"):
        Placement(topo, {"device-0": ["big", "neg"]}, {"big": 6.0, "neg": bad})


def test_placement_refuses_a_string_of_models():
    with pytest.raises(TypeError, match="assignment of 'cloud' must be a list"):
        Placement(path_topology(), {"cloud": "big"}, {"big": 6.0})
