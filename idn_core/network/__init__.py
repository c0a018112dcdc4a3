"""Layer 2: the IDN itself.

Nodes, links and tiers (:mod:`.topology`), which models each node holds (:mod:`.deployment`),
the latency of answering or querying along a path (:mod:`.latency`,
:mod:`.query_latency`), the book's running scenario (:mod:`.scenario`) and the suite of
named scenarios (:mod:`.suite`), timed request
streams (:mod:`.arrivals`), exact FIFO queues (:mod:`.queues`, :mod:`.queue_theory`),
admission control at a station (:mod:`.admission`), deadlines (:mod:`.deadlines`) and a
SimPy cross-check (:mod:`.simpy_check`).
"""

from idn_core.network.admission import (
    fifo_admission,
)
from idn_core.network.arrivals import (
    ArrivalProcess,
    BatchArrivals,
    DiurnalArrivals,
    OnOffArrivals,
    PoissonArrivals,
    TimedRequests,
    poisson_times,
    thinned_arrivals,
    timed_requests,
)
from idn_core.network.deadlines import (
    anytime_answer,
    deadline_metrics,
    request_deadlines,
)
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
from idn_core.network.queue_theory import (
    erlang_c,
    md1_wait_s,
    mm1_wait_s,
    mmc_wait_s,
    utilisation,
)
from idn_core.network.queues import (
    SERVICE_VARIABILITY,
    LinkCapacity,
    LoadNetwork,
    LoadResult,
    NodeCapacity,
    StationLoad,
    evaluate_load,
    fifo_departures,
    network_from_topology,
    scenario_network,
    visits_from_queried,
)
from idn_core.network.requests import (
    RequestStream,
    make_requests,
)
from idn_core.network.scenario import (
    Scenario,
    assemble_scenario,
    load_scenario,
    scenario_latency,
)
from idn_core.network.simpy_check import (
    simpy_fifo_departures,
)
from idn_core.network.suite import (
    RUNNING_SCENARIO,
    SCENARIOS,
    ScenarioSpec,
    get_scenario,
    load_named_scenario,
    require_scenario,
    scenario_dataset,
    scenario_names,
    scenario_topology,
    scenario_zoo,
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
    "ArrivalProcess",
    "BatchArrivals",
    "DiurnalArrivals",
    "Link",
    "LinkCapacity",
    "LoadNetwork",
    "LoadResult",
    "Node",
    "NodeCapacity",
    "OnOffArrivals",
    "PathLatency",
    "Placement",
    "PoissonArrivals",
    "QUERY_MODES",
    "QueryLatency",
    "RUNNING_SCENARIO",
    "RequestStream",
    "SCENARIOS",
    "SERVICE_VARIABILITY",
    "Scenario",
    "ScenarioSpec",
    "StationLoad",
    "TIER_DEFAULTS",
    "TimedRequests",
    "Topology",
    "UPLINK_LATENCY_MS",
    "anytime_answer",
    "assemble_scenario",
    "deadline_metrics",
    "erlang_c",
    "evaluate_load",
    "fifo_admission",
    "fifo_departures",
    "get_scenario",
    "load_named_scenario",
    "load_scenario",
    "make_requests",
    "md1_wait_s",
    "member_latency",
    "mm1_wait_s",
    "mmc_wait_s",
    "network_from_topology",
    "path_latency",
    "path_topology",
    "pattern_codes",
    "poisson_times",
    "request_deadlines",
    "require_scenario",
    "scenario_dataset",
    "scenario_latency",
    "scenario_names",
    "scenario_network",
    "scenario_topology",
    "scenario_zoo",
    "select_tiers",
    "simpy_fifo_departures",
    "thinned_arrivals",
    "timed_requests",
    "tree_topology",
    "utilisation",
    "visits_from_queried",
    "with_mode",
]
