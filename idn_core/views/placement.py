"""Plotly figures (static sliders and buttons) and an ipywidgets dashboard for chapter 4."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from idn_core.network.topology import Topology
from idn_core.placement.catalogue import CatalogueModel
from idn_core.placement.demand import make_loads, regret_over_time
from idn_core.placement.experiments import PlacementComparison, compare_policies
from idn_core.placement.instance import PlacementInstance, build_instance
from idn_core.views.display import show

MODEL_CLASSES = ("device", "edge", "regional", "cloud")
COLOURS = {
    "INFIDA": "#d62728",
    "local greedy": "#2ca02c",
    "greedy (per KiB)": "#1f77b4",
    "offline optimum": "#7f7f7f",
}


def _class_counts(inst: PlacementInstance, x: np.ndarray) -> np.ndarray:
    """``(nodes without the repository, 4)`` number of models of each size class placed."""
    cls = [m.split(":")[-1].split("-")[-1] for m in inst.models]
    rows = [v for v in range(inst.shape[0]) if v != inst.repository]
    out = np.zeros((len(rows), len(MODEL_CLASSES)))
    for i, v in enumerate(rows):
        for m in np.flatnonzero(x[v]):
            out[i, MODEL_CLASSES.index(cls[m])] += 1
    return out


def placement_alpha_figure(
    table: pd.DataFrame, allocs: dict[float, np.ndarray], inst: PlacementInstance
) -> go.Figure:
    """Slider over the accuracy weight kappa (``alpha`` in the library, ms per unit accuracy):
    models placed per node and size class; where requests are served.

    ``table`` has one row per alpha (index) with ``latency ms``, ``accuracy`` and
    ``share <class>`` columns; ``allocs`` maps each alpha to its allocation ``(V, M)``.
    """
    fig = make_subplots(
        rows=1,
        cols=2,
        column_widths=[0.55, 0.45],
        subplot_titles=(
            "models placed by the optimum (count)",
            "share of requests served per tier",
        ),
    )
    alphas = list(table.index)
    zmax = max(_class_counts(inst, allocs[a]).max() for a in alphas)
    for i, a in enumerate(alphas):
        _add_alpha_traces(fig, _class_counts(inst, allocs[a]), table.loc[a], inst, zmax, i == 0)
    steps = []
    for i, a in enumerate(alphas):
        vis = [False] * (2 * len(alphas))
        vis[2 * i] = vis[2 * i + 1] = True
        title = _alpha_title(a, table.loc[a])
        steps.append(
            {
                "method": "update",
                "label": f"{a:g}",
                "args": [{"visible": vis}, {"title.text": title}],
            }
        )
    fig.update_layout(
        title=_alpha_title(alphas[0], table.iloc[0]),
        sliders=[
            {
                "active": 0,
                "currentvalue": {"prefix": "accuracy weight κ (ms per unit accuracy): "},
                "steps": steps,
            }
        ],
        yaxis2={"range": [0, 1], "tickformat": ".0%"},
        height=460,
        showlegend=False,
    )
    return fig


def _add_alpha_traces(
    fig: go.Figure,
    counts: np.ndarray,
    row: pd.Series,
    inst: PlacementInstance,
    zmax: float,
    visible: bool,
) -> None:
    """One alpha's traces: models per node and size class (left), served shares (right)."""
    nodes = [n for v, n in enumerate(inst.nodes) if v != inst.repository]
    fig.add_trace(
        go.Heatmap(
            z=counts,
            x=list(MODEL_CLASSES),
            y=nodes,
            zmin=0,
            zmax=zmax,
            colorscale="Blues",
            showscale=False,
            texttemplate="%{z}",
            visible=visible,
        ),
        row=1,
        col=1,
    )
    fig.add_trace(
        go.Bar(
            x=list(MODEL_CLASSES),
            y=[row[f"share {t}"] for t in MODEL_CLASSES],
            marker_color="#9467bd",
            visible=visible,
            hovertemplate="%{x}: %{y:.1%}<extra></extra>",
        ),
        row=1,
        col=2,
    )


def _alpha_title(alpha: float, row: pd.Series) -> str:
    """Title of one alpha's state: its mean latency (ms) and mean accuracy."""
    return (
        f"κ = {alpha:g} ms: mean latency {row['latency ms']:.1f} ms, "
        f"mean accuracy {row['accuracy']:.3f}"
    )


