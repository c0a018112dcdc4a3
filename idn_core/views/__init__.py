"""Layer 4: what the reader sees.

``<topic>.py`` holds static plotly figures (``*_figure``, with sliders and buttons that
work without a kernel); ``<topic>_live.py`` holds ipywidgets explorers and dashboards for a
live notebook; :mod:`.display` shows a figure in a notebook and glues it into the book.
Only views, the book build and notebooks import this package.
"""

from idn_core.views.delivery import (
    cascade_tradeoff_figure,
    confidence_histograms,
    distinct_labels,
    gain_aware_alpha_figure,
    reliability_figure,
    slider_figure,
    threshold_heatmaps,
)
from idn_core.views.delivery_live import (
    DeliveryExplorer,
    explorer_slider_figure,
)
from idn_core.views.display import (
    figure_html,
    glue_figure,
    in_book_build,
    show,
)
from idn_core.views.ensembles import (
    bagging_figure,
    boosting_figure,
    ensemble_load_figure,
    ensemble_tradeoff_figure,
)
from idn_core.views.ensembles_live import (
    ensemble_explorer,
)
from idn_core.views.federated import (
    delivery_history_figure,
    delivery_tradeoff_figure,
    exit_accuracy_figure,
    fedavg_curves_figure,
    lambda_figure,
    node_accuracy_figure,
    weighting_gain_figure,
)
from idn_core.views.federated_live import (
    delivery_training_explorer,
    early_exit_explorer,
)
from idn_core.views.load import (
    capacity_region_figure,
    knee_figure,
    load_policy_figure,
    policy_rate_slider_figure,
    simpy_check_figure,
    varying_rate_figure,
)
from idn_core.views.load_live import (
    LIVE_POLICIES,
    busy_state,
    load_dashboard,
)
from idn_core.views.placement import (
    placement_alpha_figure,
    placement_dashboard,
    placement_gain_figure,
    regret_figure,
    regret_horizon_figure,
)
from idn_core.views.playground import (
    PlaygroundSweep,
    playground_figure,
    playground_sweep,
)
from idn_core.views.playground_live import (
    PlaygroundDashboard,
    result_html,
)
from idn_core.views.scenario import (
    signals_figure,
    tier_tradeoff_figure,
    topology_figure,
    tree_layout,
    zoo_figure,
)
from idn_core.views.suite import (
    suite_headlines_figure,
)
from idn_core.views.sweep import (
    sweep_figure,
)
from idn_core.views.tables import (
    glue_zoo_accuracy,
    readable_frame,
    readable_table,
    zoo_accuracy_pct,
)

__all__ = [
    "DeliveryExplorer",
    "LIVE_POLICIES",
    "PlaygroundDashboard",
    "PlaygroundSweep",
    "bagging_figure",
    "boosting_figure",
    "busy_state",
    "capacity_region_figure",
    "cascade_tradeoff_figure",
    "confidence_histograms",
    "delivery_history_figure",
    "delivery_tradeoff_figure",
    "delivery_training_explorer",
    "distinct_labels",
    "early_exit_explorer",
    "ensemble_explorer",
    "ensemble_load_figure",
    "ensemble_tradeoff_figure",
    "exit_accuracy_figure",
    "explorer_slider_figure",
    "fedavg_curves_figure",
    "figure_html",
    "gain_aware_alpha_figure",
    "glue_figure",
    "glue_zoo_accuracy",
    "in_book_build",
    "knee_figure",
    "lambda_figure",
    "load_dashboard",
    "load_policy_figure",
    "node_accuracy_figure",
    "placement_alpha_figure",
    "placement_dashboard",
    "placement_gain_figure",
    "playground_figure",
    "playground_sweep",
    "policy_rate_slider_figure",
    "readable_frame",
    "readable_table",
    "regret_figure",
    "regret_horizon_figure",
    "reliability_figure",
    "result_html",
    "show",
    "signals_figure",
    "simpy_check_figure",
    "slider_figure",
    "suite_headlines_figure",
    "sweep_figure",
    "threshold_heatmaps",
    "tier_tradeoff_figure",
    "topology_figure",
    "tree_layout",
    "varying_rate_figure",
    "weighting_gain_figure",
    "zoo_accuracy_pct",
    "zoo_figure",
]
