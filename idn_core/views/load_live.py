"""A live ipywidgets dashboard of the busy network: load, deadline and policy."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from idn_core.delivery.feedback import simulate_adaptive
from idn_core.delivery.load_comparison import LoadSetup, stream_at
from idn_core.delivery.policies import cascade_decision
from idn_core.delivery.under_load import LoadOutcome, evaluate_under_load
from idn_core.views.display import show

__all__ = ["LIVE_POLICIES", "load_dashboard", "busy_state"]

LIVE_POLICIES = ("fixed", "feedback", "shedding", "deadline gain")


def busy_state(
    ls: LoadSetup, factor: float, deadline_ms: float, policy: str, duration_s: float, seed: int = 0
) -> LoadOutcome:
    """One policy's outcome at ``factor`` x the reference rate with a ``deadline_ms`` deadline."""
    if policy not in LIVE_POLICIES:
        raise ValueError(f"policy must be one of {LIVE_POLICIES}, got {policy!r}")
    if not deadline_ms > 0:
        raise ValueError(f"deadline_ms must be > 0, got {deadline_ms!r}")
    ls = replace(ls, deadline_s=deadline_ms / 1e3)
    req = stream_at(ls, factor, duration_s, seed)
    fixed = cascade_decision(ls.conf_test, ls.thresholds)
    if policy in ("fixed", "shedding"):
        shed = policy == "shedding"
        return evaluate_under_load(fixed, ls.test, ls.network, req, ls.deadline_s, shed=shed)
    rule = ls.feedback if policy == "feedback" else ls.gain_rule
    return simulate_adaptive(
        rule, ls.conf_test, ls.test, ls.network, req, ls.deadline_s,
        ls.thresholds, ls.conf_val, ls.val,
    ).outcome  # fmt: skip


def _response_figure(out: LoadOutcome, tiers: tuple[str, ...]) -> go.Figure:
    fig = go.Figure()
    for k, tier in enumerate(tiers):
        at = out.answer_tier == k
        if at.any():
            fig.add_trace(go.Histogram(x=1e3 * out.response_s[at], name=f"answered at {tier}"))
    fig.add_vline(x=1e3 * float(out.deadline_s[0]), line_dash="dash")
    fig.update_layout(
        barmode="overlay", xaxis_title="response time (ms)", yaxis_title="requests", height=360
    )
    fig.update_traces(opacity=0.6)
    return fig


def load_dashboard(ls: LoadSetup, duration_s: float = 2.0):
    """ipywidgets: load factor, deadline and policy; each change reruns ``duration_s`` of
    requests and shows the response-time histogram per answering tier and the metrics."""
    import ipywidgets as widgets
    from IPython.display import display

    def view(factor: float, deadline_ms: float, policy: str) -> None:
        out = busy_state(ls, factor, deadline_ms, policy, duration_s)
        show(_response_figure(out, ls.tiers))
        m = out.metrics()
        display(pd.DataFrame({k: [np.round(v, 4)] for k, v in m.items()}))

    return widgets.interactive(
        view,
        factor=widgets.FloatSlider(
            value=1.0, min=0.2, max=1.6, step=0.1, description="load factor",
            continuous_update=False,
        ),
        deadline_ms=widgets.FloatSlider(
            value=1e3 * ls.deadline_s, min=15.0, max=120.0, step=5.0, description="deadline (ms)",
            continuous_update=False,
        ),
        policy=widgets.Dropdown(options=list(LIVE_POLICIES), value="feedback", description="policy"),
    )  # fmt: skip
