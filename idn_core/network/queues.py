"""Exact FIFO queues at every node and link of a request's path, vectorised.

Times are in **seconds**, speeds in FLOP/s, bandwidths in bytes/s. The model:

* **Nodes.** A node has ``servers`` identical servers and a speed; a model of ``F``
  FLOPs takes ``F / speed`` seconds (deterministic by default; optionally exponential or
  lognormal with the same mean, seeded). Requests are served first come, first served.
  The **device is a queue like any other node**: it is its own single server (by
  default), and a request it answers waits behind the earlier requests of that device.
* **Links.** A request climbing from tier ``k`` to ``k + 1`` pays the uplink's
  propagation delay plus its transmission time ``request_bytes / bandwidth``. A link
  marked ``queued`` is a single-server FIFO queue whose service time is the transmission
  time (then the propagation delay). Answers travel down without queuing (they are a few
  bytes): propagation plus ``answer_bytes / bandwidth`` per link.
* **Routes.** A request visits the nodes of its device's path (``LoadNetwork.nodes``)
  from tier 0 up to its deepest visited tier; it is served at the tiers it visits
  (``visits``: bool ``(R, K)``, e.g. a ``Decision``'s ``queried``) and only relayed by
  the others, then its answer returns to the device. Its response time is the time from
  its arrival at the device to the answer's return.

The evaluation is exact: the network is feed-forward (every route climbs the tiers), so
the stations of tier ``k`` see only requests that left tier ``k - 1``, whose times are
already final. At each station the requests of several devices or children merge and are
re-sorted by arrival time (stable: simultaneous arrivals are served in stream order, i.e.
in their order of arrival at the devices). A single server is then a cumulative maximum,
``D = C + maximum.accumulate(A - C + S)`` with ``C = cumsum(S)`` (the recursion
``D_n = max(A_n, D_{n-1}) + S_n`` without a loop); ``c`` servers follow the
Kiefer-Wolfowitz recursion (request ``n`` starts at ``max(A_n, earliest free server)``),
a plain-Python heap loop, except when all service times at a station are equal (a
node's model takes the same time for every request): then the earliest free server is the
one request ``n - c`` used, and every ``c``-th request forms a single-server recursion
that the cumulative maximum solves column by column.
Dynamic batching (a batch starts when full or at a timeout) is not modelled: whether a
request joins a batch depends on the queue it finds, which the cumulative maximum cannot
express, so it would need its own sequential loop.

Examples
--------
>>> fifo_departures(np.array([0.0, 0.5, 3.0]), np.array([1.0, 1.0, 1.0])).tolist()
[1.0, 2.0, 4.0]
>>> fifo_departures(np.array([0.0, 0.0, 0.0]), np.array([2.0, 1.0, 1.0]), servers=2).tolist()
[2.0, 1.0, 2.0]
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pandas as pd

from idn_core._util.validation import (
    check_choice,
    check_non_negative,
    check_positive,
    check_positive_int,
    check_type,
)
from idn_core.network.arrivals import TimedRequests, check_arrivals
from idn_core.network.scenario import Scenario

__all__ = [
    "SERVICE_VARIABILITY",
    "LinkCapacity",
    "LoadNetwork",
    "LoadResult",
    "NodeCapacity",
    "StationLoad",
    "evaluate_load",
    "fifo_departures",
    "network_from_topology",
    "scenario_network",
    "visits_from_queried",
]

SERVICE_VARIABILITY = ("deterministic", "exponential", "lognormal")


@dataclass(frozen=True)
class NodeCapacity:
    """A node's ``servers`` (int >= 1) and the speed of each, ``speed_flops_per_s`` (> 0)."""

    servers: int = 1
    speed_flops_per_s: float = 1e9

    def __post_init__(self) -> None:
        check_positive_int("servers", self.servers)
        check_positive("speed_flops_per_s", self.speed_flops_per_s)

    def requests_per_slot(self, flops: float, slot_s: float) -> float:
        """Requests of ``flops`` FLOPs the node can finish in a slot of ``slot_s`` seconds:
        ``floor(slot_s / service)`` with ``service = flops / speed`` on each of its
        ``servers`` servers, i.e. ``servers * floor(slot_s * speed / flops)``
        (the capacities of the placement chapter)."""
        check_non_negative("flops", flops)
        check_positive("slot_s", slot_s)
        per_server = slot_s * self.speed_flops_per_s / max(flops, 1e-300)
        # a relative 1e-12 keeps exact multiples (e.g. 10 ms of 10 us) from rounding down
        return float(self.servers * np.floor(min(per_server, 1e300) * (1 + 1e-12)))