def placement_gain_figure(comparisons: dict[str, PlacementComparison]) -> go.Figure:
    """Running time-averaged gain / the optimum's, per policy; buttons switch the demand."""
    fig = go.Figure()
    names = list(comparisons)
    n_per = []
    for j, (_kind, comp) in enumerate(comparisons.items()):
        opt = comp.result.gains["offline optimum"]
        t = np.arange(1, len(opt) + 1)
        traces = [k for k in comp.result.gains if k != "offline optimum"]
        n_per.append(len(traces))
        for k in traces:
            ratio = np.cumsum(comp.result.gains[k]) / np.cumsum(opt)
            fig.add_trace(
                go.Scatter(
                    x=t,
                    y=ratio,
                    name=k,
                    line={"color": COLOURS.get(k)},
                    visible=j == 0,
                    hovertemplate="slot %{x}: %{y:.3f}<extra>" + k + "</extra>",
                )
            )
    buttons = []
    for j, kind in enumerate(names):
        vis = [i == j for i, n in enumerate(n_per) for _ in range(n)]
        buttons.append({"method": "update", "label": kind, "args": [{"visible": vis}]})
    fig.add_hline(y=1.0, line_dash="dot", line_color="#7f7f7f", annotation_text="offline optimum")
    fig.update_layout(
        updatemenus=[
            {"type": "buttons", "direction": "right", "x": 0.0, "y": 1.15, "buttons": buttons}
        ],
        xaxis_title="time slot t",
        yaxis_title="gain up to t / optimum's gain up to t",
        height=430,
    )
    return fig


def regret_figure(runs: dict[float, tuple[np.ndarray, np.ndarray]]) -> go.Figure:
    """Slider over INFIDA's learning-rate scale: regret up to ``t`` divided by ``t``.

    ``runs`` maps a learning-rate scale to ``(INFIDA gains, optimum gains)`` per slot.
    """
    fig = go.Figure()
    scales = list(runs)
    for i, s in enumerate(scales):
        g, opt = runs[s]
        reg = regret_over_time(g, opt) / max(float(np.mean(opt)), 1e-12)
        fig.add_trace(
            go.Scatter(
                x=np.arange(1, len(g) + 1), y=reg, visible=i == 0, line={"color": COLOURS["INFIDA"]}
            )
        )
    steps = [
        {
            "method": "update",
            "label": f"{s:g}",
            "args": [{"visible": [j == i for j in range(len(scales))]}],
        }
        for i, s in enumerate(scales)
    ]
    fig.add_hline(y=0.0, line_dash="dot", line_color="#7f7f7f")
    fig.update_layout(
        sliders=[
            {"active": 0, "currentvalue": {"prefix": "learning-rate scale: "}, "steps": steps}
        ],
        xaxis_title="time slot t",
        yaxis_title="regret(t) / t, in units of the optimum's gain per slot",
        height=430,
        showlegend=False,
    )
    return fig


def regret_horizon_figure(table: pd.DataFrame) -> go.Figure:
    """Regret over ``T`` divided by ``T`` (share of the optimum's gain per slot) against ``T``,
    for INFIDA's integral allocations and its fractional state, with a ``1/sqrt(T)`` guide."""
    fig = go.Figure()
    T = table["T"].to_numpy(float)
    for col, name, dash in (
        ("regret/T / optimum", "INFIDA (integral allocations)", None),
        ("fractional regret/T / optimum", "INFIDA (fractional state)", "dash"),
    ):
        fig.add_trace(
            go.Scatter(
                x=T,
                y=table[col],
                name=name,
                mode="lines+markers",
                line={"color": COLOURS["INFIDA"], "dash": dash},
                hovertemplate="T = %{x}: %{y:.3%}<extra>" + name + "</extra>",
            )
        )
    first = float(table["fractional regret/T / optimum"].iloc[0])
    fig.add_trace(
        go.Scatter(
            x=T,
            y=first * np.sqrt(T[0] / T),
            name="~ 1/sqrt(T)",
            line={"color": "#7f7f7f", "dash": "dot"},
            hoverinfo="skip",
        )
    )
    fig.add_hline(y=0.0, line_color="#cccccc")
    fig.update_layout(
        xaxis={"type": "log", "title": "horizon T (slots)"},
        yaxis={"title": "regret(T) / T, share of the optimum's gain per slot", "tickformat": ".2%"},
        height=420,
    )
    return fig


def placement_dashboard(
    topology: Topology, catalogue: list[CatalogueModel], *, horizon: int = 200, **demand: object
):
    """ipywidgets explorer: alpha, demand kind and learning-rate scale; reruns a short
    comparison (``horizon`` slots) on every change and shows :func:`placement_gain_figure` and the table."""
    import ipywidgets as widgets
    from IPython.display import display

    def view(alpha: float, demand_kind: str, lr_scale: float) -> None:
        inst = build_instance(topology, catalogue, alpha=alpha)
        loads = make_loads(inst, horizon, kind=demand_kind, **demand)
        comp = compare_policies(inst, loads, lr_scale=lr_scale)
        show(placement_gain_figure({demand_kind: comp}))
        display(comp.table().round(3))

    return widgets.interactive(
        view,
        alpha=widgets.FloatLogSlider(
            value=100, base=10, min=0, max=3, description="κ (ms)", continuous_update=False
        ),
        demand_kind=widgets.Dropdown(
            options=["stationary", "shifting", "diurnal"], description="demand"
        ),
        lr_scale=widgets.FloatLogSlider(
            value=300, base=10, min=1, max=4, description="lr scale", continuous_update=False
        ),
    )
