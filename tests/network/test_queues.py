"""The queueing engine: request by request against SimPy, statistically against closed
forms, deadline metrics on hand-computed cases, and every bad-input error."""

from __future__ import annotations

import math

import numpy as np
import pytest
from reference_queues import simpy_network

from idn_core.delivery import Decision, evaluate
from idn_core.learning import OutputsTable
from idn_core.network import (
    BatchArrivals,
    LinkCapacity,
    LoadNetwork,
    NodeCapacity,
    Placement,
    PoissonArrivals,
    TimedRequests,
    anytime_answer,
    deadline_metrics,
    erlang_c,
    evaluate_load,
    fifo_departures,
    md1_wait_s,
    mm1_wait_s,
    mmc_wait_s,
    network_from_topology,
    path_latency,
    request_deadlines,
    simpy_fifo_departures,
    timed_requests,
    tree_topology,
    utilisation,
    visits_from_queried,
)

TOL = 1e-9  # seconds: departures equal to SimPy's up to float rounding
FLOPS = {"device": 1.5e5, "edge": 3e6, "cloud": 2e7}


def tree_network(servers=1, queued_links=False):
    topo = tree_topology(n_edges=2, devices_per_edge=2)
    flops = {n.name: FLOPS[n.tier] for n in topo.nodes}
    return topo, network_from_topology(topo, flops, servers, queued_links)


def cascade_visits(n: int, seed: int, shares=(0.5, 0.3, 0.2)) -> np.ndarray:
    """Prefix routes of a 3-tier cascade answering at tier 0, 1, 2 with ``shares``."""
    deepest = np.random.default_rng(seed).choice(3, size=n, p=shares)
    return np.arange(3)[None, :] <= deepest[:, None]


# ---------------------------------------------------------------- request by request
@pytest.mark.parametrize("servers", [1, 2, 4])
@pytest.mark.parametrize("seed", [0, 1])
def test_fifo_matches_simpy(servers, seed):
    rng = np.random.default_rng(seed)
    arrival = np.cumsum(rng.exponential(1.0, 3000))
    arrival[100:110] = arrival[100]  # a batch: simultaneous arrivals keep their order
    service = rng.exponential(0.9 * servers, 3000)
    ours = fifo_departures(arrival, service, servers)
    assert np.abs(ours - simpy_fifo_departures(arrival, service, servers)).max() <= TOL


def heap_departures(arrival: np.ndarray, service: np.ndarray, servers: int) -> np.ndarray:
    """Kiefer-Wolfowitz by brute force: each request takes the server free the earliest."""
    free, out = [-math.inf] * servers, []
    for a, s in zip(arrival.tolist(), service.tolist(), strict=True):
        k = min(range(servers), key=free.__getitem__)
        free[k] = max(a, free[k]) + s
        out.append(free[k])
    return np.array(out)


@pytest.mark.parametrize("servers", [2, 3, 4, 7])
@pytest.mark.parametrize("broadcast", [True, False])
def test_equal_service_times_match_the_heap_and_simpy(servers, broadcast):
    """The column-wise recursion for one service time (any count, bursts, ties, a tail
    shorter than a row) gives the departures of the earliest-free-server rule."""
    rng = np.random.default_rng(servers)
    n = 1000 + servers - 1  # the last row of the layout is partial
    arrival = np.cumsum(rng.exponential(0.2, n))
    arrival[50:80] = arrival[50]  # a burst larger than the servers
    service = np.broadcast_to(0.9 * servers * 0.2, n) if broadcast else np.full(n, 0.18 * servers)
    ours = fifo_departures(arrival, service, servers)
    assert np.abs(ours - heap_departures(arrival, np.asarray(service), servers)).max() <= TOL
    assert np.abs(ours - simpy_fifo_departures(arrival, service, servers)).max() <= TOL
    assert (ours - arrival >= np.asarray(service) - TOL).all()


