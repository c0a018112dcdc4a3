"""Nodes, links and the IDN topology: a tree rooted at the cloud, on networkx.

Requests arrive at devices and travel up the unique path towards the cloud. Serving a
request at node ``v`` costs the round trip from the device to ``v`` plus the model's
compute time on ``v``: ``FLOPs / (v.compute_gflops * 1e6)`` milliseconds. Compute time
is derived from FLOPs, not from wall-clock measurements, so that the same scenario gives
the same numbers on every machine; each model's measured CPU latency is reported
alongside in chapter 1.
"""

from __future__ import annotations

from dataclasses import dataclass

import networkx as nx

from idn_core._util.validation import (
    check_choice,
    check_non_negative,
    check_positive,
    check_positive_int,
    check_type,
)
from idn_core.learning.models import TIERS


@dataclass(frozen=True)
class Node:
    """A computing node.

    Attributes
    ----------
    name : unique name, e.g. ``"device-0"``.
    tier : one of :data:`TIERS`.
    memory_kb : memory available for models, in KiB.
    compute_gflops : effective speed for small-batch inference, in GFLOP/s.
    """

    name: str
    tier: str
    memory_kb: float
    compute_gflops: float

    def __post_init__(self) -> None:
        check_type("node name", self.name, str)
        check_choice("tier", self.tier, TIERS)
        check_positive(f"memory_kb of {self.name}", self.memory_kb)
        check_positive(f"compute_gflops of {self.name}", self.compute_gflops)

    def compute_ms(self, flops: float) -> float:
        """Milliseconds this node needs for ``flops`` floating-point operations."""
        return check_non_negative("flops", flops) / (self.compute_gflops * 1e6)


@dataclass(frozen=True)
class Link:
    """An undirected link with one-way latency (ms) and bandwidth (Mbit/s)."""

    a: str
    b: str
    latency_ms: float
    bandwidth_mbps: float = 100.0

    def __post_init__(self) -> None:
        check_non_negative(f"latency_ms of link {self.a}-{self.b}", self.latency_ms)
        check_positive(f"bandwidth_mbps of link {self.a}-{self.b}", self.bandwidth_mbps)

    def transfer_ms(self, payload_bytes: float) -> float:
        """One-way delay for ``payload_bytes``: propagation plus serialisation."""
        return self.latency_ms + payload_bytes * 8 / (self.bandwidth_mbps * 1e3)