@dataclass(frozen=True)
class LinkCapacity:
    """An uplink: ``propagation_s`` (>= 0), ``bandwidth_bytes_per_s`` (> 0, may be ``inf``)
    and whether requests queue for it (``queued``: a single FIFO server)."""

    propagation_s: float = 0.0
    bandwidth_bytes_per_s: float = math.inf
    queued: bool = False

    def __post_init__(self) -> None:
        check_non_negative("propagation_s", self.propagation_s)
        bw = self.bandwidth_bytes_per_s
        check_type("bandwidth_bytes_per_s", bw, (int, float, np.integer, np.floating))
        if not bw > 0:
            raise ValueError(f"bandwidth_bytes_per_s must be > 0, got {bw!r}")
        check_type("queued", self.queued, bool)

    def transmission_s(self, payload_bytes: float) -> float:
        """Seconds to put ``payload_bytes`` on the link."""
        return check_non_negative("payload_bytes", payload_bytes) / self.bandwidth_bytes_per_s


@dataclass(frozen=True)
class LoadNetwork:
    """Capacities along every device's path.

    Attributes
    ----------
    devices : device names ``(D,)``.
    nodes : str ``(D, K)``: node at tier ``k`` of device ``d``'s path (tier 0 first); a
        node appears at one tier only and has one parent (the paths form a tree).
    flops : float ``(D, K)``: FLOPs of the model a request of device ``d`` runs at tier ``k``.
    capacity : node name -> :class:`NodeCapacity`, for every node in ``nodes``.
    uplinks : node name -> :class:`LinkCapacity` of its link to the next tier, for every
        node of tiers ``0 .. K-2``.
    request_bytes, answer_bytes : payloads going up and coming down (bytes).
    """

    devices: tuple[str, ...]
    nodes: np.ndarray
    flops: np.ndarray
    capacity: Mapping[str, NodeCapacity]
    uplinks: Mapping[str, LinkCapacity]
    request_bytes: float = 160.0
    answer_bytes: float = 8.0
    names: tuple[str, ...] = field(init=False, repr=False)
    node_index: np.ndarray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        shape = (len(self.devices), np.shape(self.nodes)[-1] if np.ndim(self.nodes) == 2 else -1)
        if np.ndim(self.nodes) != 2 or np.shape(self.nodes)[0] != len(self.devices):
            raise ValueError(
                f"nodes must have shape (D={len(self.devices)}, K), got {np.shape(self.nodes)}"
            )
        if np.shape(self.flops) != shape:
            raise ValueError(f"flops must have shape {shape}, got {np.shape(self.flops)}")
        fl = np.asarray(self.flops, dtype=float)
        if not np.isfinite(fl).all() or (fl < 0).any():
            raise ValueError("flops must be finite and >= 0")
        check_non_negative("request_bytes", self.request_bytes)
        check_non_negative("answer_bytes", self.answer_bytes)
        names = tuple(dict.fromkeys(np.asarray(self.nodes).ravel().tolist()))
        self._check_tree(names)
        index = {n: i for i, n in enumerate(names)}
        object.__setattr__(self, "names", names)
        object.__setattr__(
            self, "node_index", np.vectorize(index.__getitem__, otypes=[np.int32])(self.nodes)
        )

    def _check_tree(self, names: tuple[str, ...]) -> None:
        nodes = np.asarray(self.nodes)
        tier_of, parent_of = {}, {}
        for (d, k), name in np.ndenumerate(nodes):
            if tier_of.setdefault(name, k) != k:
                raise ValueError(f"node {name!r} appears at tiers {tier_of[name]} and {k}")
            if (
                k + 1 < nodes.shape[1]
                and parent_of.setdefault(name, nodes[d, k + 1]) != nodes[d, k + 1]
            ):
                raise ValueError(
                    f"node {name!r} has two parents, {parent_of[name]!r} and {nodes[d, k + 1]!r}"
                )
        for name in names:
            if not isinstance(self.capacity.get(name), NodeCapacity):
                raise ValueError(f"capacity must give a NodeCapacity for node {name!r}")
        for name in parent_of:
            if not isinstance(self.uplinks.get(name), LinkCapacity):
                raise ValueError(f"uplinks must give a LinkCapacity for node {name!r}")

    @property
    def n_tiers(self) -> int:
        return int(np.shape(self.nodes)[1])

    def service_s(self) -> np.ndarray:
        """Mean service time (s) ``(D, K)`` of each device's model at each tier."""
        speed = np.array([self.capacity[n].speed_flops_per_s for n in self.names])
        return np.asarray(self.flops, dtype=float) / speed[self.node_index]

    def _link_table(self, attr: str) -> np.ndarray:
        nodes = np.asarray(self.nodes)[:, :-1]
        out = np.zeros(nodes.shape)
        for (d, k), name in np.ndenumerate(nodes):
            out[d, k] = _link_delay(self.uplinks[name], attr, self)
        return out

    def transmission_s(self) -> np.ndarray:
        """Transmission time (s) ``(D, K-1)`` of a request on each uplink (a queued link's
        service time)."""
        return self._link_table("tx")

    def up_delay_s(self) -> np.ndarray:
        """Pure delay (s) ``(D, K-1)`` of each uplink: propagation plus transmission (only
        propagation for a queued link, whose transmission is its service time)."""
        return self._link_table("up")

    def down_s(self) -> np.ndarray:
        """Delay (s) ``(D, K)`` of an answer from tier ``k`` back to the device (0 at tier 0)."""
        down = self._link_table("down")
        return np.concatenate([np.zeros((down.shape[0], 1)), np.cumsum(down, axis=1)], axis=1)


