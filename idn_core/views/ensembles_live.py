"""ipywidgets dashboard of chapter 3 (live kernel): a cascade of ensembles, tuned by hand.

Every change re-evaluates the policy on the whole request stream with the same vectorised
evaluator as the rest of the book (a few milliseconds for 10^5 requests).
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from idn_core.delivery.evaluation import evaluate, summarize
from idn_core.ensembles.comparison import EnsembleComparison, ensemble_runs
from idn_core.ensembles.paths import PathEnsemble, stage_decision
from idn_core.network.query_latency import QUERY_MODES, with_mode
from idn_core.network.requests import RequestStream
from idn_core.views.display import show


def ensemble_explorer(ens: PathEnsemble, requests: RequestStream, comp: EnsembleComparison):
    """Dashboard: combination rule, per-stage thresholds and query mode -> metrics and plot.

    Parameters
    ----------
    ens : the path ensemble (members, stages, latencies).
    requests : the test request stream.
    comp : the chapter's comparison (its cascade front and oracle are drawn for reference).

    Returns an ``ipywidgets.interactive``.
    """
    import ipywidgets as widgets
    from IPython.display import HTML, display

    runs = {rule: rt for rule, (_, rt) in ensemble_runs(ens).items()}
    stage = ens.stage_of_member()
    n_stops = int(stage[-1])

    def view(rule: str, mode: str, **thresholds: float) -> None:
        t = np.array([thresholds[f"stage{h}"] for h in range(n_stops)])
        d = stage_decision(runs[rule], stage, t)
        row = summarize(evaluate(d, ens.test, requests, with_mode(ens.latency, mode)))
        display(
            HTML(
                f"accuracy <b>{row['accuracy']:.4f}</b>, mean latency "
                f"<b>{row['latency_ms']:.2f} ms</b>, p95 {row['p95_ms']:.1f} ms, "
                f"models queried {row['models_queried']:.2f}"
            )
        )
        show(_explorer_figure(comp, row))

    sliders = {
        f"stage{h}": widgets.FloatSlider(
            value=0.8, min=0.0, max=1.0, step=0.01, description=f"stop at stage {h}"
        )
        for h in range(n_stops)
    }
    return widgets.interactive(
        view,
        rule=widgets.Dropdown(options=list(runs), value="weighted log vote", description="rule"),
        mode=widgets.Dropdown(options=list(QUERY_MODES), value="relay", description="queries"),
        **sliders,
    )


def _explorer_figure(comp: EnsembleComparison, row: dict) -> go.Figure:
    """The oracle, the cascade front and the hand-tuned ensemble cascade's test point."""
    casc = comp.fronts["cascade"]
    fig = go.Figure()
    fig.add_scatter(
        x=comp.oracle.latency_ms,
        y=comp.oracle.accuracy,
        name="oracle",
        line={"dash": "dot", "color": "black"},
    )
    fig.add_scatter(x=casc.latency_ms, y=casc.accuracy, name="cascade (chapter 2)")
    fig.add_scatter(
        x=[row["latency_ms"]],
        y=[row["accuracy"]],
        name="your ensemble cascade",
        mode="markers",
        marker={"size": 16, "color": "#d62728", "symbol": "star"},
    )
    fig.update_layout(height=400, xaxis_title="mean latency (ms)", yaxis_title="test accuracy")
    return fig
