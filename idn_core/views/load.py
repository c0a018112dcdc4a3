"""Static plotly figures of the busy network: the knee, policies against load, a day, SimPy."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

__all__ = [
    "capacity_region_figure",
    "knee_figure",
    "load_policy_figure",
    "policy_rate_slider_figure",
    "simpy_check_figure",
    "varying_rate_figure",
]

POLICY_COLOURS = {
    "fixed": "#7f7f7f",
    "best static": "#1f77b4",
    "feedback": "#d62728",
    "shedding": "#2ca02c",
    "deadline gain": "#9467bd",
}
TIER_COLOURS = {"device": "#2ca02c", "edge": "#1f77b4", "cloud": "#d62728"}


def _need(frame: pd.DataFrame, columns: tuple[str, ...], name: str) -> None:
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"{name} must be a DataFrame, got {type(frame).__name__}")
    missing = [c for c in columns if c not in frame.columns]
    if missing or frame.empty:
        raise ValueError(
            f"{name} must be a non-empty frame with columns {columns}; missing {missing}"
        )


def _line_trace(
    x: pd.Series,
    y: pd.Series,
    name: str,
    colour: str | None,
    mode: str = "lines+markers",
    dash: str | None = None,
    **extra: object,
) -> go.Scatter:
    """A scatter trace of ``y`` against ``x`` in ``colour`` (dashed when ``dash`` is given)."""
    line = {"color": colour} if dash is None else {"color": colour, "dash": dash}
    return go.Scatter(x=x, y=y, name=name, mode=mode, line=line, **extra)


def knee_figure(tiers: pd.DataFrame, deadline_s: float) -> go.Figure:
    """Mean and p95 response (ms) of the requests each tier answers, and each tier's
    busiest node's utilisation, against the load factor; the deadline dashed."""
    _need(tiers, ("factor", "tier", "mean_s", "p95_s", "utilisation"), "tiers")
    fig = make_subplots(
        rows=1,
        cols=2,
        subplot_titles=("response time by answering tier", "utilisation of the busiest node"),
    )
    for tier, part in tiers.groupby("tier", sort=False):
        colour = TIER_COLOURS.get(tier)
        mean = _line_trace(part.factor, 1e3 * part.mean_s, f"{tier} (mean)", colour)
        fig.add_trace(mean, row=1, col=1)
        p95 = _line_trace(part.factor, 1e3 * part.p95_s, f"{tier} (p95)", colour, "lines", "dot")
        fig.add_trace(p95, row=1, col=1)
        node = _line_trace(part.factor, part.utilisation, f"{tier} node", colour, showlegend=False)
        fig.add_trace(node, row=1, col=2)
    fig.add_hline(y=1e3 * deadline_s, line_dash="dash", row=1, col=1, annotation_text="deadline")
    fig.update_yaxes(title_text="response time (ms)", type="log", row=1, col=1)
    fig.update_yaxes(title_text="utilisation", row=1, col=2)
    fig.update_xaxes(title_text="load factor (1 = the edge full under chapter 2's thresholds)")
    fig.update_layout(height=420, margin={"t": 50})
    return fig


def load_policy_figure(table: pd.DataFrame) -> go.Figure:
    """On-time accuracy of every policy against the load factor; buttons switch between
    the plain metric (a late answer is worthless) and the anytime one."""
    _need(table, ("factor", "policy", "on_time_accuracy", "anytime_accuracy"), "table")
    fig = go.Figure()
    for policy, part in table.groupby("policy", sort=False):
        colour = POLICY_COLOURS.get(policy)
        fig.add_trace(_line_trace(part.factor, 100 * part.on_time_accuracy, policy, colour))
    groups = [part for _, part in table.groupby("policy", sort=False)]
    buttons = [
        {
            "label": label,
            "method": "restyle",
            "args": [{"y": [list(100 * p[col].to_numpy()) for p in groups]}],
        }
        for label, col in (("on time", "on_time_accuracy"), ("anytime", "anytime_accuracy"))
    ]
    fig.update_layout(
        updatemenus=[{"buttons": buttons, "active": 0, "type": "buttons", "x": 1.0, "y": 1.15}],
        xaxis_title="load factor",
        yaxis_title="on-time accuracy (%)",
        height=420,
    )
    return fig