def _link_delay(link: LinkCapacity, attr: str, net: LoadNetwork) -> float:
    """Delay (s) of ``link`` going up (``"up"``), down (``"down"``) or its queue's service (``"tx"``)."""
    if attr == "down":
        return link.propagation_s + link.transmission_s(net.answer_bytes)
    if attr == "tx":
        return link.transmission_s(net.request_bytes)
    return link.propagation_s + (0.0 if link.queued else link.transmission_s(net.request_bytes))


def network_from_topology(
    topology,
    flops: Mapping[str, float],
    servers: int | Mapping[str, int] = 1,
    queued_links: bool = False,
) -> LoadNetwork:
    """A :class:`LoadNetwork` over every device's full path of a ``Topology``.

    Parameters
    ----------
    topology : an ``idn_core.network.topology.Topology``; speeds ``compute_gflops * 1e9`` FLOP/s,
        links ``latency_ms / 1e3`` s and ``bandwidth_mbps * 1e6 / 8`` bytes/s, its
        ``payload_bytes`` up and 8 bytes down (as ``Topology.rtt_ms`` prices them).
    flops : node name -> FLOPs of the model it serves, for every node on the paths.
    servers : servers of every node, or node name -> servers (others get 1).
    queued_links : whether every uplink is a FIFO queue.
    """
    devices = tuple(topology.devices)
    paths = [topology.path(d) for d in devices]
    if len({len(p) for p in paths}) != 1:
        raise ValueError("every device's path must have the same number of tiers")
    missing = sorted({n for p in paths for n in p} - set(flops))
    if missing:
        raise ValueError(f"flops must give the model FLOPs of nodes {missing}")
    counts = servers if isinstance(servers, Mapping) else {}
    default = 1 if isinstance(servers, Mapping) else servers
    capacity, uplinks = {}, {}
    for path in paths:
        for i, name in enumerate(path):
            node = topology.node(name)
            capacity[name] = NodeCapacity(counts.get(name, default), node.compute_gflops * 1e9)
            if i + 1 < len(path):
                link = topology.link(name, path[i + 1])
                uplinks[name] = LinkCapacity(
                    link.latency_ms / 1e3, link.bandwidth_mbps * 1e6 / 8, queued_links
                )
    nodes = np.array(paths)
    return LoadNetwork(
        devices,
        nodes,
        np.vectorize(lambda n: float(flops[n]), otypes=[float])(nodes),
        capacity,
        uplinks,
        request_bytes=topology.payload_bytes,
        answer_bytes=8.0,
    )