class Topology:
    """An IDN: nodes and links forming a tree whose root is the single cloud node.

    Examples
    --------
    >>> topo = path_topology()
    >>> topo.path("device-0")
    ['device-0', 'edge-0', 'cloud']
    """

    def __init__(self, nodes: list[Node], links: list[Link], payload_bytes: float = 160.0) -> None:
        self.payload_bytes = check_non_negative("payload_bytes", payload_bytes)
        self.graph = nx.Graph()
        for node in nodes:
            if node.name in self.graph:
                raise ValueError(f"duplicate node name {node.name!r}")
            self.graph.add_node(node.name, node=node)
        for link in links:
            self._add_link(link)
        self._validate_tree()
        self._paths = {d: nx.shortest_path(self.graph, d, self.cloud) for d in self.devices}

    def _add_link(self, link: Link) -> None:
        """Add ``link``; unknown ends raise ``KeyError``, a second link between two nodes
        or a link from a node to itself ``ValueError`` (the graph would keep only one)."""
        for end in (link.a, link.b):
            if end not in self.graph:
                raise KeyError(f"link {link.a}-{link.b} names unknown node {end!r}")
        if link.a == link.b:
            raise ValueError(f"link {link.a}-{link.b} joins node {link.a!r} to itself")
        if self.graph.has_edge(link.a, link.b):
            raise ValueError(
                f"links: two links join {link.a!r} and {link.b!r}; give one link per pair of nodes"
            )
        self.graph.add_edge(link.a, link.b, link=link)

    def _validate_tree(self) -> None:
        clouds = [n for n, d in self.graph.nodes(data="node") if d.tier == "cloud"]
        if len(clouds) != 1:
            raise ValueError(f"an IDN needs exactly one cloud node, found {len(clouds)}: {clouds}")
        self.cloud = clouds[0]
        cycles = nx.cycle_basis(self.graph)
        if cycles:
            raise ValueError(f"the topology must be a tree but has a cycle through {cycles[0]}")
        reachable = nx.node_connected_component(self.graph, self.cloud)
        for name in self.graph.nodes:
            if name not in reachable:
                raise ValueError(f"node {name!r} has no path to the cloud {self.cloud!r}")
        order = {t: i for i, t in enumerate(TIERS)}
        for a, b in self.graph.edges:
            ta, tb = self.node(a).tier, self.node(b).tier
            if ta == tb:
                raise ValueError(f"link {a}-{b} joins two {ta} nodes; links join different tiers")
            lower = a if order[ta] < order[tb] else b
            if nx.shortest_path_length(self.graph, lower, self.cloud) < nx.shortest_path_length(
                self.graph, a if lower == b else b, self.cloud
            ):
                raise ValueError(f"link {a}-{b}: the higher tier must be closer to the cloud")

    # ------------------------------------------------------------------ queries
    def node(self, name: str) -> Node:
        """The :class:`Node` called ``name``; ``KeyError`` naming it if unknown."""
        if name not in self.graph:
            raise KeyError(f"unknown node {name!r}; nodes are {sorted(self.graph.nodes)}")
        return self.graph.nodes[name]["node"]

    @property
    def nodes(self) -> list[Node]:
        """All nodes, devices first, cloud last."""
        order = {t: i for i, t in enumerate(TIERS)}
        return sorted(
            (d for _, d in self.graph.nodes(data="node")), key=lambda n: (order[n.tier], n.name)
        )

    @property
    def devices(self) -> list[str]:
        """Names of the device nodes, where requests arrive."""
        return [n.name for n in self.nodes if n.tier == "device"]

    def link(self, a: str, b: str) -> Link:
        """The link between ``a`` and ``b``."""
        self.node(a), self.node(b)
        if not self.graph.has_edge(a, b):
            raise KeyError(f"no link between {a!r} and {b!r}")
        return self.graph.edges[a, b]["link"]

    def path(self, device: str) -> list[str]:
        """Nodes from ``device`` up to the cloud, inclusive."""
        if self.node(device).tier != "device":
            raise ValueError(f"{device!r} is a {self.node(device).tier} node, not a device")
        return list(self._paths[device])

    def rtt_ms(self, device: str, node: str) -> float:
        """Round-trip network delay from ``device`` to ``node`` on its path (payload up, answer down)."""
        path = self.path(device)
        if node not in path:
            raise ValueError(f"node {node!r} is not on the path of {device!r}: {path}")
        hops = path[: path.index(node) + 1]
        up = sum(
            self.link(a, b).transfer_ms(self.payload_bytes)
            for a, b in zip(hops, hops[1:], strict=False)
        )
        down = sum(self.link(a, b).transfer_ms(8.0) for a, b in zip(hops, hops[1:], strict=False))
        return up + down

    def serving_latency_ms(self, device: str, node: str, flops: float) -> float:
        """Latency of answering a request from ``device`` at ``node`` with a model of ``flops``."""
        return self.rtt_ms(device, node) + self.node(node).compute_ms(flops)

    def with_link_latency(self, a: str, b: str, latency_ms: float) -> Topology:
        """A copy with the latency of link ``a``-``b`` changed (for what-if sliders)."""
        old = self.link(a, b)
        links = [
            Link(old.a, old.b, latency_ms, old.bandwidth_mbps)
            if {link.a, link.b} == {a, b}
            else link
            for link in self.links
        ]
        return Topology(self.nodes, links, self.payload_bytes)

    @property
    def links(self) -> list[Link]:
        """All links."""
        return [d for _, _, d in self.graph.edges(data="link")]

    def __repr__(self) -> str:
        tiers = {t: sum(n.tier == t for n in self.nodes) for t in TIERS}
        return f"Topology({', '.join(f'{v} {k}' for k, v in tiers.items() if v)})"


