"""Tests of the vectorised evaluator against the plain per-request reference, and of exact sweeps."""

from __future__ import annotations

import tracemalloc
from collections import Counter
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from reference_delivery import (
    assert_same_outcomes,
    reference_cascade,
    reference_decision,
    reference_oracle,
    synthetic,
)

from idn_core.delivery import (
    Decision,
    Outcome,
    cascade_decision,
    cascade_grid,
    cascade_metrics,
    decision_metrics,
    evaluate,
    gap_bound,
    oracle_decision,
    pareto_front,
    request_weights,
    summarize,
    threshold_candidates,
    uniform_weights,
)
from idn_core.network import (
    PathLatency,
    Placement,
    RequestStream,
    make_requests,
    path_latency,
    path_topology,
    select_tiers,
)


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    n_tiers=st.integers(2, 4),
    thresholds=st.lists(
        st.sampled_from([0.0, 0.1, 0.3, 0.5, 0.7, 0.9, 1.0]), min_size=3, max_size=3
    ),
)
def test_cascade_outcomes_identical_to_per_request_reference(seed, n_tiers, thresholds):
    table, lat, conf = synthetic(seed, n_tiers)
    t = np.array(thresholds[: n_tiers - 1])
    requests = make_requests(500, table.n_samples, lat.devices, seed=seed)

    out = evaluate(cascade_decision(conf, t), table, requests, lat)
    ref = reference_cascade(
        conf,
        t,
        table.predictions(),
        table.labels,
        requests.sample,
        requests.device,
        lat.rtt_ms,
        lat.compute_ms,
    )

    assert_same_outcomes(out, ref)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), n_tiers=st.integers(2, 4), skip=st.booleans())
def test_oracle_outcomes_identical_to_per_request_reference(seed, n_tiers, skip):
    table, lat, _ = synthetic(seed, n_tiers)
    requests = make_requests(400, table.n_samples, lat.devices, seed=seed + 1)

    out = evaluate(oracle_decision(table.correct(), skip=skip), table, requests, lat)
    ref = reference_oracle(
        table.correct(),
        table.predictions(),
        table.labels,
        requests.sample,
        requests.device,
        lat.rtt_ms,
        lat.compute_ms,
        skip,
    )

    assert_same_outcomes(out, ref)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), parallel=st.booleans())
def test_per_device_arbitrary_decisions_identical_to_reference(seed, parallel):
    table, lat, _ = synthetic(seed, 3)
    rng = np.random.default_rng(seed)
    n_dev, n = len(lat.devices), table.n_samples
    queried = rng.random((n_dev, n, 3)) < 0.5
    answer = rng.integers(0, 3, (n_dev, n))
    queried[np.arange(n_dev)[:, None], np.arange(n)[None, :], answer] = True
    requests = make_requests(300, n, lat.devices, seed=seed)

    out = evaluate(Decision(queried, answer), table, requests, lat, parallel=parallel)
    ref = reference_decision(
        queried,
        answer,
        table.predictions(),
        table.labels,
        requests.sample,
        requests.device,
        lat.rtt_ms,
        lat.compute_ms,
        parallel,
    )

    assert_same_outcomes(out, ref)


def test_grid_sweep_equals_aggregates_of_per_request_evaluation():
    table, lat, conf = synthetic(3, 3, n_samples=80)
    requests = make_requests(3000, table.n_samples, lat.devices, seed=7)
    weights = request_weights(requests, lat)
    grids = [threshold_candidates(conf[0], 6), threshold_candidates(conf[1], 5)]

    grid = cascade_grid(conf[:2], table.correct(), weights, grids)

    for i, t0 in enumerate(grids[0]):
        for j, t1 in enumerate(grids[1]):
            row = summarize(evaluate(cascade_decision(conf, [t0, t1]), table, requests, lat))
            assert grid.accuracy[i, j] == pytest.approx(row["accuracy"], abs=1e-12)
            assert grid.latency_ms[i, j] == pytest.approx(row["latency_ms"], rel=1e-12)
            assert grid.forwarded[i, j] == pytest.approx(row["forwarded"], abs=1e-12)
            assert grid.models_queried[i, j] == pytest.approx(row["models_queried"], rel=1e-12)
    pts = cascade_metrics(conf, table.correct(), weights, grid.at((2, 3)))
    assert pts.accuracy.iloc[0] == pytest.approx(grid.accuracy[2, 3])


