"""Federated early-exit networks (Kaplan et al. 2024, arXiv 2405.04249).

The nested network (:mod:`.net`), exit weightings and per-exit aggregation
(:mod:`.weights`), serving on a tree (:mod:`.serving`), the run's configuration and plan
(:mod:`.config`, :mod:`.plan`), one round (:mod:`.rounds`), the training loop
(:mod:`.training`), its Flower twin (:mod:`.flower`) and scenario grids (:mod:`.experiments`).
"""

from idn_core.federated.early_exit.config import (
    DEEPEST_ONLY,
    LOWER_EXITS,
    EarlyExitConfig,
)
from idn_core.federated.early_exit.experiments import (
    DATA_SPLITS,
    data_split_name,
    exit_summary,
    gain_at,
    parse_split,
    participation_study,
    scenario_configs,
    split_label,
    weighting_gains,
)
from idn_core.federated.early_exit.flower import (
    early_exit_client_app,
    make_early_exit_strategy,
    run_early_exit_flower,
)
from idn_core.federated.early_exit.net import (
    EarlyExitNet,
    ExitUpdate,
    exit_flops,
    exit_logits,
    exit_parameter_names,
    local_exit_update,
)
from idn_core.federated.early_exit.plan import (
    ExitPlan,
    node_depths,
    node_partitions,
    participation_matrix,
    plan_early_exit,
)
from idn_core.federated.early_exit.rounds import (
    draw_exits,
    node_exit_updates,
    server_round,
)
from idn_core.federated.early_exit.serving import (
    assign_devices,
    normalised_entropy,
    serve_on_tree,
    serving_metrics,
)
from idn_core.federated.early_exit.training import (
    EarlyExitResult,
    early_exit_key,
    evaluate_serving,
    run_early_exit,
    sweep_early_exit,
)
from idn_core.federated.early_exit.weights import (
    EXIT_WEIGHTINGS,
    aggregate_exit_updates,
    check_participation,
    check_serving_split,
    exit_data_shares,
    lambda_tilde,
    variance_weights,
)

__all__ = [
    "DATA_SPLITS",
    "DEEPEST_ONLY",
    "EXIT_WEIGHTINGS",
    "EarlyExitConfig",
    "EarlyExitNet",
    "EarlyExitResult",
    "ExitPlan",
    "ExitUpdate",
    "LOWER_EXITS",
    "aggregate_exit_updates",
    "assign_devices",
    "check_participation",
    "check_serving_split",
    "data_split_name",
    "draw_exits",
    "early_exit_client_app",
    "early_exit_key",
    "evaluate_serving",
    "exit_data_shares",
    "exit_flops",
    "exit_logits",
    "exit_parameter_names",
    "exit_summary",
    "gain_at",
    "lambda_tilde",
    "local_exit_update",
    "make_early_exit_strategy",
    "node_depths",
    "node_exit_updates",
    "node_partitions",
    "normalised_entropy",
    "parse_split",
    "participation_matrix",
    "participation_study",
    "plan_early_exit",
    "run_early_exit",
    "run_early_exit_flower",
    "scenario_configs",
    "serve_on_tree",
    "server_round",
    "serving_metrics",
    "split_label",
    "sweep_early_exit",
    "variance_weights",
    "weighting_gains",
]