#: Default node capabilities per tier: memory in KiB and effective GFLOP/s.
#: A device is a microcontroller-class sensor node, an edge node a small server at the
#: access network, a regional data centre and the cloud have ample memory and speed.
TIER_DEFAULTS = {
    "device": {"memory_kb": 4.0, "compute_gflops": 0.05},
    "edge": {"memory_kb": 128.0, "compute_gflops": 2.0},
    "regional": {"memory_kb": 512.0, "compute_gflops": 10.0},
    "cloud": {"memory_kb": 1.0e6, "compute_gflops": 50.0},
}

#: Default one-way latency in ms of a link from a tier to its parent.
UPLINK_LATENCY_MS = {"device": 5.0, "edge": 10.0, "regional": 15.0}


def path_topology(
    tiers: tuple[str, ...] = ("device", "edge", "cloud"),
    latencies_ms: tuple[float, ...] | None = None,
) -> Topology:
    """A single path device -> ... -> cloud with default node capabilities."""
    if isinstance(tiers, str) or not tiers or tiers[-1] != "cloud":
        raise ValueError(f"tiers: a path must end at the cloud, got tiers {tiers!r}")
    for tier in tiers:
        check_choice("tier", tier, TIERS)
    latencies = latencies_ms or tuple(UPLINK_LATENCY_MS[t] for t in tiers[:-1])
    if len(latencies) != len(tiers) - 1:
        raise ValueError(
            f"{len(tiers)} tiers need {len(tiers) - 1} link latencies, got {len(latencies)}"
        )
    names = [t if t == "cloud" else f"{t}-0" for t in tiers]
    nodes = [Node(n, t, **TIER_DEFAULTS[t]) for n, t in zip(names, tiers, strict=True)]
    links = [Link(a, b, lat) for a, b, lat in zip(names[:-1], names[1:], latencies, strict=True)]
    return Topology(nodes, links)


def tree_topology(
    n_edges: int = 2,
    devices_per_edge: int = 2,
    n_regional: int = 0,
    latencies_ms: dict[str, float] | None = None,
) -> Topology:
    """A tree: cloud, optional regional centres, edges, and devices under each edge.

    Edges are spread round-robin over the regional centres when ``n_regional > 0``.
    ``latencies_ms`` maps a tier to the one-way latency of its uplink.
    """
    check_positive_int("n_edges", n_edges)
    check_positive_int("devices_per_edge", devices_per_edge)
    check_positive_int("n_regional", n_regional, minimum=0)
    lat = {**UPLINK_LATENCY_MS, **_check_uplink_latencies(latencies_ms)}
    nodes = [Node("cloud", "cloud", **TIER_DEFAULTS["cloud"])]
    links: list[Link] = []
    regionals = [f"regional-{r}" for r in range(n_regional)]
    for r in regionals:
        nodes.append(Node(r, "regional", **TIER_DEFAULTS["regional"]))
        links.append(Link(r, "cloud", lat["regional"]))
    for e in range(n_edges):
        edge = f"edge-{e}"
        nodes.append(Node(edge, "edge", **TIER_DEFAULTS["edge"]))
        links.append(Link(edge, regionals[e % n_regional] if regionals else "cloud", lat["edge"]))
        for d in range(devices_per_edge):
            device = f"device-{e * devices_per_edge + d}"
            nodes.append(Node(device, "device", **TIER_DEFAULTS["device"]))
            links.append(Link(device, edge, lat["device"]))
    return Topology(nodes, links)


def _check_uplink_latencies(latencies_ms: dict[str, float] | None) -> dict[str, float]:
    """Validate ``tree_topology``'s ``latencies_ms``: known uplink tiers, finite values >= 0."""
    if latencies_ms is None:
        return {}
    check_type("latencies_ms", latencies_ms, dict)
    for tier, value in latencies_ms.items():
        if tier not in UPLINK_LATENCY_MS:
            raise ValueError(
                f"latencies_ms names unknown tier {tier!r}; tiers with an uplink are "
                f"{list(UPLINK_LATENCY_MS)}"
            )
        check_non_negative(f"latencies_ms[{tier!r}] (uplink latency of tier {tier!r})", value)
    return {tier: float(v) for tier, v in latencies_ms.items()}