def capacity_region_figure(table: pd.DataFrame, level: float = 0.95) -> go.Figure:
    """Largest load factor of the sweep at which each policy keeps its on-time accuracy
    at or above ``level`` (a bar per policy): its capacity region along the rate axis."""
    _need(table, ("factor", "policy", "on_time_accuracy"), "table")
    if not 0 < level < 1:
        raise ValueError(f"level must lie in (0, 1), got {level!r}")
    names, reach = [], []
    for policy, part in table.groupby("policy", sort=False):
        ok = part[part.on_time_accuracy >= level].factor
        names.append(policy)
        reach.append(float(ok.max()) if len(ok) else 0.0)
    fig = go.Figure(
        go.Bar(
            x=names,
            y=reach,
            marker_color=[POLICY_COLOURS.get(n, "#444") for n in names],
            text=[f"{r:.2f}" for r in reach],
            textposition="outside",
        )  # fmt: skip
    )
    fig.update_layout(
        yaxis_title=f"largest load factor with on-time accuracy ≥ {100 * level:.0f} %",
        height=380,
    )
    return fig


def policy_rate_slider_figure(table: pd.DataFrame, active: int = 0) -> go.Figure:
    """A slider on the load factor: each policy's on-time and anytime accuracy as bars.

    ``active`` is the slider's initial position; the bars plotted are that factor's.
    """
    _need(table, ("factor", "policy", "on_time_accuracy", "anytime_accuracy"), "table")
    factors = sorted(table.factor.unique())
    if not 0 <= active < len(factors):
        raise ValueError(f"active must lie in [0, {len(factors)}), got {active!r}")
    policies = list(dict.fromkeys(table.policy))

    def ys(f: float) -> tuple[list[float], list[float]]:
        part = table[table.factor == f].set_index("policy").loc[policies]
        return list(100 * part.on_time_accuracy), list(100 * part.anytime_accuracy)

    plain, anytime = ys(factors[active])
    fig = go.Figure(
        [
            go.Bar(x=policies, y=plain, name="on time"),
            go.Bar(x=policies, y=anytime, name="anytime"),
        ]
    )
    steps = []
    for f in factors:
        p, a = ys(f)
        steps.append({"label": f"{f:g}", "method": "restyle", "args": [{"y": [p, a]}, [0, 1]]})
    fig.update_layout(
        sliders=[{"active": active, "steps": steps, "currentvalue": {"prefix": "load factor: "}}],
        yaxis={"title": "accuracy (%)", "range": [0, 100]},
        barmode="group",
        height=440,
    )
    return fig


def varying_rate_figure(frame: pd.DataFrame) -> go.Figure:
    """A run whose rate changes: the load factor over time (top), on-time accuracy per
    window of fixed thresholds and feedback, and the devices' forwarding share (bottom)."""
    _need(frame, ("time_s", "factor", "fixed", "feedback", "feedback_share"), "frame")
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.08)
    fig.add_trace(go.Scatter(x=frame.time_s, y=frame.factor, name="load factor"), row=1, col=1)
    fig.add_trace(
        go.Scatter(x=frame.time_s, y=frame.feedback_share, name="feedback: forwarding share"),
        row=1,
        col=1,
    )
    for col in ("fixed", "feedback"):
        fig.add_trace(
            go.Scatter(
                x=frame.time_s,
                y=100 * frame[col],
                name=f"{col}: on-time accuracy",
                line={"color": POLICY_COLOURS[col]},
            ),  # fmt: skip
            row=2,
            col=1,
        )
    fig.update_yaxes(title_text="load factor / share", row=1, col=1)
    fig.update_yaxes(title_text="on-time accuracy (%)", row=2, col=1)
    fig.update_xaxes(title_text="time (s)", row=2, col=1)
    fig.update_layout(height=520)
    return fig


def simpy_check_figure(engine_s: np.ndarray, simpy_s: np.ndarray) -> go.Figure:
    """Departures of the vectorised engine against SimPy's, request by request (left), and
    their absolute differences (right, log scale)."""
    e, s = np.asarray(engine_s, dtype=float), np.asarray(simpy_s, dtype=float)
    if e.shape != s.shape or e.ndim != 1 or e.size == 0:
        raise ValueError(
            f"engine_s and simpy_s must be equal non-empty 1-D arrays, got {e.shape}, {s.shape}"
        )
    diff = np.abs(e - s)
    fig = make_subplots(rows=1, cols=2, subplot_titles=("departure (s)", "|engine − SimPy| (s)"))
    fig.add_trace(go.Scatter(x=s, y=e, mode="markers", marker={"size": 3}, name="requests"), 1, 1)
    fig.add_trace(
        go.Scatter(x=np.arange(len(diff)), y=np.maximum(diff, 1e-18), mode="markers",
                   marker={"size": 3}, name="difference"),
        row=1, col=2,
    )  # fmt: skip
    fig.update_xaxes(title_text="SimPy", row=1, col=1)
    fig.update_yaxes(title_text="engine", row=1, col=1)
    fig.update_xaxes(title_text="request", row=1, col=2)
    fig.update_yaxes(type="log", row=1, col=2)
    fig.update_layout(height=380, showlegend=False)
    return fig
