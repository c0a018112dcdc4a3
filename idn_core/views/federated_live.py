"""ipywidgets dashboards of the federated chapters (live kernel), over the figure builders."""

from __future__ import annotations

import numpy as np
import pandas as pd

from idn_core.views.display import show
from idn_core.views.federated import weighting_gain_figure


def early_exit_explorer(table: pd.DataFrame):
    """ipywidgets dashboard: choose a data split and a metric, see the gain figure and the table."""
    import ipywidgets as widgets
    from IPython.display import display

    def view(data_split: str, metric: str) -> None:
        show(weighting_gain_figure(table[table.data_split == data_split], metric=metric))
        cols = ["exit1_acc", "exit2_acc", "exit3_acc", "served_acc"]
        sub = table[table.data_split == data_split]
        display(sub.groupby(["serving_split", "weighting"], sort=False)[cols].mean().round(3))

    return widgets.interactive(
        view,
        data_split=widgets.Dropdown(
            options=list(dict.fromkeys(table.data_split)), description="data"
        ),
        metric=widgets.Dropdown(
            options=["served_acc", "exit1_acc", "exit2_acc", "exit3_acc"], description="metric"
        ),
    )


def delivery_training_explorer(tradeoff: pd.DataFrame):
    """ipywidgets dashboard: a threshold slider showing both arms' accuracy and latency."""
    import ipywidgets as widgets
    from IPython.display import display

    thresholds = sorted(tradeoff.threshold.unique())

    def view(threshold: float) -> None:
        t = tradeoff[np.isclose(tradeoff.threshold, threshold)]
        display(t.groupby("arm")[["accuracy", "latency_ms"]].agg(["mean", "std"]).round(3))

    return widgets.interactive(
        view,
        threshold=widgets.SelectionSlider(
            options=[round(float(v), 3) for v in thresholds], description="threshold"
        ),
    )
