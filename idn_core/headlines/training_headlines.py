"""Headlines that train or place their own models from a scenario's name.

Placement builds a catalogue from the scenario's zoo and the digits zoo on the placement
tree; federated early exits train their own networks on the scenario's dataset. Neither
uses the scenario's tree, so both take the scenario's *name* (a loaded scenario does not
say which suite entry it came from).
"""

from __future__ import annotations

from dataclasses import dataclass

from idn_core._util.validation import check_type
from idn_core.federated.early_exit import (
    EarlyExitConfig,
    gain_at,
    scenario_configs,
    sweep_early_exit,
)
from idn_core.headlines.settings import SuiteSettings
from idn_core.network import get_scenario, scenario_dataset
from idn_core.placement import (
    build_instance,
    compare_policies,
    make_loads,
    placement_catalogue,
    placement_topology,
)

__all__ = [
    "EXIT_SERVING_SPLIT",
    "PLACEMENT_DEMAND",
    "EarlyExitHeadline",
    "PlacementHeadline",
    "headline_early_exit",
    "headline_placement",
]

#: Shifting demand of the placement headline: total rate (requests per slot), Zipf
#: exponents of task popularity and of the devices' shares.
PLACEMENT_DEMAND = {"rate": 2000.0, "task_exponent": 1.5, "device_exponent": 0.8}
#: Serving split (device-edge-cloud, %) of the early-exit headline.
EXIT_SERVING_SPLIT = "80-15-5"


@dataclass(frozen=True)
class PlacementHeadline:
    """INFIDA's time-averaged gain under shifting demand over the offline static optimum's,
    and over the static greedy's (ratios, seed 0)."""

    infida_over_optimum: float
    infida_over_greedy: float


@dataclass(frozen=True)
class EarlyExitHeadline:
    """Served accuracy of serving-rate exit weights minus equal weights at
    :data:`EXIT_SERVING_SPLIT`: mean and standard deviation over paired seeds (pp)."""

    serving_gain_pp: float
    serving_gain_sd: float


def _checked(name: str, settings: SuiteSettings | None) -> SuiteSettings:
    check_type("name", name, str)
    get_scenario(name)  # ValueError naming the suite if unknown
    settings = SuiteSettings() if settings is None else settings
    check_type("settings", settings, SuiteSettings)
    return settings


def headline_placement(name: str, settings: SuiteSettings | None = None) -> PlacementHeadline:
    """Placement under shifting demand (``settings.n_tasks`` tasks alternating between the
    scenario's zoo and the digits zoo, ``settings.horizon`` slots in four phases, alpha
    100, 100 ms slots): :func:`~idn_core.placement.compare_policies` over the whole run."""
    settings = _checked(name, settings)
    catalogue = placement_catalogue(
        settings.n_tasks,
        num_samples=settings.num_samples,
        epochs=settings.epochs or None,
        scenario=name,
    )
    inst = build_instance(placement_topology(), catalogue, alpha=100.0, slot_ms=100.0)
    loads = make_loads(
        inst, settings.horizon, seed=0, kind="shifting", n_phases=4, **PLACEMENT_DEMAND
    )
    ratios = compare_policies(inst, loads, seed=0).ratios(0)
    return PlacementHeadline(
        float(ratios["INFIDA"]), float(ratios["INFIDA"] / ratios["greedy (per KiB)"])
    )


def headline_early_exit(name: str, settings: SuiteSettings | None = None) -> EarlyExitHeadline:
    """Federated early exits on the scenario's dataset (IID, equal data split):
    ``settings.rounds`` rounds of ``settings.local_steps`` steps, seeds
    ``0 .. settings.seeds - 1`` (:func:`~idn_core.federated.early_exit.gain_at`)."""
    settings = _checked(name, settings)
    dataset = scenario_dataset(name, num_samples=settings.num_samples)
    base = EarlyExitConfig(rounds=settings.rounds, local_steps=settings.local_steps)
    configs = scenario_configs([EXIT_SERVING_SPLIT], ["equal"], ("equal", "serving"), base=base)
    table = sweep_early_exit(dataset, configs, list(range(settings.seeds)), progress=False)
    mean, sd = gain_at(table, "served_acc", EXIT_SERVING_SPLIT)
    return EarlyExitHeadline(float(mean), float(sd))
