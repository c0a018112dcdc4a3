"""Layer 1: data, models and what models say.

Offline datasets and partitions (:mod:`.data`), graded torch classifiers and their cost
profiles (:mod:`.models`), seeded cached training (:mod:`.training`), the model zoo
(:mod:`.zoo`), the outputs table of every model's probabilities (:mod:`.outputs`),
confidence scores and calibration (:mod:`.scores`), and model weights as plain arrays
(:mod:`.state`).
"""

from idn_core.learning.data import (
    DATASETS,
    MNIST1D_SCENARIO,
    Dataset,
    load_dataset,
    partition_by_shares,
    partition_dirichlet,
    partition_iid,
    partition_quantity,
)
from idn_core.learning.models import (
    ARCHITECTURES,
    MLP,
    TIERS,
    CNN1d,
    ModelProfile,
    ModelSpec,
    count_flops,
    count_parameters,
    measure_cpu_latency_ms,
    profile_model,
)
from idn_core.learning.outputs import (
    OutputsTable,
    softmax,
)
from idn_core.learning.scores import (
    SCORES,
    confidence,
    error_detection_auc,
    expected_calibration_error,
    fit_temperature,
    fit_temperatures,
    reliability_curve,
    table_confidences,
)
from idn_core.learning.state import (
    load_state,
    module_state,
)
from idn_core.learning.training import (
    TRAIN_JOBS_ENV,
    TrainedModel,
    TrainingRequest,
    fit,
    predict_logits,
    pretrain,
    progress_enabled,
    random_circular_shift,
    train_model,
    train_models,
    training_jobs,
)
from idn_core.learning.zoo import (
    ZOO_RECIPES,
    Zoo,
    build_zoo,
    zoo_specs,
)

__all__ = [
    "ARCHITECTURES",
    "CNN1d",
    "DATASETS",
    "Dataset",
    "MLP",
    "MNIST1D_SCENARIO",
    "ModelProfile",
    "ModelSpec",
    "OutputsTable",
    "SCORES",
    "TIERS",
    "TRAIN_JOBS_ENV",
    "TrainedModel",
    "TrainingRequest",
    "ZOO_RECIPES",
    "Zoo",
    "build_zoo",
    "confidence",
    "count_flops",
    "count_parameters",
    "error_detection_auc",
    "expected_calibration_error",
    "fit",
    "fit_temperature",
    "fit_temperatures",
    "load_dataset",
    "load_state",
    "measure_cpu_latency_ms",
    "module_state",
    "partition_by_shares",
    "partition_dirichlet",
    "partition_iid",
    "partition_quantity",
    "predict_logits",
    "pretrain",
    "profile_model",
    "progress_enabled",
    "random_circular_shift",
    "reliability_curve",
    "softmax",
    "table_confidences",
    "train_model",
    "train_models",
    "training_jobs",
    "zoo_specs",
]
