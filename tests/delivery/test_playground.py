"""Playground (chapter 7): evaluation of configurations, dashboard and static figure."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from idn_core.delivery import Playground
from idn_core.learning import confidence
from idn_core.network import load_scenario, tree_topology
from idn_core.views import PlaygroundDashboard, playground_figure, playground_sweep

N_REQUESTS = 3000


@pytest.fixture(scope="module")
def pg() -> Playground:
    scenario = load_scenario(num_samples=3000, epochs=3, progress=False)
    return Playground(scenario, n_requests=N_REQUESTS, seed=1)


def reference(pg: Playground, topology, placement, threshold: float, score: str):
    """Per-request loop of a cascade: walk the chain until a confidence reaches the threshold."""
    test = pg.scenario.zoo.outputs("test")
    probs = test.probs(pg.temperatures)
    correct, latency = [], []
    for s, d in zip(pg.requests.sample.tolist(), pg.requests.device.tolist(), strict=True):
        device = pg.requests.devices[d]
        chain = pg.chain(placement, device)
        spent, answer = 0.0, None
        for k, (node, model) in enumerate(chain):
            m = test.index(model)
            spent += topology.node(node).compute_ms(pg.flops[model])
            conf = float(confidence(probs[m, s][None], score)[0])
            if k == len(chain) - 1 or (threshold < 1 and conf >= threshold):
                answer = (node, m)
                break
        correct.append(probs[answer[1], s].argmax() == test.labels[s])
        latency.append(spent + topology.rtt_ms(device, answer[0]))
    return float(np.mean(correct)), float(np.mean(latency))


def test_local_and_cloud_match_the_models_on_the_requests(pg: Playground) -> None:
    test = pg.scenario.zoo.outputs("test")
    correct = test.correct()
    local, cloud = pg.run(policy="local"), pg.run(policy="cloud")
    s = pg.requests.sample
    assert local.summary["accuracy"] == pytest.approx(correct[test.index("cnn-device"), s].mean())
    assert cloud.summary["accuracy"] == pytest.approx(correct[test.index("cnn-cloud"), s].mean())
    assert local.summary["forwarded"] == 0 and cloud.summary["forwarded"] == 1
    rtt = pg.topology.rtt_ms("device-0", "cloud")
    compute = pg.topology.node("cloud").compute_ms(pg.flops["cnn-cloud"])
    assert cloud.summary["latency_ms"] == pytest.approx(rtt + compute)


@settings(
    max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    threshold=st.floats(0, 1),
    uplink=st.floats(0, 100),
    score=st.sampled_from(["max_prob", "margin", "neg_entropy"]),
    edge_models=st.sampled_from([("cnn-edge",), ("cnn-device", "cnn-edge"), ()]),
)
def test_cascade_matches_a_per_request_reference(
    pg: Playground, threshold: float, uplink: float, score: str, edge_models: tuple
) -> None:
    topo = pg.with_uplink_latency("edge-1", uplink)
    assignment = {**pg.placement().as_dict(), "edge-0": edge_models}
    placement = pg.placement(assignment, topo)
    result = pg.run(topo, placement, policy="cascade", threshold=threshold, score=score)
    accuracy, latency = reference(pg, topo, placement, threshold, score)
    assert result.summary["accuracy"] == pytest.approx(accuracy)
    assert result.summary["latency_ms"] == pytest.approx(latency)


def test_extreme_thresholds_are_local_only_and_full_path(pg: Playground) -> None:
    assert pg.run(threshold=0.0).summary == pg.run(policy="local").summary
    everything = pg.run(threshold=1.0)
    assert everything.summary["models_queried"] == pytest.approx(3.0)
    assert everything.summary["accuracy"] == pg.run(policy="cloud").summary["accuracy"]


def test_oracle_bounds_every_policy_and_loads_add_up(pg: Playground) -> None:
    oracle = pg.run(policy="oracle").summary["accuracy"]
    for policy in ("local", "cloud", "cascade", "gain-aware"):
        result = pg.run(policy=policy)
        assert result.summary["accuracy"] <= oracle + 1e-12, policy
        assert result.per_node.load.sum() == pytest.approx(result.summary["models_queried"])
        assert result.per_node.answered.sum() == pytest.approx(1.0)
        assert result.per_device.requests.sum() == N_REQUESTS


def test_a_slower_uplink_delays_only_the_devices_behind_it(pg: Playground) -> None:
    base = pg.run(threshold=0.5)
    slow = pg.run(pg.with_uplink_latency("edge-0", 80.0), threshold=0.5)
    assert slow.summary["accuracy"] == base.summary["accuracy"]
    delta = slow.per_device.latency_ms - base.per_device.latency_ms
    assert (delta[:2] > 0).all() and np.allclose(delta[2:], 0)


def test_gain_aware_forwards_less_when_latency_costs_more(pg: Playground) -> None:
    cheap = pg.run(policy="gain-aware", alpha=0.0).summary
    dear = pg.run(policy="gain-aware", alpha=0.05).summary
    assert dear["latency_ms"] <= cheap["latency_ms"]
    assert dear["forwarded"] <= cheap["forwarded"]


def test_a_node_with_two_models_queries_the_cheaper_first(pg: Playground) -> None:
    placement = pg.placement({"device-0": [], "edge-0": ["cnn-edge", "cnn-device"], "cloud": []})
    assert pg.chain(placement, "device-0") == [("edge-0", "cnn-device"), ("edge-0", "cnn-edge")]


def test_bad_configurations_are_clear_errors(pg: Playground) -> None:
    with pytest.raises(ValueError, match="cnn-regional.*edge-0"):
        pg.placement({"edge-0": ["cnn-regional"]})
    with pytest.raises(KeyError, match="nowhere"):
        pg.placement({"nowhere": ["cnn-edge"]})
    empty = pg.placement({"device-0": ["cnn-device"]})
    with pytest.raises(ValueError, match="no model on the path of device 'device-1'"):
        pg.run(placement=empty)
    with pytest.raises(ValueError, match="policy"):
        pg.run(policy="random")
    with pytest.raises(ValueError, match="threshold"):
        pg.run(threshold=1.5)
    with pytest.raises(ValueError, match="alpha"):
        pg.run(alpha=-1.0)
    with pytest.raises(ValueError, match="uplink.*cloud|root"):
        pg.with_uplink_latency("cloud", 3.0)
    with pytest.raises(ValueError, match="latency"):
        pg.with_uplink_latency("edge-0", -3.0)


def test_dashboard_updates_and_refuses_placements_over_budget(pg: Playground) -> None:
    dash = PlaygroundDashboard(pg)
    before = dash.result.summary
    dash.link.value = "edge-1"
    assert dash.latency.value == pytest.approx(10.0)
    dash.latency.value = 120.0
    assert dash.result.summary["latency_ms"] > before["latency_ms"]
    dash.node.value = "edge-0"
    dash.models.value = ("cnn-regional",)
    assert "Placement refused" in dash.message.value and "128.0 KiB" in dash.message.value
    assert dash.placement.models_on("edge-0") == ("cnn-edge",)
    dash.models.value = ("cnn-device", "cnn-edge")
    assert dash.message.value == "" and dash.placement.models_on("edge-0") == dash.models.value
    dash.policy.value = "oracle"
    assert "accuracy" in dash.output.value
    assert dash.result.summary["accuracy"] >= before["accuracy"]


def test_static_figure_slider_and_buttons_carry_the_sweep(pg: Playground) -> None:
    thresholds, uplinks = [0.0, 0.5, 1.0], [10.0, 80.0]
    sweep = playground_sweep(pg, thresholds, uplinks)
    fig = playground_figure(sweep, active=1)
    slider = fig.layout.sliders[0]
    assert len(slider.steps) == 3 and slider.active == 1
    assert len(fig.layout.updatemenus[0].buttons) == 2
    # The marker of latency group 1 at threshold 1.0 shows that run's accuracy and latency.
    step = slider.steps[2]
    marker = step.args[1].index(5 + 4)
    run = sweep.results[1][2]
    assert step.args[0]["x"][marker] == [run.summary["latency_ms"]]
    assert step.args[0]["y"][marker] == [run.summary["accuracy"]]
    visible = fig.layout.updatemenus[0].buttons[1].args[0]["visible"]
    assert visible == [False] * 5 + [True] * 5
    assert [t.visible for t in fig.data] == [True] * 5 + [False] * 5
    with pytest.raises(ValueError, match="active"):
        playground_figure(sweep, active=3)


@pytest.mark.parametrize(("n_edges", "per_edge"), [(2, 3), (1, 2)])
def test_run_on_a_topology_with_other_devices_is_an_error(pg: Playground, n_edges, per_edge):
    other = tree_topology(n_edges=n_edges, devices_per_edge=per_edge)
    # More devices used to be ignored (no requests); fewer raised KeyError 'device-1'.
    with pytest.raises(ValueError, match="request stream is drawn over"):
        pg.run(other, policy="local")


def test_devices_without_requests_are_listed_idle(pg: Playground):
    one = Playground(pg.scenario, n_requests=1, seed=0)

    result = one.run(policy="local")

    idle = result.per_device[result.per_device.requests == 0]
    assert len(idle) == len(one.topology.devices) - 1
    assert idle.accuracy.isna().all() and idle.latency_ms.isna().all()
    assert result.per_node.load.sum() == pytest.approx(1.0)