def scenario_network(
    scenario: Scenario, servers: int | Mapping[str, int] = 1, queued_links: bool = False
) -> LoadNetwork:
    """:func:`network_from_topology` for a ``Scenario``: each node serves its placed model."""
    model_flops = scenario.zoo.flops()
    flops = {
        node: model_flops[model]
        for device in scenario.topology.devices
        for node, model in scenario.placement.path_models(device)
    }
    return network_from_topology(scenario.topology, flops, servers, queued_links)


def visits_from_queried(queried: np.ndarray, requests: TimedRequests) -> np.ndarray:
    """Per-request visited tiers, bool ``(R, K)``, from a ``Decision``'s ``queried``.

    ``queried`` is bool ``(N, K)`` (per sample) or ``(D, N, K)`` (per device and sample).
    """
    q = np.asarray(queried)
    if q.dtype != bool or q.ndim not in (2, 3):
        raise ValueError(
            f"queried must be a bool array (N, K) or (D, N, K), got {q.dtype} {q.shape}"
        )
    if q.shape[-2] != requests.n_samples:
        raise ValueError(
            f"queried must cover the requests' {requests.n_samples} samples, got {q.shape[-2]}"
        )
    if q.ndim == 3:
        if q.shape[0] != len(requests.devices):
            raise ValueError(f"queried must have one row per device ({len(requests.devices)})")
        return q[requests.device, requests.sample]
    return q[requests.sample]


def fifo_departures(arrival_s: np.ndarray, service_s: np.ndarray, servers: int = 1) -> np.ndarray:
    """Departure times (s) ``(R,)`` of a FIFO queue with ``servers`` identical servers.

    Parameters
    ----------
    arrival_s : float ``(R,)``, non-decreasing arrival times (s).
    service_s : float ``(R,)``, service times (s), finite and >= 0.
    servers : int >= 1.
    """
    a = check_arrivals("arrival_s", arrival_s)
    s = np.asarray(service_s, dtype=float)
    if s.shape != a.shape:
        raise ValueError(f"service_s must have shape {a.shape}, got {s.shape}")
    if not np.isfinite(s).all() or (s < 0).any():
        raise ValueError("service_s must be finite and >= 0")
    check_positive_int("servers", servers)
    return _fifo(a, s, int(servers))[1]


def _fifo(a: np.ndarray, s: np.ndarray, servers: int) -> tuple[np.ndarray | None, np.ndarray]:
    """Unchecked FIFO queue: (service starts, or None for one server; departures), ``(R,)``."""
    if servers == 1:
        if s.strides == (0,) and len(s):  # constant service: C_n = (n + 1) s
            c = np.arange(1, len(s) + 1, dtype=float)
            c *= s[0]
        else:
            c = np.cumsum(s)
        d = a - c
        d += s
        np.maximum.accumulate(d, out=d)
        d += c
        return None, d
    if len(s) and (s.strides == (0,) or (s == s[0]).all()):
        return _fifo_constant_service(a, float(s[0]), servers)
    heap = [-math.inf] * servers
    starts, deps = [], []
    push = heapq.heapreplace
    for ai, si in zip(a.tolist(), s.tolist(), strict=True):
        free = heap[0]
        b = ai if ai > free else free
        d = b + si
        push(heap, d)
        starts.append(b)
        deps.append(d)
    return np.array(starts, dtype=float), np.array(deps, dtype=float)


