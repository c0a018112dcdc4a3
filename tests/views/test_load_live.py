"""The busy network's live dashboard: each control reruns the policy it names."""

from __future__ import annotations

import numpy as np
import pytest

from idn_core.delivery import (
    DeadlineGainRule,
    FeedbackRule,
    LoadSetup,
    cascade_decision,
    evaluate_under_load,
    stream_at,
)
from idn_core.learning import OutputsTable
from idn_core.network import network_from_topology, tree_topology
from idn_core.views import busy_state, load_dashboard

from .conftest import controls, surface_errors


def small_world():
    """A 2 x 2 tree and random 3-tier outputs on 60 samples (as in the delivery tests)."""
    rng = np.random.default_rng(0)
    topo = tree_topology(n_edges=2, devices_per_edge=2)
    flops = {"device": 2e4, "edge": 1.2e6, "cloud": 4e6}
    net = network_from_topology(topo, {x.name: flops[x.tier] for x in topo.nodes})
    labels = rng.integers(0, 4, 60)
    logits = rng.normal(size=(3, 60, 4))
    for k, boost in enumerate((1.0, 2.5, 4.0)):
        logits[k, np.arange(60), labels] += boost
    table = OutputsTable(("m0", "m1", "m2"), logits, labels)
    conf = (table.probs().max(axis=2) - 0.25) / 0.75
    return topo, net, table, conf


def small_setup() -> LoadSetup:
    _, net, table, conf = small_world()
    return LoadSetup(
        net, table, table, conf[:2], conf[:2], np.array([0.9, 0.9]), 0.03, 400.0,
        FeedbackRule(), DeadlineGainRule(),
    )  # fmt: skip


def test_state_of_the_fixed_policy_is_the_evaluator():
    ls = small_setup()
    out = busy_state(ls, 1.0, 30.0, "fixed", duration_s=1.0)
    req = stream_at(ls, 1.0, 1.0, 0)
    ref = evaluate_under_load(
        cascade_decision(ls.conf_test, ls.thresholds), ls.test, ls.network, req, 0.03
    )
    assert np.array_equal(out.response_s, ref.response_s)
    with pytest.raises(ValueError, match="policy"):
        busy_state(ls, 1.0, 30.0, "oracle", duration_s=1.0)
    with pytest.raises(ValueError, match="deadline_ms"):
        busy_state(ls, 1.0, 0.0, "fixed", duration_s=1.0)


def test_dashboard_shows_a_figure_and_metrics_for_every_policy(shown):
    board = surface_errors(load_dashboard(small_setup(), duration_s=0.5))
    ctl = controls(board)
    for policy in ("fixed", "feedback", "shedding", "deadline gain"):
        ctl["policy"].value = policy
    assert len(shown.figures) >= 4
    assert any(hasattr(d, "columns") and "on_time_accuracy" in d.columns for d in shown.displayed)
