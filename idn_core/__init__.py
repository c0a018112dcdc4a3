"""idn_core: cooperative inference strategies in Inference Delivery Networks.

The library behind the IDN Book. Model outputs are computed once (``zoo``), delivery
is evaluated many times on the resulting :class:`OutputsTable` with array functions.
"""

from idn_core.bagging import Members, train_bagged, train_boosted
from idn_core.boosting import SammeResult, early_stop_decision, samme
from idn_core.confidence import SCORES, confidence, fit_temperatures, reliability_curve
from idn_core.data import (
    DATASETS,
    Dataset,
    load_dataset,
    partition_by_shares,
    partition_dirichlet,
    partition_iid,
    partition_quantity,
)
from idn_core.delivery_training import DeliveryTrainingResult, run_delivery_training
from idn_core.demand import SimulationResult, make_loads, simulate
from idn_core.deployment import Placement
from idn_core.early_exit import EarlyExitNet
from idn_core.early_exit_training import (
    EarlyExitConfig,
    EarlyExitResult,
    evaluate_serving,
    run_early_exit,
    sweep_early_exit,
)
from idn_core.ensemble_compare import Comparison, compare
from idn_core.ensembles import Stacking, hard_vote, log_vote, soft_vote, vote_weights
from idn_core.evaluate import (
    Decision,
    Outcome,
    RequestStream,
    evaluate,
    make_requests,
    pareto_front,
    summarize,
)
from idn_core.exit_weights import WEIGHTINGS, aggregate_exit_updates, lambda_tilde
from idn_core.federated import FedAvgResult, client_update, run_fedavg, weighted_average
from idn_core.infida import Infida, depround, project_capped_simplex
from idn_core.models import MLP, CNN1d, ModelProfile, ModelSpec, profile_model
from idn_core.outputs import OutputsTable, softmax
from idn_core.path_latency import PathLatency, scenario_latency
from idn_core.placement import (
    CatalogueModel,
    PlacementInstance,
    build_instance,
    catalogue_from_zoos,
)
from idn_core.placement_baselines import LocalGreedy, greedy_static, optimal_static
from idn_core.playground import Playground, PlaygroundResult
from idn_core.policies import (
    GainAwareForwarding,
    LearnedForwarding,
    cascade_decision,
    forward_to,
    local_only,
    oracle_decision,
)
from idn_core.policy_search import (
    cascade_grid,
    oracle_frontier,
    request_weights,
    threshold_candidates,
    uniform_weights,
)
from idn_core.query_latency import QueryLatency, member_latency
from idn_core.scenario import Scenario, load_scenario
from idn_core.topology import TIERS, Link, Node, Topology, path_topology, tree_topology
from idn_core.training import TrainedModel, fit, train_model
from idn_core.zoo import Zoo, build_zoo, zoo_specs

__all__ = [
    "Members",
    "train_bagged",
    "train_boosted",
    "SammeResult",
    "early_stop_decision",
    "samme",
    "Comparison",
    "compare",
    "Stacking",
    "hard_vote",
    "log_vote",
    "soft_vote",
    "vote_weights",
    "QueryLatency",
    "member_latency",
    "Playground",
    "PlaygroundResult",
    "DeliveryTrainingResult",
    "EarlyExitConfig",
    "EarlyExitNet",
    "EarlyExitResult",
    "FedAvgResult",
    "WEIGHTINGS",
    "aggregate_exit_updates",
    "client_update",
    "evaluate_serving",
    "lambda_tilde",
    "run_delivery_training",
    "run_early_exit",
    "run_fedavg",
    "sweep_early_exit",
    "weighted_average",
    "CatalogueModel",
    "Infida",
    "LocalGreedy",
    "PlacementInstance",
    "SimulationResult",
    "build_instance",
    "catalogue_from_zoos",
    "depround",
    "greedy_static",
    "make_loads",
    "optimal_static",
    "project_capped_simplex",
    "simulate",
    "SCORES",
    "confidence",
    "fit_temperatures",
    "reliability_curve",
    "Decision",
    "Outcome",
    "RequestStream",
    "evaluate",
    "make_requests",
    "pareto_front",
    "summarize",
    "PathLatency",
    "scenario_latency",
    "GainAwareForwarding",
    "LearnedForwarding",
    "cascade_decision",
    "forward_to",
    "local_only",
    "oracle_decision",
    "cascade_grid",
    "oracle_frontier",
    "request_weights",
    "threshold_candidates",
    "uniform_weights",
    "CNN1d",
    "DATASETS",
    "Dataset",
    "Link",
    "MLP",
    "ModelProfile",
    "ModelSpec",
    "Node",
    "OutputsTable",
    "Placement",
    "Scenario",
    "TIERS",
    "Topology",
    "TrainedModel",
    "Zoo",
    "build_zoo",
    "fit",
    "load_dataset",
    "load_scenario",
    "partition_by_shares",
    "partition_dirichlet",
    "partition_iid",
    "partition_quantity",
    "path_topology",
    "profile_model",
    "softmax",
    "train_model",
    "tree_topology",
    "zoo_specs",
]

__version__ = "0.1.0"
