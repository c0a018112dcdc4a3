"""Layer 3: where models go, under memory and compute budgets.

The model catalogue (:mod:`.catalogue`), the cost/gain instance of Si Salem et al. 2024
(:mod:`.instance`, :mod:`.shared_capacity`), INFIDA (:mod:`.infida`), static baselines
(:mod:`.baselines`), seeded demand and the per-slot simulation (:mod:`.demand`), and the
experiments and tables built on the book's zoos (:mod:`.experiments`, :mod:`.tables`).
"""

from idn_core.placement.baselines import (
    LocalGreedy,
    MilpVariables,
    StaticPolicy,
    StaticSolution,
    brute_force_static,
    greedy_static,
    local_greedy_allocation,
    marginal_gains,
    milp_variables,
    optimal_static,
)
from idn_core.placement.catalogue import (
    CatalogueModel,
    catalogue_from_zoos,
    compute_capacity,
)
from idn_core.placement.demand import (
    DEMAND_KINDS,
    PlacementPolicy,
    SimulationResult,
    expected_rates,
    make_loads,
    regret_over_time,
    sample_loads,
    simulate_slots,
    zipf_popularity,
)
from idn_core.placement.experiments import (
    SHARE,
    PlacementComparison,
    alpha_sweep,
    compare_policies,
    infida_policy,
    infida_variant_ratios,
    phase_optimum_ratio,
    placement_catalogue,
    placement_topology,
    serving_summary,
)
from idn_core.placement.infida import (
    Infida,
    depround,
    depround_bias,
    effective_budgets,
    integral_levels,
    project_capped_simplex,
    theory_learning_rate,
)
from idn_core.placement.instance import (
    PlacementInstance,
    build_instance,
    cumulative_capacity,
    from_placement,
    gain,
    served,
    subgradient,
    to_placement,
)
from idn_core.placement.shared_capacity import (
    shared_capacity_gain,
)
from idn_core.placement.tables import (
    candidate_table,
    capacity_model_table,
    depround_table,
    infida_step_sweep,
    regret_vs_horizon,
    timing_table,
)

__all__ = [
    "CatalogueModel",
    "DEMAND_KINDS",
    "Infida",
    "LocalGreedy",
    "MilpVariables",
    "PlacementComparison",
    "PlacementInstance",
    "PlacementPolicy",
    "SHARE",
    "SimulationResult",
    "StaticPolicy",
    "StaticSolution",
    "alpha_sweep",
    "brute_force_static",
    "build_instance",
    "candidate_table",
    "capacity_model_table",
    "catalogue_from_zoos",
    "compare_policies",
    "compute_capacity",
    "cumulative_capacity",
    "depround",
    "depround_bias",
    "depround_table",
    "effective_budgets",
    "expected_rates",
    "from_placement",
    "gain",
    "greedy_static",
    "infida_policy",
    "infida_step_sweep",
    "infida_variant_ratios",
    "integral_levels",
    "local_greedy_allocation",
    "make_loads",
    "marginal_gains",
    "milp_variables",
    "optimal_static",
    "phase_optimum_ratio",
    "placement_catalogue",
    "placement_topology",
    "project_capped_simplex",
    "regret_over_time",
    "regret_vs_horizon",
    "sample_loads",
    "served",
    "serving_summary",
    "shared_capacity_gain",
    "simulate_slots",
    "subgradient",
    "theory_learning_rate",
    "timing_table",
    "to_placement",
    "zipf_popularity",
]