def test_decision_metrics_match_evaluator():
    table, lat, _ = synthetic(5, 3)
    requests = make_requests(2000, table.n_samples, lat.devices, seed=1)
    dec = oracle_decision(table.correct())

    exact = decision_metrics(
        dec.queried,
        table.correct()[dec.answer_tier, np.arange(table.n_samples)],
        request_weights(requests, lat),
    )
    row = summarize(evaluate(dec, table, requests, lat))

    assert exact["accuracy"] == pytest.approx(row["accuracy"])
    assert exact["latency_ms"] == pytest.approx(row["latency_ms"])
    assert exact["models_queried"] == pytest.approx(row["models_queried"])


def test_latency_from_a_real_topology_is_round_trip_plus_compute_of_queried_models():
    topo = path_topology()
    placement = Placement(
        topo,
        {"device-0": ["a"], "edge-0": ["b"], "cloud": ["c"]},
        {"a": 1.0, "b": 10.0, "c": 100.0},
    )
    flops = {"a": 1000, "b": 50_000, "c": 1_000_000}

    lat = path_latency(topo, placement, flops)

    full = lat.pattern_table()[0, 0b111]
    expected = topo.rtt_ms("device-0", "cloud") + sum(
        topo.node(n).compute_ms(flops[m]) for n, m in placement.path_models("device-0")
    )
    assert full == pytest.approx(expected)
    assert lat.pattern_table()[0, 0b100] == pytest.approx(
        topo.serving_latency_ms("device-0", "cloud", flops["c"])
    )


def test_summary_loads_add_up_to_models_queried():
    table, lat, conf = synthetic(11, 3)
    requests = make_requests(1000, table.n_samples, lat.devices, seed=2)

    out = evaluate(cascade_decision(conf, [0.5, 0.5]), table, requests, lat)
    row = summarize(out, "c")

    loads = sum(v for k, v in row.items() if k.startswith("load:"))
    assert loads == pytest.approx(row["models_queried"])
    assert row["policy"] == "c"


def test_summary_p95_is_the_interpolated_order_statistic():
    table, lat, conf = synthetic(11, 3)
    requests = make_requests(1000, table.n_samples, lat.devices, seed=2)
    # Low thresholds: most requests stay on the device, a few go far, so the 95th
    # percentile differs from the mean and from the maximum.
    out = evaluate(cascade_decision(conf, [0.1, 0.1]), table, requests, lat)

    p95 = summarize(out)["p95_ms"]

    x = np.sort(out.latency_ms)
    h = 0.95 * (len(x) - 1)
    lo = int(np.floor(h))
    expected = x[lo] + (h - lo) * (x[lo + 1] - x[lo])
    assert p95 == pytest.approx(expected)
    assert x.mean() != pytest.approx(p95) and x[-1] > p95


def test_requests_are_seeded_and_follow_device_shares():
    a = make_requests(20_000, 50, ("x", "y"), seed=3, device_shares=[0.8, 0.2])
    b = make_requests(20_000, 50, ("x", "y"), seed=3, device_shares=[0.8, 0.2])

    np.testing.assert_array_equal(a.sample, b.sample)
    assert (a.device == 0).mean() == pytest.approx(0.8, abs=0.02)
    assert a.counts().sum() == 20_000


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"n_requests": 0}, "n_requests"),
        ({"device_shares": [0.5, 0.6]}, "device_shares"),
        ({"devices": ()}, "at least one device"),
    ],
)
def test_bad_request_streams_are_rejected(kwargs, match):
    args = {"n_requests": 10, "n_samples": 5, "devices": ("x", "y"), **kwargs}
    with pytest.raises((ValueError, TypeError), match=match):
        make_requests(**args)


