"""Layer 3: federated training and how delivery changes it.

FedAvg (:mod:`.fedavg`) over the pure round pieces (:mod:`.rounds`), delivery-aware
training (:mod:`.delivery_aware`), multi-seed experiments (:mod:`.experiments`), federated
early-exit networks (:mod:`.early_exit`), and the optional Flower backend
(:mod:`.flower_engine`, :mod:`.fedavg_flower`), which imports ``flwr`` only when used.
"""

from idn_core.federated import early_exit
from idn_core.federated.delivery_aware import (
    DeliveryTrainingResult,
    check_serving_shares,
    max_confidence,
    reach_weights,
    result_logits,
    run_delivery_training,
    served_accuracy,
    share_thresholds,
    tradeoff_curve,
)
from idn_core.federated.early_exit import EarlyExitConfig, EarlyExitResult, run_early_exit
from idn_core.federated.experiments import (
    CASCADE_SPECS,
    SCHEMES,
    delivery_study,
    fedavg_study,
    make_partitions,
    mean_std,
    tier_latencies_ms,
)
from idn_core.federated.fedavg import (
    FedAvgJob,
    FedAvgResult,
    node_test_indices,
    per_node_accuracy,
    run_fedavg,
)
from idn_core.federated.flower_engine import (
    BACKENDS,
    backend_config,
)
from idn_core.federated.rounds import (
    ClientUpdate,
    check_sample_weight,
    client_seed,
    client_update,
    sample_clients,
    weighted_average,
)

__all__ = [
    "BACKENDS",
    "CASCADE_SPECS",
    "ClientUpdate",
    "DeliveryTrainingResult",
    "EarlyExitConfig",
    "EarlyExitResult",
    "FedAvgJob",
    "FedAvgResult",
    "SCHEMES",
    "backend_config",
    "check_sample_weight",
    "check_serving_shares",
    "client_seed",
    "client_update",
    "delivery_study",
    "early_exit",
    "fedavg_study",
    "make_partitions",
    "max_confidence",
    "mean_std",
    "node_test_indices",
    "per_node_accuracy",
    "reach_weights",
    "result_logits",
    "run_delivery_training",
    "run_early_exit",
    "run_fedavg",
    "sample_clients",
    "served_accuracy",
    "share_thresholds",
    "tier_latencies_ms",
    "tradeoff_curve",
    "weighted_average",
]
