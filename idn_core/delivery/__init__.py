"""Layer 3: serve locally or forward.

A policy's choice per request (:class:`Decision`) and its evaluation (:mod:`.evaluation`),
the policies (:mod:`.policies`), threshold search (:mod:`.search`), exact per-sample weights
(:mod:`.sample_weights`), the oracle bound (:mod:`.oracle_bound`), experiments and
diagnostics over every policy family (:mod:`.experiments`, :mod:`.diagnostics`), the
playground's configuration model (:mod:`.playground`), and delivery under load: any
decision through the network's queues with deadlines and shedding (:mod:`.under_load`),
decentralised adaptive rules simulated exactly (:mod:`.feedback`) and their comparison
from light load to overload (:mod:`.load_comparison`).
"""

from idn_core.delivery.diagnostics import (
    random_halves,
    rule_outcomes,
    tolerance_coverage,
    what_if,
)
from idn_core.delivery.evaluation import (
    Decision,
    Outcome,
    evaluate,
    pareto_front,
    summarize,
)
from idn_core.delivery.experiments import (
    DeliverySetup,
    cascade_choice,
    choose_policies,
    family_curve,
    gain_aware_choice,
    gain_aware_curve,
    headline,
    oracle_test_frontier,
    prepare_delivery,
)
from idn_core.delivery.feedback import (
    AdaptiveRun,
    DeadlineGainRule,
    FeedbackRule,
    simulate_adaptive,
)
from idn_core.delivery.load_comparison import (
    POLICIES_UNDER_LOAD,
    LoadSetup,
    compare_under_load,
    prepare_load,
    stream_at,
    tier_response,
    varying_rate_run,
)
from idn_core.delivery.oracle_bound import (
    oracle_accuracy_at,
    oracle_accuracy_at_fraction,
    oracle_frontier,
    oracle_latency_for,
)
from idn_core.delivery.playground import (
    POLICIES,
    Playground,
    PlaygroundResult,
)
from idn_core.delivery.policies import (
    GainAwareForwarding,
    LearnedForwarding,
    cascade_answer,
    cascade_decision,
    check_thresholds,
    effective_thresholds,
    forward_to,
    forwarding_features,
    local_only,
    oracle_answer,
    oracle_decision,
)
from idn_core.delivery.sample_weights import (
    SampleWeights,
    decision_metrics,
    gap_bound,
    request_weights,
    reweighted,
    uniform_weights,
)
from idn_core.delivery.search import (
    CascadeGrid,
    cascade_grid,
    cascade_metrics,
    choose_within_tolerance,
    threshold_candidates,
)
from idn_core.delivery.under_load import (
    LoadOutcome,
    best_static_thresholds,
    evaluate_under_load,
    request_subset,
    routes_under_load,
)

__all__ = [
    "AdaptiveRun",
    "CascadeGrid",
    "DeadlineGainRule",
    "Decision",
    "DeliverySetup",
    "FeedbackRule",
    "GainAwareForwarding",
    "LearnedForwarding",
    "LoadOutcome",
    "LoadSetup",
    "Outcome",
    "POLICIES",
    "POLICIES_UNDER_LOAD",
    "Playground",
    "PlaygroundResult",
    "SampleWeights",
    "best_static_thresholds",
    "cascade_answer",
    "cascade_choice",
    "cascade_decision",
    "cascade_grid",
    "cascade_metrics",
    "check_thresholds",
    "choose_policies",
    "choose_within_tolerance",
    "compare_under_load",
    "decision_metrics",
    "effective_thresholds",
    "evaluate",
    "evaluate_under_load",
    "family_curve",
    "forward_to",
    "forwarding_features",
    "gain_aware_choice",
    "gain_aware_curve",
    "gap_bound",
    "headline",
    "local_only",
    "oracle_accuracy_at",
    "oracle_accuracy_at_fraction",
    "oracle_answer",
    "oracle_decision",
    "oracle_frontier",
    "oracle_latency_for",
    "oracle_test_frontier",
    "pareto_front",
    "prepare_delivery",
    "prepare_load",
    "random_halves",
    "request_subset",
    "request_weights",
    "reweighted",
    "routes_under_load",
    "rule_outcomes",
    "simulate_adaptive",
    "stream_at",
    "summarize",
    "threshold_candidates",
    "tier_response",
    "tolerance_coverage",
    "uniform_weights",
    "varying_rate_run",
    "what_if",
]