@pytest.mark.parametrize(
    "servers, queued, variability",
    [
        (1, False, "deterministic"),
        (1, True, "exponential"),
        ({"edge-0": 2, "edge-1": 3, "cloud": 4}, True, "lognormal"),
        ({"device-0": 2, "edge-1": 2}, False, "exponential"),
    ],
)
def test_network_matches_simpy(servers, queued, variability):
    """Four devices merging at two edges and a cloud, optional link queues, mixed routes."""
    _, net = tree_network(servers, queued)
    if queued:  # slow links so that their queues matter
        slow = {n: LinkCapacity(u.propagation_s, 4e4, True) for n, u in net.uplinks.items()}
        net = LoadNetwork(net.devices, net.nodes, net.flops, net.capacity, slow)
    timed = timed_requests(
        [
            PoissonArrivals(250.0),
            BatchArrivals(60.0, 3.0),
            PoissonArrivals(200.0),
            PoissonArrivals(300.0),
        ],
        net.devices,
        10,
        6.0,
        seed=3,
    )
    visits = cascade_visits(len(timed), 4)
    visits[::7, 0] = False  # some requests skip the device's model (relayed only)
    visits[::7, 2] = True
    res = evaluate_load(net, timed, visits, variability=variability, seed=5)
    response, done = simpy_network(net, timed, visits, res.service_s)
    assert np.abs(res.response_s - response).max() <= TOL
    assert np.array_equal(np.isnan(res.done_s), np.isnan(done))
    assert np.nanmax(np.abs(res.done_s - done)) <= TOL
    assert (res.node_wait_s[visits] >= 0).all() and np.nanmax(res.node_wait_s) > 0
    if queued:
        assert np.nanmax(res.link_wait_s) > 0


def test_zero_load_equals_path_latency():
    """Requests far apart meet no queue: response = chapter 2's relayed latency."""
    topo, net = tree_network()
    models = {"device": "m0", "edge": "m1", "cloud": "m2"}
    placement = Placement(
        topo, {n.name: [models[n.tier]] for n in topo.nodes}, {"m0": 1.0, "m1": 2.0, "m2": 3.0}
    )
    lat = path_latency(topo, placement, {models[t]: f for t, f in FLOPS.items()})
    n = 400
    timed = TimedRequests(
        np.zeros(n, np.intp), np.arange(n, dtype=np.intp) % 4, net.devices, 1, np.arange(n) * 10.0
    )
    visits = np.random.default_rng(0).random((n, 3)) < 0.6
    visits[~visits.any(axis=1), 1] = True
    res = evaluate_load(net, timed, visits)
    expected = lat.latency_ms(visits, timed.device) / 1e3
    assert np.allclose(res.response_s, expected, rtol=0, atol=1e-12)
    assert np.nansum(res.node_wait_s) == 0 and res.wait_s.max() == 0


def test_timed_stream_is_a_request_stream_and_decisions_give_routes():
    topo, net = tree_network()
    timed = timed_requests(PoissonArrivals(50.0), net.devices, 3, 2.0, seed=0)
    queried = np.array([[True, False, False], [True, True, False], [True, True, True]])
    decision = Decision(queried, np.array([0, 1, 2]))
    table = OutputsTable(("a", "b", "c"), np.zeros((3, 3, 2)), np.zeros(3, dtype=int))
    models = {"device": "a", "edge": "b", "cloud": "c"}
    placement = Placement(
        topo, {n.name: [models[n.tier]] for n in topo.nodes}, {m: 1.0 for m in "abc"}
    )
    lat = path_latency(topo, placement, {models[t]: f for t, f in FLOPS.items()})
    out = evaluate(decision, table, timed, lat)  # a TimedRequests is accepted as a stream
    visits = visits_from_queried(decision.queried, timed)
    assert np.array_equal(visits, queried[timed.sample])
    per_device = np.broadcast_to(queried, (4, 3, 3))
    assert np.array_equal(visits_from_queried(per_device, timed), visits)
    res = evaluate_load(net, timed, visits)
    assert np.array_equal(res.deepest, out.answer_tier)
    assert (res.response_s >= out.latency_ms / 1e3 - 1e-12).all()


