"""Layer 2: the IDN itself.

Nodes, links and tiers (:mod:`.topology`), which models each node holds (:mod:`.deployment`),
the latency of answering or querying along a path (:mod:`.latency`,
:mod:`.query_latency`), and the book's running scenario (:mod:`.scenario`).
"""

from idn_core.network.deployment import (
    Placement,
)
from idn_core.network.latency import (
    PathLatency,
    path_latency,
    pattern_codes,
    select_tiers,
)
from idn_core.network.query_latency import (
    QUERY_MODES,
    QueryLatency,
    member_latency,
    with_mode,
)
from idn_core.network.scenario import (
    Scenario,
    load_scenario,
    scenario_latency,
)
from idn_core.network.topology import (
    TIER_DEFAULTS,
    UPLINK_LATENCY_MS,
    Link,
    Node,
    Topology,
    path_topology,
    tree_topology,
)

__all__ = [
    "Link",
    "Node",
    "PathLatency",
    "Placement",
    "QUERY_MODES",
    "QueryLatency",
    "Scenario",
    "TIER_DEFAULTS",
    "Topology",
    "UPLINK_LATENCY_MS",
    "load_scenario",
    "member_latency",
    "path_latency",
    "path_topology",
    "pattern_codes",
    "scenario_latency",
    "select_tiers",
    "tree_topology",
    "with_mode",
]
