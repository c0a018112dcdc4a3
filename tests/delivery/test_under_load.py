"""Policies under load: the engine, SimPy, shedding's promise, and bad input."""

from __future__ import annotations

import numpy as np
import pytest
from reference_queues import simpy_network

from idn_core.delivery import (
    LoadOutcome,
    best_static_thresholds,
    cascade_decision,
    evaluate,
    evaluate_under_load,
    request_subset,
    routes_under_load,
)
from idn_core.learning import OutputsTable
from idn_core.network import (
    Placement,
    PoissonArrivals,
    evaluate_load,
    network_from_topology,
    path_latency,
    timed_requests,
    tree_topology,
    visits_from_queried,
)

FLOPS = {"device": 2e4, "edge": 1.2e6, "cloud": 4e6}


def small_world(n=60, seed=0):
    """A 2 x 2 tree, random 3-tier outputs on ``n`` samples, confidences and a network."""
    rng = np.random.default_rng(seed)
    topo = tree_topology(n_edges=2, devices_per_edge=2)
    net = network_from_topology(topo, {x.name: FLOPS[x.tier] for x in topo.nodes})
    labels = rng.integers(0, 4, n)
    logits = rng.normal(size=(3, n, 4))
    for k, boost in enumerate((1.0, 2.5, 4.0)):
        logits[k, np.arange(n), labels] += boost
    table = OutputsTable(("m0", "m1", "m2"), logits, labels)
    conf = table.probs().max(axis=2)
    return topo, net, table, (conf - 0.25) / 0.75


def stream(net, rate, n_samples, duration=2.0, seed=1):
    return timed_requests(PoissonArrivals(rate), net.devices, n_samples, duration, seed=seed)


def test_no_shedding_is_the_engine_and_the_evaluator():
    topo, net, table, conf = small_world()
    req = stream(net, 400.0, table.n_samples)
    dec = cascade_decision(conf[:2], [0.6, 0.5])

    out = evaluate_under_load(dec, table, net, req, 0.03)

    visits = visits_from_queried(dec.queried, req)
    res = evaluate_load(net, req, visits)
    assert np.array_equal(out.response_s, res.response_s)
    placement = Placement(
        topo,
        {x.name: [f"m{('device', 'edge', 'cloud').index(x.tier)}"] for x in topo.nodes},
        {"m0": 1.0, "m1": 1.0, "m2": 1.0},
    )
    flat = evaluate(
        dec, table, req, path_latency(topo, placement, {"m0": 2e4, "m1": 1.2e6, "m2": 4e6})
    )
    assert np.array_equal(out.correct, flat.correct)
    assert np.array_equal(out.answer_tier, flat.answer_tier)
    response, _ = simpy_network(net, req, visits, res.service_s)
    assert np.abs(out.response_s - response).max() <= 1e-9
    m = out.metrics()
    assert m["on_time_accuracy"] == pytest.approx(np.mean(out.correct & (out.response_s <= 0.03)))
    assert m["anytime_accuracy"] >= m["on_time_accuracy"]


def test_shedding_keeps_every_admitted_answer_in_time():
    _, net, table, conf = small_world()
    req = stream(net, 1500.0, table.n_samples)  # the edges are overloaded
    dec = cascade_decision(conf[:2], [0.9, 0.9])
    deadline = 0.03

    plain = evaluate_under_load(dec, table, net, req, deadline)
    shed = evaluate_under_load(dec, table, net, req, deadline, shed=True)

    assert plain.metrics()["on_time_rate"] < 0.9
    refused = shed.shed_tier >= 0
    assert refused.any()
    assert (shed.response_s[~refused] <= deadline + 1e-12).all()
    # a refused request answers with the tier below the refusing one
    assert (shed.answer_tier[refused] == shed.shed_tier[refused] - 1).all()
    assert shed.metrics()["on_time_accuracy"] > plain.metrics()["on_time_accuracy"]
    # with a deadline nobody can miss, shedding changes nothing
    loose = evaluate_under_load(dec, table, net, req, 1e6, shed=True)
    assert np.array_equal(
        loose.response_s, evaluate_under_load(dec, table, net, req, 1e6).response_s
    )


def test_refused_response_is_the_trip_to_the_refusing_node_and_back():
    _, net, table, conf = small_world()
    req = stream(net, 1500.0, table.n_samples)
    dec = cascade_decision(conf[:2], [0.9, 0.9])
    shed = evaluate_under_load(dec, table, net, req, 0.03, shed=True)
    refused = np.flatnonzero(shed.shed_tier == 1)
    done0 = shed.load.done_s[np.flatnonzero(shed.live)]  # live == all here (device visited)
    expect = (
        done0[refused, 0] + net.up_delay_s()[0, 0] + net.down_s()[0, 1] - req.arrival_s[refused]
    )
    assert np.allclose(shed.response_s[refused], expect)


def test_best_static_thresholds_is_the_grid_maximum():
    _, net, table, conf = small_world()
    req = stream(net, 900.0, table.n_samples)
    grids = [np.array([0.0, 0.5, 0.9, 1.0]), np.array([0.0, 1.0])]
    best, frame = best_static_thresholds(conf, table, net, req, 0.03, grids)
    assert len(frame) == 8
    again = evaluate_under_load(cascade_decision(conf[:2], best), table, net, req, 0.03)
    assert again.metrics()["on_time_accuracy"] == pytest.approx(frame.on_time_accuracy.max())


def test_bad_input_names_the_argument():
    _, net, table, conf = small_world()
    req = stream(net, 100.0, table.n_samples)
    dec = cascade_decision(conf[:2], [0.5, 0.5])
    with pytest.raises(ValueError, match="deadline_s"):
        evaluate_under_load(dec, table, net, req, -1.0)
    with pytest.raises(TypeError, match="decision"):
        evaluate_under_load("cascade", table, net, req, 0.1)
    with pytest.raises(TypeError, match="shed"):
        evaluate_under_load(dec, table, net, req, 0.1, shed="yes")
    with pytest.raises(ValueError, match="keep"):
        request_subset(req, np.ones(3, dtype=bool))
    visits = visits_from_queried(dec.queried, req)
    with pytest.raises(ValueError, match="answer_tier"):
        routes_under_load(table, net, req, visits, np.full(len(req), 7), 0.1)
    with pytest.raises(ValueError, match="grids"):
        best_static_thresholds(conf, table, net, req, 0.1, [np.array([0.5])])
    assert isinstance(evaluate_under_load(dec, table, net, req, 0.1), LoadOutcome)