def test_station_records_utilisation_and_queue_length():
    _, net = tree_network()
    timed = timed_requests(PoissonArrivals(100.0), net.devices, 5, 200.0, seed=1)
    res = evaluate_load(net, timed, cascade_visits(len(timed), 2))
    table = res.station_table(horizon_s=200.0)
    dev0 = res.station("device-0")
    expected = 100.0 * net.service_s()[0, 0]  # offered load lambda * S of one device
    assert table.set_index("station").loc["device-0", "utilisation"] == pytest.approx(
        expected, rel=0.03
    )
    times, n_in = dev0.queue_length()
    assert n_in.min() >= 0 and n_in[-1] == 0 and len(times) == 2 * len(dev0.request)
    # Little's law on [0, last departure]: time-average number = arrival rate x sojourn
    area = np.sum(n_in[:-1] * np.diff(times))
    sojourn = dev0.departure_s - dev0.arrival_s
    assert area == pytest.approx(sojourn.sum(), rel=1e-9)
    assert dev0.queue_length(waiting_only=True)[1].max() <= n_in.max()
    with pytest.raises(KeyError, match="no station"):
        res.station("nowhere")


def test_overload_is_not_an_error_queues_grow():
    arrival = np.cumsum(np.random.default_rng(0).exponential(1.0, 20_000))
    dep = fifo_departures(arrival, np.full(20_000, 1.2))  # utilisation 1.2
    wait = dep - 1.2 - arrival
    assert wait[-1000:].mean() > 10 * wait[:1000].mean() > 0


# ---------------------------------------------------------------- closed forms
def replicated_wait(service, servers, rho, n=250_000, reps=8, warmup=0.05):
    """Mean wait and its standard error over ``reps`` independent seeded replications
    (each discards its first ``warmup`` share, started empty)."""
    means = []
    for rep in range(reps):
        rng = np.random.default_rng(100 + rep)
        arrival = np.cumsum(rng.exponential(1.0 / (rho * servers), n))  # mu = 1
        s = rng.exponential(1.0, n) if service == "exp" else np.ones(n)
        dep = fifo_departures(arrival, s, servers)
        start = int(warmup * n)
        means.append((dep - s - arrival)[start:].mean())
    means = np.array(means)
    return means.mean(), means.std(ddof=1) / math.sqrt(reps)


@pytest.mark.parametrize(
    "service, servers, rho, formula",
    [
        ("exp", 1, 0.5, lambda lam: mm1_wait_s(lam, 1.0)),
        ("exp", 1, 0.8, lambda lam: mm1_wait_s(lam, 1.0)),
        ("exp", 1, 0.9, lambda lam: mm1_wait_s(lam, 1.0)),
        ("det", 1, 0.8, lambda lam: md1_wait_s(lam, 1.0)),
        ("det", 1, 0.9, lambda lam: md1_wait_s(lam, 1.0)),
        ("exp", 4, 0.8, lambda lam: mmc_wait_s(lam, 1.0, 4)),
    ],
)
def test_mean_wait_matches_closed_form(service, servers, rho, formula):
    """Tolerance: 4 standard errors of 8 independent replications (2e6 requests in all),
    which a correct simulation exceeds with probability ~1e-4, plus 1 % for the start-up
    bias left after discarding a 5 % warm-up. Measured errors are well under 2 %."""
    n = 100_000 if servers > 1 else 250_000  # the multi-server heap loop is slower
    mean, se = replicated_wait(service, servers, rho, n=n)
    theory = formula(rho * servers)
    assert abs(mean - theory) <= 4 * se + 0.01 * theory, (mean, theory, se)


def test_closed_forms_hand_values_and_refusal():
    assert mm1_wait_s(0.5, 1.0) == pytest.approx(1.0)
    assert md1_wait_s(0.5, 1.0) == pytest.approx(0.5)
    assert erlang_c(1, 0.5) == pytest.approx(0.5)  # M/M/1: P(wait) = rho
    assert erlang_c(2, 1.0) == pytest.approx(1 / 3)  # textbook value for c=2, a=1
    assert mmc_wait_s(0.5, 1.0, 1) == pytest.approx(mm1_wait_s(0.5, 1.0))
    for call in (
        lambda: mm1_wait_s(1.0, 1.0),
        lambda: md1_wait_s(2.0, 1.0),
        lambda: mmc_wait_s(4.0, 1.0, 4),
        lambda: erlang_c(2, 2.5),
    ):
        with pytest.raises(ValueError, match=">= 1"):
            call()
    with pytest.raises(ValueError, match="servers"):
        utilisation(0.5, 1.0, 0)
    with pytest.raises(ValueError, match="arrival_rate_per_s"):
        mm1_wait_s(float("nan"), 1.0)


