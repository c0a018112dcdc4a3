"""A standing guard at the public boundary: garbage in gives a named error, never a result.

Property-based tests feed NaN, infinity, negative, empty, wrong-type and wrong-shape values
into the main public functions of each area (data partitioning, topology, requests and
evaluation, policies, the outputs table, placement, ensemble rules, federated and
early-exit maths). Each call must either raise ``ValueError``/``TypeError`` (or
``KeyError`` for an unknown name) whose message names the argument, or return a result
that passes the function's documented contract. Small ``max_examples`` keep the file fast.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from idn_core.delivery import (
    Decision,
    GainAwareForwarding,
    cascade_decision,
    evaluate,
    forward_to,
    oracle_decision,
)
from idn_core.ensembles import (
    combine,
    hard_vote,
    log_vote,
    query_on_doubt_decision,
    running_combination,
    soft_vote,
    vote_weights,
)
from idn_core.federated import weighted_average
from idn_core.federated.early_exit import (
    EarlyExitConfig,
    aggregate_exit_updates,
    check_serving_split,
    exit_data_shares,
    lambda_tilde,
    variance_weights,
)
from idn_core.learning import (
    OutputsTable,
    load_dataset,
    partition_by_shares,
    partition_dirichlet,
    partition_iid,
    partition_quantity,
)
from idn_core.network import (
    Link,
    Node,
    PathLatency,
    Placement,
    RequestStream,
    make_requests,
    path_topology,
    tree_topology,
)
from idn_core.placement import CatalogueModel, build_instance, gain

FAST = settings(max_examples=25, deadline=None)

#: Scalars a careless caller might pass where a count, size, rate or seed is expected.
BAD_SCALARS = st.one_of(
    st.just(math.nan),
    st.just(math.inf),
    st.just(-math.inf),
    st.floats(-1e6, -1e-9),
    st.integers(-1000, -1),
    st.just(0),
    st.just(0.0),
    st.floats(0.1, 50.0).filter(lambda v: not float(v).is_integer()),
    st.none(),
    st.text(max_size=3),
    st.booleans(),
    st.just([]),
    st.just([1.0, 2.0]),
)
#: Scalars that might be fine: small positive ints and floats.
MAYBE_GOOD = st.one_of(st.integers(1, 40), st.floats(0.01, 40.0))
SCALARS = st.one_of(BAD_SCALARS, MAYBE_GOOD)
#: Float entries of arrays, garbage included.
ENTRIES = st.one_of(
    st.floats(-2.0, 2.0), st.just(math.nan), st.just(math.inf), st.just(-math.inf), st.just(0.0)
)


def outcome(call: Callable[[], Any], names: Iterable[str]) -> Any:
    """Run ``call``; a ``ValueError``/``TypeError``/``KeyError`` must name one of ``names``.

    Returns the result, or ``None`` when the call raised a properly named error. Any other
    exception (``IndexError``, ``ZeroDivisionError``, NumPy's own messages) fails the test.
    """
    try:
        return call()
    except (ValueError, TypeError, KeyError) as err:
        message = str(err)
        assert any(n in message for n in names), (
            f"{type(err).__name__} does not name any of {list(names)}: {message}"
        )
        return None


def assert_partition(parts: list[np.ndarray], n_samples: int) -> None:
    """A valid partition: non-empty parts that cover ``range(n_samples)`` exactly once."""
    assert all(len(p) > 0 for p in parts)
    assert sorted(np.concatenate(parts).tolist()) == list(range(n_samples))


# ----------------------------------------------------------------------------- seeds

SEEDED: dict[str, Callable[[Any], Any]] = {
    "partition_iid": lambda s: partition_iid(100, 2, seed=s),
    "partition_by_shares": lambda s: partition_by_shares(100, [0.5, 0.5], seed=s),
    "partition_quantity": lambda s: partition_quantity(100, 2, 1.0, seed=s),
    "partition_dirichlet": lambda s: partition_dirichlet(np.arange(60) % 3, 2, 1.0, seed=s),
    "load_dataset": lambda s: load_dataset("digits", seed=s),
    "make_requests": lambda s: make_requests(10, 5, ("d",), seed=s),
}


def _lazy(module: str, name: str, *args: Any, **kwargs: Any) -> Callable[[Any], Any]:
    """A call of ``module.name(*args, seed=s, **kwargs)`` imported on use."""

    def call(seed: Any) -> Any:
        import importlib

        return getattr(importlib.import_module(module), name)(*args, seed=seed, **kwargs)

    return call


# Functions whose first statement checks the seed: placeholder arguments never get used.
SEEDED.update(
    {
        "load_scenario": _lazy("idn_core.network.scenario", "load_scenario"),
        "build_zoo": _lazy("idn_core.learning.zoo", "build_zoo", None),
        "train_model": _lazy("idn_core.learning.training", "train_model", None, None),
        "fit": _lazy("idn_core.learning.training", "fit", None, None, None, None),
        "bootstrap_indices": _lazy("idn_core.ensembles.bagging", "bootstrap_indices", 10, 2),
        "assign_devices": _lazy(
            "idn_core.federated.early_exit.serving", "assign_devices", 10, ("d",)
        ),
        "sample_loads": _lazy("idn_core.placement.demand", "sample_loads", np.ones(2)),
        "client_seed": lambda s: __import__("idn_core.federated").federated.client_seed(s, 0, 0),
        "evaluate_serving": _lazy(
            "idn_core.federated.early_exit.training", "evaluate_serving", None, None, None
        ),
        "Stacking": _lazy("idn_core.ensembles", "Stacking"),
        "LearnedForwarding": _lazy("idn_core.delivery.policies", "LearnedForwarding"),
        "signals_figure": _lazy("idn_core.views.scenario", "signals_figure", None),
        "infida_policy": _lazy("idn_core.placement.experiments", "infida_policy", None, 1, 1.0),
        "compare_policies": _lazy("idn_core.placement.experiments", "compare_policies", None, None),
    }
)


@pytest.mark.parametrize("name", sorted(SEEDED))
@pytest.mark.parametrize(
    ("seed", "error"),
    [(-1, ValueError), ("0", TypeError), (1.0, TypeError), (True, TypeError), (None, TypeError)],
)
def test_every_seeded_function_names_a_bad_seed(name, seed, error):
    # NumPy's own message ("expected non-negative integer") never says which argument.
    with pytest.raises(error, match="seed"):
        SEEDED[name](seed)


# ----------------------------------------------------------------------------- data


@FAST
@given(n=SCALARS, parts=SCALARS)
def test_partition_iid_counts(n, parts):
    result = outcome(lambda: partition_iid(n, parts), ["n_samples", "n_parts", "partition"])
    if result is not None:
        assert_partition(result, n)


@FAST
@given(n=st.integers(1, 200), shares=st.lists(ENTRIES, min_size=0, max_size=4))
def test_partition_by_shares_garbage(n, shares):
    result = outcome(lambda: partition_by_shares(n, shares), ["shares"])
    if result is not None:
        assert_partition(result, n)
        assert len(result) == len(shares)


@FAST
@given(n=SCALARS, parts=SCALARS, conc=SCALARS, min_size=SCALARS)
def test_partition_quantity_garbage(n, parts, conc, min_size):
    names = ["n_samples", "n_parts", "concentration", "min_size", "partition"]
    result = outcome(lambda: partition_quantity(n, parts, conc, min_size=min_size), names)
    if result is not None:
        assert_partition(result, n)
        assert min(len(p) for p in result) >= min_size


@FAST
@given(
    labels=st.one_of(
        st.lists(st.integers(0, 3), max_size=30).map(np.array),
        st.just(np.zeros((2, 3))),
        st.just(np.array([])),
    ),
    parts=SCALARS,
    alpha=SCALARS,
)
def test_partition_dirichlet_garbage(labels, parts, alpha):
    names = ["labels", "n_parts", "alpha", "partition", "could not give"]
    result = outcome(lambda: partition_dirichlet(labels, parts, alpha), names)
    if result is not None:
        assert_partition(result, len(labels))


# ----------------------------------------------------------------------------- topology


@FAST
@given(memory=SCALARS, speed=SCALARS)
def test_node_capabilities(memory, speed):
    node = outcome(lambda: Node("n", "edge", memory, speed), ["memory_kb", "compute_gflops"])
    if node is not None:
        assert node.memory_kb > 0 and node.compute_gflops > 0
        assert math.isfinite(node.memory_kb) and math.isfinite(node.compute_gflops)


@FAST
@given(latency=SCALARS, bandwidth=SCALARS)
def test_link_delays(latency, bandwidth):
    link = outcome(lambda: Link("a", "b", latency, bandwidth), ["latency_ms", "bandwidth_mbps"])
    if link is not None:
        assert link.transfer_ms(160.0) >= link.latency_ms >= 0


@FAST
@given(
    n_edges=SCALARS,
    per_edge=SCALARS,
    n_regional=st.one_of(SCALARS, st.integers(0, 3)),
    latencies=st.dictionaries(
        st.sampled_from(["device", "edge", "regional", "cloud", "egde", ""]), SCALARS, max_size=3
    ),
)
def test_tree_topology_garbage(n_edges, per_edge, n_regional, latencies):
    names = ["n_edges", "devices_per_edge", "n_regional", "latencies_ms"]
    topo = outcome(lambda: tree_topology(n_edges, per_edge, n_regional, latencies), names)
    if topo is not None:
        assert len(topo.devices) == n_edges * per_edge
        for tier, value in latencies.items():  # every given latency is used, none ignored
            node = next(n.name for n in topo.nodes if n.tier == tier)
            assert any(link.latency_ms == value for link in topo.links if node in (link.a, link.b))


@FAST
@given(
    tiers=st.one_of(
        st.lists(st.sampled_from(["device", "edge", "regional", "cloud", "fog"]), max_size=4),
        st.text(max_size=5),
    ),
    latencies=st.one_of(st.none(), st.lists(ENTRIES, max_size=4)),
)
def test_path_topology_garbage(tiers, latencies):
    names = ["tier", "latenc", "node name", "cloud"]
    topo = outcome(
        lambda: path_topology(tuple(tiers) if isinstance(tiers, list) else tiers, latencies),
        names,
    )
    if topo is not None:
        assert [n.tier for n in topo.nodes] == sorted(
            tiers, key=("device", "edge", "regional", "cloud").index
        )


# ----------------------------------------------------------------------------- requests


@FAST
@given(
    n_requests=SCALARS,
    n_samples=SCALARS,
    devices=st.one_of(
        st.text(max_size=8),
        st.lists(st.sampled_from(["a", "b", "c", 3, None]), max_size=3),
    ),
)
def test_make_requests_garbage(n_requests, n_samples, devices):
    names = ["n_requests", "n_samples", "devices", "device"]
    req = outcome(lambda: make_requests(n_requests, n_samples, devices), names)
    if req is not None:
        assert len(req) == n_requests and req.devices == tuple(devices)
        assert req.sample.min() >= 0 and req.sample.max() < n_samples


@FAST
@given(
    sample=st.lists(st.one_of(st.integers(-3, 8), st.floats(-1, 8)), max_size=6),
    n_samples=SCALARS,
)
def test_request_stream_indices(sample, n_samples):
    arr = np.array(sample)
    device = np.zeros(len(sample), dtype=np.intp)
    req = outcome(lambda: RequestStream(arr, device, ("d",), n_samples), ["sample", "n_samples"])
    if req is not None:
        assert req.sample.min() >= 0 and req.sample.max() < n_samples


@FAST
@given(
    answer=st.lists(st.one_of(st.integers(-2, 4), st.floats(-1, 4)), min_size=3, max_size=3),
    prediction=st.one_of(st.none(), st.lists(st.floats(-1, 3), min_size=3, max_size=3)),
)
def test_decision_garbage(answer, prediction):
    queried = np.ones((3, 3), dtype=bool)
    pred = None if prediction is None else np.array(prediction)
    d = outcome(lambda: Decision(queried, np.array(answer), pred), ["answer_tier", "prediction"])
    if d is not None:
        assert np.issubdtype(np.asarray(d.answer_tier).dtype, np.integer)


@FAST
@given(
    conf=st.lists(ENTRIES, min_size=4, max_size=4),
    thresholds=st.lists(ENTRIES, min_size=0, max_size=3),
)
def test_cascade_decision_garbage(conf, thresholds):
    c = np.array(conf).reshape(2, 2)
    d = outcome(lambda: cascade_decision(c, thresholds), ["conf", "thresholds"])
    if d is not None:
        used, t = c[: len(thresholds)], np.array(thresholds)
        assert len(thresholds) in (1, 2)  # conf holds the hops' rows, or every tier's
        assert np.isfinite(used).all() and ((used >= 0) & (used <= 1)).all()
        assert np.isfinite(t).all() and ((t >= 0) & (t <= 1)).all()


@FAST
@given(tier=SCALARS, n=SCALARS, k=SCALARS)
def test_forward_to_garbage(tier, n, k):
    d = outcome(lambda: forward_to(tier, n, k), ["tier", "n_samples", "n_tiers"])
    if d is not None:
        assert (np.asarray(d.answer_tier) == tier).all() and d.queried.shape == (n, k)


@FAST
@given(correct=st.one_of(st.just(np.zeros(3)), st.just(np.zeros((0, 4))), st.just([[1, 0]])))
def test_oracle_decision_shapes(correct):
    d = outcome(lambda: oracle_decision(correct), ["correct"])
    if d is not None:
        assert d.queried.shape[1] == np.shape(correct)[0]


def _tiny_evaluation(n_samples: int = 4) -> tuple[OutputsTable, PathLatency]:
    table = OutputsTable(("a", "b"), np.zeros((2, n_samples, 3)), np.zeros(n_samples, int))
    lat = PathLatency(
        ("d",), np.array([["x", "y"]]), ("device", "cloud"), np.zeros((1, 2)), np.ones((1, 2))
    )
    return table, lat


@FAST
@given(prediction=st.lists(st.integers(-3, 5), min_size=4, max_size=4))
def test_evaluate_rejects_predictions_outside_the_classes(prediction):
    table, lat = _tiny_evaluation()
    decision = Decision(np.ones((4, 2), bool), np.ones(4, int), np.array(prediction))
    req = make_requests(8, 4, ("d",))
    out = outcome(lambda: evaluate(decision, table, req, lat), ["prediction"])
    if out is not None:
        assert min(prediction) >= 0 and max(prediction) < 3


@FAST
@given(
    rtt=st.lists(ENTRIES, min_size=2, max_size=2), comp=st.lists(ENTRIES, min_size=2, max_size=2)
)
def test_path_latency_garbage(rtt, comp):
    lat = outcome(
        lambda: PathLatency(
            ("d",), np.array([["x", "y"]]), ("device", "cloud"), np.array([rtt]), np.array([comp])
        ),
        ["rtt_ms", "compute_ms"],
    )
    if lat is not None:
        assert np.isfinite(lat.pattern_table()).all() and (lat.pattern_table() >= 0).all()


@FAST
@given(alpha=SCALARS, first=ENTRIES)
def test_gain_aware_alpha_and_conf(alpha, first):
    conf, correct = np.array([[first, 0.9, 0.5, 0.7]]), np.array([[0, 1, 1, 0], [1, 1, 1, 1]])
    rule = outcome(
        lambda: GainAwareForwarding(alpha).fit(conf, correct, np.array([[1.0, 5.0]])),
        ["alpha", "conf"],
    )
    if rule is not None:
        assert alpha >= 0 and math.isfinite(alpha) and 0 <= first <= 1


# ----------------------------------------------------------------------------- outputs table


@FAST
@given(
    shape=st.tuples(st.integers(0, 3), st.integers(0, 3), st.integers(0, 3)),
    fill=ENTRIES,
    labels=st.one_of(st.just("int"), st.just("float"), st.just("negative")),
)
def test_outputs_table_garbage(shape, fill, labels):
    logits = np.full(shape, fill)
    lab = {"int": np.zeros(shape[1], int), "float": np.full(shape[1], 0.5)}.get(
        labels, -np.ones(shape[1], int)
    )
    models = tuple(f"m{i}" for i in range(shape[0]))
    table = outcome(lambda: OutputsTable(models, logits, lab), ["logits", "labels", "model"])
    if table is not None:
        assert np.isfinite(table.probs()).all() and table.n_samples > 0


@FAST
@given(temps=st.one_of(st.lists(ENTRIES, max_size=4), BAD_SCALARS))
def test_outputs_temperatures(temps):
    table = OutputsTable(("a", "b"), np.zeros((2, 3, 2)), np.zeros(3, int))
    probs = outcome(lambda: table.probs(temps), ["temperatures"])
    if probs is not None:
        assert np.isfinite(probs).all()
        np.testing.assert_allclose(probs.sum(-1), 1.0)


# ----------------------------------------------------------------------------- placement


@FAST
@given(sizes=st.lists(SCALARS, min_size=2, max_size=2))
def test_placement_model_sizes(sizes):
    topo = path_topology()
    names = ["model_sizes_kb", "KiB"]
    p = outcome(
        lambda: Placement(topo, {"device-0": ["a", "b"]}, dict(zip("ab", sizes, strict=True))),
        names,
    )
    if p is not None:  # a valid placement really fits the 4 KiB device
        assert 0 < p.memory_used_kb("device-0") <= topo.node("device-0").memory_kb


@FAST
@given(size=SCALARS, flops=SCALARS, accuracy=st.one_of(ENTRIES, BAD_SCALARS))
def test_build_instance_catalogue(size, flops, accuracy):
    cat = [CatalogueModel("t:m", "t", size, flops, accuracy)]
    names = ["size_kb", "flops", "accuracy", "budget"]
    inst = outcome(lambda: build_instance(path_topology(), cat, capacity=5.0), names)
    if inst is not None:
        assert np.isfinite(inst.gamma).all() and (inst.sizes_kb > 0).all()


@FAST
@given(alloc=st.lists(ENTRIES, min_size=3, max_size=3))
def test_check_allocation_garbage(alloc):
    cat = [CatalogueModel("t:m", "t", 2.0, 1000, 0.8)]
    inst = build_instance(path_topology(), cat, capacity=5.0)
    x = outcome(lambda: inst.check_allocation(np.array(alloc)[:, None]), ["allocation"])
    if x is not None:
        assert np.isfinite(x).all() and (x >= -1e-9).all() and (x <= 1 + 1e-9).all()


@FAST
@given(loads=st.lists(ENTRIES, min_size=0, max_size=2))
def test_placement_gain_loads(loads):
    cat = [CatalogueModel("t:m", "t", 2.0, 1000, 0.8)]
    inst = build_instance(path_topology(), cat, capacity=5.0)
    g = outcome(lambda: gain(inst, inst.empty(), loads), ["loads"])
    if g is not None:
        assert math.isfinite(g) and g >= 0


# ----------------------------------------------------------------------------- ensembles


@FAST
@given(
    weights=st.one_of(st.none(), st.lists(ENTRIES, min_size=0, max_size=3)),
    rule=st.sampled_from(["soft", "log", "hard", "mean"]),
)
def test_combining_rules_weights(weights, rule):
    probs = np.array([[[0.7, 0.3]], [[0.2, 0.8]]])
    out = outcome(lambda: combine(probs, rule, weights), ["weights", "rule"])
    if out is not None:
        assert np.isfinite(out).all()
        np.testing.assert_allclose(out.sum(-1), 1.0)


@FAST
@given(probs=st.lists(ENTRIES, min_size=4, max_size=4))
def test_vote_probabilities_garbage(probs):
    p = np.array(probs).reshape(2, 1, 2)
    for rule in (soft_vote, log_vote):
        out = outcome(lambda rule=rule: rule(p), ["probs"])
        if out is not None:
            np.testing.assert_allclose(out.sum(-1), 1.0)


@FAST
@given(
    predictions=st.one_of(
        st.lists(st.integers(-1, 3), min_size=4, max_size=4).map(
            lambda v: np.array(v).reshape(2, 2)
        ),
        st.just(np.array([[0.5, 1.0], [1.0, 0.0]])),
        st.just(np.zeros(3, int)),
    ),
    n_classes=SCALARS,
)
def test_hard_vote_garbage(predictions, n_classes):
    out = outcome(lambda: hard_vote(predictions, n_classes), ["predictions", "n_classes"])
    if out is not None:
        assert ((out >= 0) & (out < n_classes)).all()


@FAST
@given(correct=st.one_of(st.just(np.zeros((2, 0))), st.just(np.zeros(3))), kind=st.text(max_size=4))
def test_vote_weights_garbage(correct, kind):
    assert outcome(lambda: vote_weights(correct, kind), ["correct", "weighting"]) is None


@FAST
@given(
    conf=st.lists(ENTRIES, min_size=2, max_size=2),
    threshold=SCALARS,
    remote=st.lists(st.integers(-1, 3), max_size=2),
)
def test_query_on_doubt_garbage(conf, threshold, remote):
    pred = np.zeros(2, dtype=int)
    names = ["local_conf", "threshold", "remote"]
    d = outcome(
        lambda: query_on_doubt_decision(np.array(conf), threshold, pred, pred, remote, 3), names
    )
    if d is not None:
        assert 0 <= threshold <= 1 and remote and min(remote) >= 1 and max(remote) < 3


@FAST
@given(weights=st.one_of(st.none(), st.lists(ENTRIES, max_size=3)))
def test_running_combination_weights(weights):
    probs = np.array([[[0.7, 0.3]], [[0.2, 0.8]]])
    out = outcome(lambda: running_combination(probs, "soft", weights), ["weights"])
    if out is not None:
        np.testing.assert_allclose(out.sum(-1), 1.0)


# ----------------------------------------------------------------------------- federated


@FAST
@given(
    weights=st.lists(ENTRIES, min_size=0, max_size=3),
    shapes=st.lists(st.sampled_from([(2,), (3,), (2, 1), ()]), min_size=2, max_size=2),
)
def test_weighted_average_garbage(weights, shapes):
    states = [{"w": np.ones(s)} for s in shapes]
    out = outcome(lambda: weighted_average(states, weights[: len(states)]), ["weight", "'w'"])
    if out is not None:
        assert out["w"].shape == shapes[0] == shapes[1]
        np.testing.assert_allclose(out["w"], 1.0)


EE_FIELDS = {
    "momentum": SCALARS,
    "server_lr": SCALARS,
    "lr": SCALARS,
    "rounds": SCALARS,
    "local_steps": SCALARS,
    "batch_size": SCALARS,
    "label_skew_alpha": SCALARS,
    "serving_split": st.lists(ENTRIES, max_size=3).map(tuple),
    "data_split": st.lists(ENTRIES, max_size=3).map(tuple),
    "channels": st.lists(SCALARS, max_size=3).map(tuple),
}


@FAST
@given(field=st.sampled_from(sorted(EE_FIELDS)), data=st.data())
def test_early_exit_config_garbage(field, data):
    value = data.draw(EE_FIELDS[field])
    names = [field, "serving", "channels", "exit"]
    config = outcome(lambda: EarlyExitConfig(**{field: value}), names)
    if config is not None:
        assert 0 <= config.momentum < 1 and config.server_lr > 0 and config.lr > 0
        assert math.isclose(sum(config.data_split), 1.0, abs_tol=1e-6)


# ----------------------------------------------------------------------------- exit weights


@FAST
@given(
    serving=st.lists(ENTRIES, min_size=0, max_size=3),
    sigma=st.lists(ENTRIES, min_size=3, max_size=3),
    flops=st.lists(ENTRIES, min_size=3, max_size=3),
    weighting=st.sampled_from(["equal", "serving", "variance", "flops", "fancy"]),
)
def test_lambda_tilde_garbage(serving, sigma, flops, weighting):
    names = ["serving", "sigma", "sum_p2", "FLOPs", "flops", "weighting", "standard deviations"]
    lam = outcome(
        lambda: lambda_tilde(weighting, serving, sigma=sigma, sum_p2=[1.0] * 3, flops=flops),
        names,
    )
    if lam is not None:
        assert np.isfinite(lam).all() and (lam >= 0).all()
        assert lam.sum() == pytest.approx(1.0)


@FAST
@given(sigma=st.lists(ENTRIES, max_size=3), sum_p2=st.lists(ENTRIES, max_size=3))
def test_variance_weights_garbage(sigma, sum_p2):
    names = ["sigma", "sum_p2", "standard deviations"]
    w = outcome(lambda: variance_weights(sigma, sum_p2), names)
    if w is not None:
        assert np.isfinite(w).all() and w.sum() == pytest.approx(1.0)


@FAST
@given(sizes=st.lists(ENTRIES, min_size=0, max_size=3))
def test_exit_data_shares_garbage(sizes):
    eligible = np.ones((len(sizes), 2), dtype=bool)
    p = outcome(lambda: exit_data_shares(sizes, eligible), ["sizes", "eligible", "no training"])
    if p is not None:
        assert np.isfinite(p).all()
        np.testing.assert_allclose(p.sum(axis=0), 1.0)


@FAST
@given(split=st.lists(ENTRIES, max_size=4))
def test_check_serving_split_garbage(split):
    s = outcome(lambda: check_serving_split(split, 3), ["serving"])
    if s is not None:
        assert s.shape == (3,) and s.sum() == pytest.approx(1.0)


@FAST
@given(
    server_lr=SCALARS,
    weights=st.lists(ENTRIES, min_size=2, max_size=2),
    participation=st.lists(ENTRIES, min_size=2, max_size=2),
    node=st.integers(-2, 2),
)
def test_aggregate_exit_updates_garbage(server_lr, weights, participation, node):
    state = {"w": np.zeros(2)}
    q, p = np.array([participation]), np.array([[1.0, 1.0]])
    names = ["server_lr", "weights", "participation", "node", "q = 0"]
    out = outcome(
        lambda: aggregate_exit_updates(
            state, [(node, 0, {"w": np.ones(2)})], p, q, weights, server_lr
        ),
        names,
    )
    if out is not None:
        assert np.isfinite(out["w"]).all()


@pytest.mark.parametrize(("seed", "error"), [(-1, ValueError), ("0", TypeError), (1.5, TypeError)])
def test_fedavg_and_infida_name_a_bad_seed(seed, error) -> None:
    from idn_core.federated import run_fedavg
    from idn_core.learning import ModelSpec
    from idn_core.placement import Infida

    spec = ModelSpec("m", "edge", "mlp", {"hidden": [4]})
    x, y = np.zeros((4, 8), np.float32), np.array([0, 1, 0, 1])
    with pytest.raises(error, match="seed"):
        run_fedavg(spec, x, y, [np.arange(4)], rounds=1, seed=seed, n_classes=2)
    with pytest.raises(TypeError, match="inst"):
        Infida(None, 1.0)
