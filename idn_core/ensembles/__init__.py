"""Layer 3: combining inferences across nodes.

Combining rules, stacking and query-on-doubt (:mod:`.combining`), ensembles placed on a
path (:mod:`.paths`), member architectures (:mod:`.members`), bagging and SAMME boosting
(:mod:`.bagging`, :mod:`.boosting`), and the comparison with cascades (:mod:`.comparison`).
"""

from idn_core.ensembles.bagging import (
    SEED_OFFSET,
    Members,
    accuracy_vs_members,
    boosting_rate_sweep,
    bootstrap_indices,
    outputs_of,
    skew_sweep,
    train_bagged,
    train_boosted,
)
from idn_core.ensembles.boosting import (
    SammeResult,
    early_stop_decision,
    samme,
    samme_decision_function,
    samme_predict,
)
from idn_core.ensembles.combining import (
    RULES,
    VOTE_WEIGHTINGS,
    Stacking,
    combine,
    ensemble_cascade_decision,
    full_ensemble_decision,
    hard_vote,
    log_vote,
    query_on_doubt_decision,
    running_combination,
    soft_vote,
    stacked_running,
    vote_counts,
    vote_weights,
)
from idn_core.ensembles.comparison import (
    EnsembleComparison,
    boosted_ensemble,
    boosting_rows,
    chapter2_choice,
    committee_ensemble,
    compare,
    ensemble_runs,
    place_committees,
    query_on_doubt_sweep,
)
from idn_core.ensembles.members import (
    boosting_specs,
    member_specs,
)
from idn_core.ensembles.paths import (
    PathEnsemble,
    path_ensemble,
    rule_accuracies,
    stage_decision,
    stage_latency,
    stage_running,
)

__all__ = [
    "EnsembleComparison",
    "Members",
    "PathEnsemble",
    "RULES",
    "SEED_OFFSET",
    "SammeResult",
    "Stacking",
    "VOTE_WEIGHTINGS",
    "accuracy_vs_members",
    "boosted_ensemble",
    "boosting_rate_sweep",
    "boosting_rows",
    "boosting_specs",
    "bootstrap_indices",
    "chapter2_choice",
    "combine",
    "committee_ensemble",
    "compare",
    "early_stop_decision",
    "ensemble_cascade_decision",
    "ensemble_runs",
    "full_ensemble_decision",
    "hard_vote",
    "log_vote",
    "member_specs",
    "outputs_of",
    "path_ensemble",
    "place_committees",
    "query_on_doubt_decision",
    "query_on_doubt_sweep",
    "rule_accuracies",
    "running_combination",
    "samme",
    "samme_decision_function",
    "samme_predict",
    "skew_sweep",
    "soft_vote",
    "stacked_running",
    "stage_decision",
    "stage_latency",
    "stage_running",
    "train_bagged",
    "train_boosted",
    "vote_counts",
    "vote_weights",
]