# ---------------------------------------------------------------- deadlines
def test_deadline_metrics_hand_computed():
    resp = np.array([0.05, 0.10, 0.20, 0.40])
    deadline = np.array([0.1, 0.1, 0.3, 0.3])
    correct = np.array([True, False, True, True])
    m = deadline_metrics(resp, deadline, correct)
    assert m["on_time_rate"] == 0.75  # 0.10 <= 0.10 counts as in time
    assert m["on_time_accuracy"] == 0.5  # requests 0 and 2
    assert m["accuracy"] == 0.75
    assert m["p50_s"] == pytest.approx(0.15)
    assert m["p95_s"] == pytest.approx(np.percentile(resp, 95))
    assert m["mean_s"] == pytest.approx(0.1875)
    assert "accuracy" not in deadline_metrics(resp, 0.2)


def test_anytime_answer_hand_computed():
    resp = np.array([0.05, 0.5, 0.5, 0.05])
    final = np.array([True, True, False, False])
    device = np.array([False, False, True, True])
    right, in_time = anytime_answer(resp, 0.1, final, device)
    assert right.tolist() == [True, False, True, False]  # late upstream -> device's answer
    assert in_time.all()
    right, in_time = anytime_answer(resp, 0.1, final, device, np.array([0.01, 0.2, 0.01, 0.01]))
    assert right.tolist() == [True, False, True, False] and in_time.tolist() == [
        True,
        False,
        True,
        True,
    ]


def test_request_deadlines_per_device_and_class():
    group = np.array([0, 1, 1, 2])
    assert request_deadlines([0.1, 0.2, 0.3], group).tolist() == [0.1, 0.2, 0.2, 0.3]
    assert request_deadlines({0: 0.1, 1: 0.5, 2: 1.0}, group).tolist() == [0.1, 0.5, 0.5, 1.0]
    assert request_deadlines(0.25, group).tolist() == [0.25] * 4
    for bad in (0.0, -1.0, float("nan"), [0.1, 0.0, 0.2]):
        with pytest.raises(ValueError, match="deadline_s"):
            request_deadlines(bad, group)
    with pytest.raises(ValueError, match="no deadline for groups"):
        request_deadlines({0: 0.1}, group)


# ---------------------------------------------------------------- bad input
def test_bad_input_names_the_argument():
    a, s = np.array([0.0, 1.0, 2.0]), np.ones(3)
    cases = [
        (lambda: fifo_departures(np.array([0.0, 2.0, 1.0]), s), "arrival_s must be sorted"),
        (lambda: fifo_departures(np.array([0.0, np.nan, 1.0]), s), "arrival_s must be finite"),
        (lambda: fifo_departures(np.array([-1.0, 0.0, 1.0]), s), "arrival_s must be >= 0"),
        (lambda: fifo_departures(a, -s), "service_s"),
        (lambda: fifo_departures(a, s[:2]), "service_s must have shape"),
        (lambda: fifo_departures(a, s, 0), "servers"),
        (lambda: NodeCapacity(0), "servers"),
        (lambda: NodeCapacity(1, 0.0), "speed_flops_per_s"),
        (lambda: NodeCapacity(1, -1e9), "speed_flops_per_s"),
        (lambda: LinkCapacity(-0.1), "propagation_s"),
        (lambda: LinkCapacity(0.1, 0.0), "bandwidth_bytes_per_s"),
        (lambda: LinkCapacity(0.1, float("nan")), "bandwidth_bytes_per_s"),
        (lambda: deadline_metrics(a, 0.0), "deadline_s"),
        (lambda: deadline_metrics(a, -1.0), "deadline_s"),
        (lambda: deadline_metrics(np.array([np.nan]), 1.0), "response_s"),
        (lambda: deadline_metrics(a, 1.0, np.ones(2, bool)), "correct"),
        (lambda: anytime_answer(a, 1.0, np.ones(3, bool), np.ones(3)), "correct_device"),
    ]
    for call, message in cases:
        with pytest.raises((ValueError, TypeError), match=message):
            call()
    with pytest.raises(TypeError, match="servers"):
        NodeCapacity(1.5)


