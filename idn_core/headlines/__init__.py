"""Layer 4 (beside views): every chapter's headline on a scenario of the suite.

What the "Across scenarios" chapter and ``benchmarks/scenarios.py`` report, computed once
here through the same library calls as the chapters: :class:`SuiteSettings` (the
chapter's suite-sized defaults and its quick preset, :mod:`.settings`); one function per
headline (:mod:`.path_headlines`: serve or forward, combining the path's models, delivery
under load, carried evidence, all sharing one :class:`DeliveryRun`;
:mod:`.training_headlines`: placement and federated early exits, from the scenario's
name); and :func:`scenario_headlines`, the per-scenario table (:mod:`.table`). It may
import layers 0-3; views does not import it, nor does it import views.
"""

from idn_core.headlines.path_headlines import (
    LOAD_FAMILY,
    CombinationHeadline,
    DeliveryHeadline,
    DeliveryRun,
    EvidenceHeadline,
    LoadHeadline,
    delivery_run,
    headline_accuracy,
    headline_combination,
    headline_delivery,
    headline_evidence,
    headline_load,
)
from idn_core.headlines.settings import SuiteSettings
from idn_core.headlines.table import (
    ACCURACY_TIERS,
    scenario_headlines,
    scenario_row,
    verdict,
)
from idn_core.headlines.training_headlines import (
    EXIT_SERVING_SPLIT,
    PLACEMENT_DEMAND,
    EarlyExitHeadline,
    PlacementHeadline,
    headline_early_exit,
    headline_placement,
)

__all__ = [
    "ACCURACY_TIERS",
    "CombinationHeadline",
    "DeliveryHeadline",
    "DeliveryRun",
    "EXIT_SERVING_SPLIT",
    "EarlyExitHeadline",
    "EvidenceHeadline",
    "LOAD_FAMILY",
    "LoadHeadline",
    "PLACEMENT_DEMAND",
    "PlacementHeadline",
    "SuiteSettings",
    "delivery_run",
    "headline_accuracy",
    "headline_combination",
    "headline_delivery",
    "headline_early_exit",
    "headline_evidence",
    "headline_load",
    "headline_placement",
    "scenario_headlines",
    "scenario_row",
    "verdict",
]
