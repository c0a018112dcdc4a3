"""The decentralised controllers: exact against the engine, and a step change in rate."""

from __future__ import annotations

import numpy as np
import pytest

from idn_core.delivery import (
    AdaptiveRun,
    DeadlineGainRule,
    FeedbackRule,
    cascade_decision,
    evaluate_under_load,
    simulate_adaptive,
)
from idn_core.network import TimedRequests, thinned_arrivals

from .test_under_load import small_world, stream


def run(rule, net, table, conf, req, deadline=0.03, t=(0.9, 0.9)):
    return simulate_adaptive(
        rule, conf[:2], table, net, req, deadline, np.array(t), conf[:2], table
    )


def test_at_light_load_feedback_is_the_fixed_cascade_exactly():
    _, net, table, conf = small_world()
    req = stream(net, 100.0, table.n_samples)
    fixed = evaluate_under_load(cascade_decision(conf[:2], [0.9, 0.9]), table, net, req, 0.03)

    out = run(FeedbackRule(interval_s=0.05), net, table, conf, req)

    assert np.array_equal(out.answer_tier, fixed.answer_tier)
    assert np.array_equal(out.outcome.response_s, fixed.response_s)
    assert (out.history.groupby("node").state.nunique() == 1).all()


@pytest.mark.parametrize("rule", [FeedbackRule(interval_s=0.02), DeadlineGainRule(interval_s=0.02)])
def test_interval_simulation_equals_the_engine_under_overload(rule):
    """The simulation serves each station interval by interval; the engine recomputes the
    same routes in one pass: departures agree to 1e-9 s even while states move."""
    _, net, table, conf = small_world()
    req = stream(net, 1500.0, table.n_samples)
    out = run(rule, net, table, conf, req)
    assert out.history.state.nunique() > 2  # the rule did adapt
    done = out.outcome.load.done_s
    assert np.array_equal(np.isnan(done), np.isnan(out.departure_s))
    assert np.nanmax(np.abs(done - out.departure_s)) <= 1e-9


def step_stream(net, n_samples, low, high, t_step, duration, seed=3) -> TimedRequests:
    def rate(t):
        return np.where(t < t_step, low, high)

    seqs = np.random.SeedSequence(seed).spawn(len(net.devices) + 1)
    times = [thinned_arrivals(rate, high, duration, s) for s in seqs[:-1]]
    dev = np.repeat(np.arange(len(times)), [len(t) for t in times])
    all_t = np.concatenate(times)
    order = np.argsort(all_t, kind="stable")
    sample = np.random.default_rng(seqs[-1]).integers(0, n_samples, len(order))
    return TimedRequests(sample, dev[order], net.devices, n_samples, all_t[order])


def test_feedback_follows_a_step_up_in_rate():
    _, net, table, conf = small_world()
    req = step_stream(net, table.n_samples, 200.0, 1500.0, 2.0, 6.0)
    fixed = evaluate_under_load(cascade_decision(conf[:2], [0.9, 0.9]), table, net, req, 0.03)

    out = run(FeedbackRule(interval_s=0.02, target_wait_s=0.003), net, table, conf, req)

    dev = out.history[out.history.tier == 0].groupby("time_s").state.mean()
    before, after = dev[dev.index < 2.0], dev[dev.index > 3.0]
    assert before.min() == pytest.approx(before.max())  # no load: stays at its ceiling
    assert after.mean() < 0.8 * before.mean()  # forwards less after the step
    late = req.arrival_s > 3.0
    on_fb = (out.outcome.correct & out.outcome.on_time)[late].mean()
    on_fixed = (fixed.correct & fixed.on_time)[late].mean()
    assert on_fb > on_fixed + 0.1


def test_bad_input_names_the_argument():
    _, net, table, conf = small_world()
    req = stream(net, 100.0, table.n_samples)
    with pytest.raises(ValueError, match="interval_s"):
        FeedbackRule(interval_s=0.0)
    with pytest.raises(ValueError, match="target_wait_s"):
        FeedbackRule(target_wait_s=float("nan"))
    with pytest.raises(ValueError, match="smoothing"):
        DeadlineGainRule(smoothing=2.0)
    with pytest.raises(ValueError, match="alpha_per_s"):
        DeadlineGainRule(alpha_per_s=-1.0)
    with pytest.raises(TypeError, match="rule"):
        run("feedback", net, table, conf, req)
    with pytest.raises(ValueError, match="conf"):
        simulate_adaptive(
            FeedbackRule(),
            conf[:2, :5],
            table,
            net,
            req,
            0.03,
            np.array([0.5, 0.5]),
            conf[:2],
            table,
        )
    with pytest.raises(ValueError, match="thresholds"):
        run(FeedbackRule(), net, table, conf, req, t=(0.5,))
    assert isinstance(run(FeedbackRule(), net, table, conf, req), AdaptiveRun)