def test_bad_network_and_routes():
    _, net = tree_network()
    timed = timed_requests(PoissonArrivals(10.0), net.devices, 4, 1.0, seed=0)
    ok = np.ones((len(timed), 3), bool)
    with pytest.raises(ValueError, match="visits must be a bool array"):
        evaluate_load(net, timed, ok[:, :2])
    none = ok.copy()
    none[1] = False
    with pytest.raises(ValueError, match="request 1 visits no tier"):
        evaluate_load(net, timed, none)
    with pytest.raises(ValueError, match="variability"):
        evaluate_load(net, timed, ok, variability="pareto")
    other = TimedRequests(timed.sample, timed.device, ("a", "b", "c", "d"), 4, timed.arrival_s)
    with pytest.raises(ValueError, match="devices"):
        evaluate_load(net, other, ok)
    caps = dict(net.capacity)
    del caps["cloud"]
    with pytest.raises(ValueError, match="capacity must give a NodeCapacity for node 'cloud'"):
        LoadNetwork(net.devices, net.nodes, net.flops, caps, net.uplinks)
    with pytest.raises(ValueError, match="uplinks"):
        LoadNetwork(net.devices, net.nodes, net.flops, net.capacity, {})
    with pytest.raises(ValueError, match="flops must be finite"):
        LoadNetwork(net.devices, net.nodes, -net.flops, net.capacity, net.uplinks)
    swapped = np.asarray(net.nodes).copy()
    swapped[0, [1, 2]] = swapped[0, [2, 1]]
    with pytest.raises(ValueError, match="appears at tiers"):
        LoadNetwork(net.devices, swapped, net.flops, net.capacity, net.uplinks)
    with pytest.raises(ValueError, match="queried must"):
        visits_from_queried(np.ones((3, 3), bool), timed)


def test_anytime_from_a_load_result():
    """The device's answer is ready when it leaves the device queue; none if not run."""
    _, net = tree_network()
    timed = timed_requests(PoissonArrivals(150.0), net.devices, 6, 5.0, seed=2)
    visits = cascade_visits(len(timed), 1)
    visits[::5, 0] = False
    visits[::5, 1] = True  # relayed by the device, answered at the edge
    res = evaluate_load(net, timed, visits)
    ready = res.device_response_s
    assert np.isinf(ready[~visits[:, 0]]).all()
    assert np.allclose(ready[visits[:, 0]], (res.done_s[:, 0] - timed.arrival_s)[visits[:, 0]])
    deadline = 0.03
    rng = np.random.default_rng(0)
    final, device = rng.random(len(timed)) < 0.9, rng.random(len(timed)) < 0.6
    right, in_time = anytime_answer(res.response_s, deadline, final, device, ready)
    late = res.response_s > deadline
    assert late.any() and (~late).any()
    assert np.array_equal(right[~late], final[~late])
    assert np.array_equal(right[late], (device & (ready <= deadline))[late])
    assert np.array_equal(in_time, ~late | (ready <= deadline))


def test_many_devices_match_simpy():
    """20 devices (more stations in a tier than the per-station masks handle: sorted split)."""
    topo = tree_topology(n_edges=5, devices_per_edge=4)
    net = network_from_topology(topo, {n.name: FLOPS[n.tier] for n in topo.nodes}, servers=1)
    timed = timed_requests(PoissonArrivals(120.0), net.devices, 5, 1.5, seed=9)
    visits = cascade_visits(len(timed), 3, shares=(0.3, 0.4, 0.3))
    res = evaluate_load(net, timed, visits, variability="exponential", seed=1)
    response, done = simpy_network(net, timed, visits, res.service_s)
    assert len(res.stations) == 26 and np.abs(res.response_s - response).max() <= TOL
    assert np.nanmax(np.abs(res.done_s - done)) <= TOL