def _fifo_constant_service(a: np.ndarray, s0: float, servers: int) -> tuple[np.ndarray, np.ndarray]:
    """``servers`` servers with one service time ``s0``: (service starts, departures).

    With equal service times the departures follow the starts' order, so the earliest
    free server at request ``n``'s arrival is the one request ``n - c`` left:
    ``B_n = max(A_n, B_{n-c} + s0)``. Every ``c``-th request thus forms its own
    single-server recursion, ``B = k s0 + maximum.accumulate(A - k s0)`` along each
    column of the arrivals laid out ``c`` per row (the last row padded with ``+inf``).
    """
    n = len(a)
    rows = -(-n // servers)
    grid = np.full(rows * servers, np.inf)
    grid[:n] = a
    grid = grid.reshape(rows, servers)  # column r: requests r, r + c, r + 2c, ...
    shift = np.arange(rows, dtype=float)[:, None] * s0
    starts = np.maximum.accumulate(grid - shift, axis=0)
    starts += shift
    starts = np.maximum(starts.ravel()[:n], a)  # B_n >= A_n also after rounding
    return starts, starts + s0


@dataclass(frozen=True)
class StationLoad:
    """The requests one station (a node, or a queued link) served, in its arrival order.

    Attributes
    ----------
    name : node name, or ``"lower->upper"`` for a link.
    kind : ``"node"`` or ``"link"``.
    tier : tier of the node (of the link's lower end).
    servers : number of servers.
    request : int ``(n,)``, index of each request in the stream.
    arrival_s, departure_s : float ``(n,)`` arrival and departure times (s).
    service_s : float ``(n,)`` service times (s).
    starts : float ``(n,)`` start of service (s) for several servers; ``None`` for one
        server, where :attr:`start_s` derives it (``max(A_n, D_{n-1})``).
    """

    name: str
    kind: str
    tier: int
    servers: int
    request: np.ndarray
    arrival_s: np.ndarray
    departure_s: np.ndarray
    service_s: np.ndarray
    starts: np.ndarray | None = None

    @cached_property
    def start_s(self) -> np.ndarray:
        """Start of service (s) ``(n,)``."""
        if self.starts is not None:
            return self.starts
        start = self.arrival_s.copy()
        np.maximum(start[1:], self.departure_s[:-1], out=start[1:])
        return start

    @property
    def wait_s(self) -> np.ndarray:
        """Time (s) each request waited before its service started (>= 0)."""
        return self.start_s - self.arrival_s

    def utilisation(self, horizon_s: float) -> float:
        """Fraction of the servers' time busy on ``[0, horizon_s]`` (work after it is cut)."""
        check_positive("horizon_s", horizon_s)
        busy = np.minimum(self.departure_s, horizon_s) - np.minimum(self.start_s, horizon_s)
        return float(busy.sum() / (self.servers * horizon_s))

    def queue_length(self, waiting_only: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """Number in the station as a step function: ``(times_s, n)`` with ``n[i]`` holding
        on ``[times_s[i], times_s[i + 1])``; ``waiting_only`` counts those not yet in service."""
        leave = self.start_s if waiting_only else self.departure_s
        times = np.concatenate([self.arrival_s, leave])
        step = np.concatenate([np.ones(len(leave), np.int64), -np.ones(len(leave), np.int64)])
        order = np.lexsort((step, times))  # at equal times, leaving before arriving
        return times[order], np.cumsum(step[order])


@dataclass(frozen=True)
class LoadResult:
    """Outcome of :func:`evaluate_load` (times in s); per-hop tables are built on demand.

    Attributes
    ----------
    arrival_s : ``(R,)`` arrival at the device.
    device : ``(R,)`` device index.
    deepest : ``(R,)`` deepest visited tier (the answering tier of a cascade).
    response_s : ``(R,)`` time from arrival to the answer's return to the device.
    stations : every node station that served a request, then every queued link.
    n_tiers : ``K``.
    """

    arrival_s: np.ndarray
    device: np.ndarray
    deepest: np.ndarray
    response_s: np.ndarray
    stations: tuple[StationLoad, ...]
    n_tiers: int

    def _table(self, kind: str, field_name: str, width: int) -> np.ndarray:
        out = np.full((len(self.arrival_s), width), np.nan)
        for st in self.stations:
            if st.kind == kind:
                out[st.request, st.tier] = getattr(st, field_name)
        return out

    @cached_property
    def service_s(self) -> np.ndarray:
        """Service time (s) ``(R, K)`` at each tier's node; NaN where not served."""
        return self._table("node", "service_s", self.n_tiers)

    @cached_property
    def node_wait_s(self) -> np.ndarray:
        """Wait (s) ``(R, K)`` at each tier's node before service; NaN where not served."""
        return self._table("node", "wait_s", self.n_tiers)

    @cached_property
    def done_s(self) -> np.ndarray:
        """Departure time (s) ``(R, K)`` from each tier's node; NaN where not served."""
        return self._table("node", "departure_s", self.n_tiers)

    @cached_property
    def link_wait_s(self) -> np.ndarray:
        """Wait (s) ``(R, K-1)`` for each uplink: 0 if it is not queued, NaN where unused."""
        out = self._table("link", "wait_s", self.n_tiers - 1)
        climbed = self.deepest[:, None] > np.arange(self.n_tiers - 1)[None, :]
        out[climbed & np.isnan(out)] = 0.0
        return out

    @property
    def device_response_s(self) -> np.ndarray:
        """Time (s) ``(R,)`` from arrival until the device's own answer was ready (its
        departure from the device); ``inf`` where the device's model was not run."""
        ready = self.done_s[:, 0] - self.arrival_s
        return np.where(np.isnan(ready), np.inf, ready)

    @property
    def wait_s(self) -> np.ndarray:
        """Total queueing delay (s) ``(R,)`` over nodes and links."""
        return np.nansum(self.node_wait_s, axis=1) + np.nansum(self.link_wait_s, axis=1)

    def station(self, name: str) -> StationLoad:
        """The station called ``name``."""
        for st in self.stations:
            if st.name == name:
                return st
        raise KeyError(f"no station {name!r}; stations are {[s.name for s in self.stations]}")

    def station_table(self, horizon_s: float | None = None) -> pd.DataFrame:
        """Per station: requests, utilisation on ``[0, horizon_s]`` (default: the last
        departure anywhere), mean and maximum wait (s), maximum number in the station."""
        if horizon_s is None:
            horizon_s = max((float(s.departure_s.max()) for s in self.stations), default=1.0)
        rows = []
        for st in self.stations:
            rows.append(
                {
                    "station": st.name,
                    "kind": st.kind,
                    "tier": st.tier,
                    "servers": st.servers,
                    "requests": len(st.request),
                    "utilisation": st.utilisation(horizon_s),
                    "mean_wait_s": float(st.wait_s.mean()),
                    "max_wait_s": float(st.wait_s.max()),
                    "max_in_station": int(st.queue_length()[1].max()),
                }
            )
        return pd.DataFrame(rows)


def evaluate_load(
    network: LoadNetwork,
    requests: TimedRequests,
    visits: np.ndarray,
    *,
    variability: str = "deterministic",
    sigma: float = 0.5,
    seed: int = 0,
) -> LoadResult:
    """Every request's exact path through the FIFO queues of the nodes (and queued links)
    it visits; see the module docstring for the model.

    Parameters
    ----------
    network : capacities along each device's path (``K`` tiers); its ``devices`` must be
        ``requests.devices``.
    requests : the timed, arrival-ordered stream (``R`` requests).
    visits : bool ``(R, K)``, the tiers whose node serves each request (at least one per
        request); e.g. :func:`visits_from_queried` of a ``Decision``'s ``queried``.
    variability : service times ``"deterministic"`` (FLOPs / speed), or ``"exponential"``
        or ``"lognormal"`` (log-sd ``sigma``) with that mean, drawn station by station
        from ``seed`` (the drawn times are in the result's ``service_s``).
    """
    visits = _check_load_inputs(network, requests, visits)
    check_choice("variability", variability, SERVICE_VARIABILITY)
    draw = _ServiceDraw(variability, check_non_negative("sigma", sigma), seed)
    k_tiers, dev = network.n_tiers, requests.device
    deepest = np.zeros(len(requests), dtype=np.uint8 if k_tiers < 256 else np.intp)
    for k in range(1, k_tiers):
        np.maximum(deepest, visits[:, k] * deepest.dtype.type(k), out=deepest)
    t = np.array(requests.arrival_s, dtype=float)
    mean_s, up, tx = network.service_s(), network.up_delay_s(), network.transmission_s()
    nodes, links = [], []
    for k in range(k_tiers):
        for sid, idx in _groups(network, dev, np.flatnonzero(visits[:, k]), k):
            name = network.names[sid]
            label = (name, "node", k, network.capacity[name].servers)
            mean = _per_request(mean_s[:, k], network.node_index[:, k] == sid, dev)
            nodes.append(_serve(label, idx, t, lambda i, m=mean: draw(m(i))))
        if k + 1 < k_tiers:
            moving = np.flatnonzero(deepest > k)
            for sid, idx in _groups(network, dev, moving, k):
                name = network.names[sid]
                if network.uplinks[name].queued:
                    label = (f"{name}->{network.nodes[dev[idx[0]], k + 1]}", "link", k, 1)
                    tx_s = _per_request(tx[:, k], network.node_index[:, k] == sid, dev)
                    links.append(_serve(label, idx, t, tx_s))
            t[moving] += up[0, k] if (up[:, k] == up[0, k]).all() else up[dev[moving], k]
    down = network.down_s()
    if (down == down[0]).all():
        t += down[0][deepest]
    else:
        t += down.ravel()[dev * k_tiers + deepest]
    response = np.subtract(t, requests.arrival_s, out=t)
    return LoadResult(requests.arrival_s, dev, deepest, response, tuple(nodes + links), k_tiers)


def _check_load_inputs(
    network: LoadNetwork, requests: TimedRequests, visits: np.ndarray
) -> np.ndarray:
    check_type("network", network, LoadNetwork)
    check_type("requests", requests, TimedRequests)
    if tuple(requests.devices) != tuple(network.devices):
        raise ValueError(
            f"requests devices {requests.devices} differ from network devices {network.devices}"
        )
    v = np.asarray(visits)
    if v.dtype != bool or v.shape != (len(requests), network.n_tiers):
        raise ValueError(
            f"visits must be a bool array of shape {(len(requests), network.n_tiers)}, "
            f"got {v.dtype} {v.shape}"
        )
    some = np.logical_or.reduce([v[:, k] for k in range(v.shape[1])]) if v.size else v
    if len(v) and not some.all():
        raise ValueError(f"visits: request {int(np.argmin(some))} visits no tier")
    return v


@dataclass
class _ServiceDraw:
    """Service-time variability around a mean: one seeded generator for the whole run."""

    variability: str
    sigma: float
    seed: int

    def __post_init__(self) -> None:
        self.rng = np.random.default_rng(self.seed)

    def __call__(self, mean: np.ndarray) -> np.ndarray:
        if self.variability == "deterministic":
            return mean
        if self.variability == "exponential":
            return mean * self.rng.exponential(1.0, size=len(mean))
        z = self.rng.standard_normal(len(mean))
        return mean * np.exp(self.sigma * z - self.sigma**2 / 2)


def _groups(
    network: LoadNetwork, dev: np.ndarray, idx: np.ndarray, k: int
) -> list[tuple[int, np.ndarray]]:
    """Split request indices ``idx`` by their node at tier ``k``, keeping their order."""
    if len(idx) == 0:
        return []
    ids = network.node_index[:, k]
    present = np.unique(ids)
    if len(present) == 1:
        return [(int(present[0]), idx)]
    small = ids.astype(np.int16 if len(network.names) < 2**15 else np.int64)
    everyone = len(idx) == len(dev)  # then idx is arange(R)
    station = small[dev] if everyone else small[dev[idx]]
    if len(present) <= 16:
        if everyone:
            return [(int(i), np.flatnonzero(station == i)) for i in present]
        return [(int(i), idx[np.flatnonzero(station == i)]) for i in present]
    order = np.argsort(station, kind="stable")
    counts = np.bincount(station, minlength=len(network.names))
    cuts = np.cumsum(counts)[:-1]
    parts = np.split(idx[order], cuts)
    return [(int(i), parts[i]) for i in np.flatnonzero(counts)]


def _per_request(
    by_device: np.ndarray, reaches: np.ndarray, dev: np.ndarray
) -> Callable[[np.ndarray], np.ndarray]:
    """Per-request values ``by_device[dev[idx]]`` at a station reached by the devices
    ``reaches`` (bool ``(D,)``); a constant fill when those devices share one value."""
    values = np.unique(by_device[reaches])
    if len(values) == 1:  # one value for all: a read-only broadcast view, no copy
        return lambda idx: np.broadcast_to(values[0], idx.shape)
    return lambda idx: by_device[dev[idx]]


def _serve(
    label: tuple[str, str, int, int],
    idx: np.ndarray,
    t: np.ndarray,
    service: Callable[[np.ndarray], np.ndarray],
) -> StationLoad:
    """Serve the requests ``idx``, arriving at times ``t[idx]``, in FIFO order at the station
    ``label`` = (name, kind, tier, servers); ``service(idx)`` gives their service times in
    that order. ``t[idx]`` becomes their departure times."""
    a = t[idx]
    if len(a) > 1 and (a[1:] < a[:-1]).any():
        order = np.argsort(a, kind="stable")  # ties keep the merged stream's order
        idx, a = idx[order], a[order]
    s = service(idx)
    starts, dep = _fifo(a, s, label[3])
    t[idx] = dep
    return StationLoad(*label, idx, a, dep, s, starts)