def test_bad_decisions_and_mismatched_inputs_are_rejected():
    table, lat, conf = synthetic(1, 3)
    requests = make_requests(10, table.n_samples, lat.devices)
    with pytest.raises(ValueError, match="bool"):
        Decision(np.ones((4, 3)), np.zeros(4, int))
    with pytest.raises(ValueError, match="among the queried"):
        Decision(np.array([[True, False, False]]), np.array([2]))
    with pytest.raises(ValueError, match="answer_tier must have shape"):
        Decision(np.ones((4, 3), bool), np.zeros(5, int))
    with pytest.raises(ValueError, match="same number of tiers"):
        evaluate(cascade_decision(conf[:1], [0.5]), table, requests, lat)
    short = make_requests(10, table.n_samples - 1, lat.devices)
    with pytest.raises(ValueError, match="cover the table"):
        evaluate(cascade_decision(conf, [0.5, 0.5]), table, short, lat)
    with pytest.raises(ValueError, match="rtt_ms must be finite"):
        PathLatency(lat.devices, lat.nodes, lat.tiers, lat.rtt_ms * np.nan, lat.compute_ms)


def test_pareto_front_keeps_only_non_dominated_points():
    frame = pd.DataFrame({"latency_ms": [1, 2, 2, 3, 4], "accuracy": [0.5, 0.4, 0.7, 0.6, 0.8]})

    front = pareto_front(frame)

    assert front.latency_ms.tolist() == [1, 2, 4]
    assert front.accuracy.tolist() == [0.5, 0.7, 0.8]


def test_select_tiers_keeps_the_round_trip_of_skipped_links():
    _, lat, _ = synthetic(4, 3)

    sub = select_tiers(lat, (0, 2))

    assert sub.tiers == ("t0", "t2")
    assert sub.pattern_table()[0, 0b10] == lat.pattern_table()[0, 0b100]
    with pytest.raises(ValueError, match="increasing"):
        select_tiers(lat, (2, 0))


def test_gap_bound_matches_paired_difference_statistics():
    table, lat, _ = synthetic(4, 3, n_samples=400)
    w = uniform_weights(table.n_samples, lat)
    a, b = table.correct()[1], table.correct()[2]

    gap, lcb = gap_bound(a, b, w, z=2.0)

    d = a.astype(float) - b
    assert gap == pytest.approx(d.mean())
    assert lcb == pytest.approx(d.mean() - 2.0 * d.std() / np.sqrt(len(d)))


def test_per_device_decision_needs_one_row_per_device():
    table, lat, _ = synthetic(2, 3)
    requests = make_requests(10, table.n_samples, lat.devices)
    queried = np.ones((len(lat.devices) + 1, table.n_samples, 3), dtype=bool)
    answer = np.zeros((len(lat.devices) + 1, table.n_samples), dtype=int)

    with pytest.raises(ValueError, match="one row per device"):
        evaluate(Decision(queried, answer), table, requests, lat)


def reference_summary(out: Outcome, name: str) -> dict:
    """``summarize`` written request by request: loads counted by node name."""
    loads: Counter[str] = Counter()
    for d, p in zip(out.device.tolist(), out.pattern.tolist(), strict=True):
        for k in range(out.n_tiers):
            if (p >> k) & 1:
                loads[str(out.nodes[d, k])] += 1
    n = len(out.device)
    row = {
        "policy": name,
        "accuracy": float(np.mean(out.correct)),
        "latency_ms": float(np.mean(out.latency_ms)),
        "p95_ms": float(np.percentile(out.latency_ms, 95)),
        "forwarded": float(np.mean(out.answer_tier > 0)),
        "models_queried": float(np.mean([bin(p).count("1") for p in out.pattern.tolist()])),
    }
    row.update({f"load:{node}": loads[node] / n for node in sorted(loads)})
    return row


@settings(max_examples=30, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    n_tiers=st.integers(2, 4),
    shared=st.booleans(),
    oracle=st.booleans(),
)
def test_summarize_equals_per_request_reference(seed, n_tiers, shared, oracle):
    table, lat, conf = synthetic(seed, n_tiers, n_devices=4)
    requests = make_requests(700, table.n_samples, lat.devices, seed=seed)
    rng = np.random.default_rng(seed)
    if oracle:
        decision = oracle_decision(table.correct(), skip=bool(seed % 2))
    else:
        decision = cascade_decision(conf, rng.uniform(0.2, 1.0, n_tiers - 1))
    out = evaluate(decision, table, requests, lat)
    if shared:  # devices 0-1 and 2-3 share every node above the device (a tree)
        out = replace(
            out,
            nodes=np.array(
                [[f"n{k}-{d // 2 if k else d}" for k in range(n_tiers)] for d in range(4)]
            ),
        )

    row = summarize(out, "p")

    ref = reference_summary(out, "p")
    assert list(row) == list(ref)  # same keys in the same (sorted node) order
    assert row == ref  # bit-identical values


def test_summarize_memory_does_not_grow_with_node_names():
    table, lat, conf = synthetic(5, 3)
    out = evaluate(
        cascade_decision(conf, [0.6, 0.6]),
        table,
        make_requests(1_000_000, table.n_samples, lat.devices, seed=1),
        lat,
    )
    out = replace(out, nodes=np.char.add(out.nodes, "-a-long-node-name"))

    tracemalloc.start()
    try:
        summarize(out)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()

    # the outcome holds about 29 bytes per request; a per-request array of node names
    # took over 200 (issue 15); the percentile's sorted copy of the latencies takes 8
    assert peak < 20 * len(out.device), f"summarize peaked at {peak / 1e6:.0f} MB"


def test_summarize_rejects_bad_input():
    with pytest.raises(TypeError, match="outcome"):
        summarize({"accuracy": 1.0})
    table, lat, conf = synthetic(1, 2)
    out = evaluate(
        cascade_decision(conf, [0.5]), table, make_requests(10, table.n_samples, lat.devices), lat
    )
    with pytest.raises(TypeError, match="name"):
        summarize(out, 3)


@pytest.mark.parametrize(
    ("sample", "device", "error", "match"),
    [
        ([-1, 0], [0, 0], ValueError, r"sample must lie in \[0, 5\)"),
        ([0, 5], [0, 0], ValueError, r"sample must lie in \[0, 5\)"),
        ([0, 1], [0, 2], ValueError, r"device must lie in \[0, 2\)"),
        ([0, 1], [-1, 0], ValueError, "device must lie"),
        ([0.0, 1.0], [0, 0], TypeError, "sample must hold integers"),
        ([0, 1], [0], ValueError, "one entry per request"),
        ([], [], ValueError, "at least one request"),
    ],
)
def test_request_stream_rejects_indices_that_would_wrap_or_overflow(sample, device, error, match):
    # A negative sample index used to wrap to the end of the table (accuracy 1.0 on a
    # table whose last sample every model gets right).
    with pytest.raises(error, match=match):
        RequestStream(np.array(sample), np.array(device), ("x", "y"), 5)


def test_make_requests_refuses_a_lone_string_of_devices():
    # "device-0" used to become eight one-letter devices.
    with pytest.raises(TypeError, match="devices must be a sequence of device names"):
        make_requests(10, 50, "device-0")
    with pytest.raises(ValueError, match="devices must be unique"):
        make_requests(10, 50, ("a", "a"))
    with pytest.raises(ValueError, match="device_shares"):
        make_requests(10, 50, ("a", "b"), device_shares=[np.nan, 1.0])


@pytest.mark.parametrize(("seed", "error"), [(-1, ValueError), ("1", TypeError), (2.0, TypeError)])
def test_make_requests_names_a_bad_seed(seed, error):
    with pytest.raises(error, match="seed"):
        make_requests(10, 50, ("a",), seed=seed)


def test_decision_requires_integer_answer_tiers_and_predictions():
    queried = np.ones((2, 3), bool)
    # A float answer_tier used to fail later with an IndexError that named nothing.
    with pytest.raises(TypeError, match="answer_tier must be an integer array"):
        Decision(queried, np.array([0.0, 2.0]))
    with pytest.raises(TypeError, match="prediction must be an integer array"):
        Decision(queried, np.array([0, 2]), prediction=np.array([1.5, 0.0]))
