"""A suite of named scenarios, to ask which of the book's conclusions hold beyond one.

Each scenario fixes a dataset and its generator setting, a zoo recipe, a tree topology
(with the memory budget of each tier) and the placement of one zoo model per tier (the
model of the node's tier, as in :func:`~idn_core.network.scenario.assemble_scenario`).
Models are cached per scenario because the training cache key holds the dataset's
generation config (generator settings and sample count included) and each model's spec:
two scenarios share a trained model only when they share its data and its recipe (the
graded scenario reuses the running scenario's device and cloud models, trained once).

============================  ===================================================
``published-noise``           the book's running scenario: MNIST-1D at its published
                              noise, the standard zoo, a device-edge-cloud tree
``graded-four-tier``          MNIST-1D at its published noise, a graded zoo on a
                              device-edge-regional-cloud path, each tier's model
                              several points above the one below, budgets that
                              keep each model out of the tier below
``raised-noise``              MNIST-1D with raised noise (correlated 0.3, white 0.05):
                              the standard zoo, where confidence says less
``digits``                    scikit-learn's 8x8 digits with the MLP zoo
============================  ===================================================
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from idn_core._util.validation import check_seed, check_type
from idn_core.learning.data import DATASETS, Dataset, load_dataset
from idn_core.learning.models import TIERS
from idn_core.learning.zoo import ZOO_RECIPES, Zoo, build_zoo, zoo_specs
from idn_core.network.scenario import Scenario, assemble_scenario
from idn_core.network.topology import Topology, tree_topology


@dataclass(frozen=True)
class ScenarioSpec:
    """A named scenario: what data, which zoo, which tree and which memory per tier.

    Attributes
    ----------
    name : the scenario's name in :data:`SCENARIOS`.
    summary : one sentence saying what the scenario is for.
    dataset : one of :data:`~idn_core.learning.DATASETS`.
    generator : MNIST-1D generator settings on top of the book's
        (:data:`~idn_core.learning.MNIST1D_SCENARIO`); empty for digits.
    recipe : zoo recipe, one of :data:`~idn_core.learning.ZOO_RECIPES`.
    n_edges, devices_per_edge, n_regional : shape of the tree (:func:`tree_topology`).
    memory_kb : per-tier memory budget in KiB replacing the tier's default; tiers not
        named keep :data:`~idn_core.network.TIER_DEFAULTS`.
    """

    name: str
    summary: str
    dataset: str
    generator: dict[str, float] = field(default_factory=dict)
    recipe: str = "standard"
    n_edges: int = 2
    devices_per_edge: int = 2
    n_regional: int = 0
    memory_kb: dict[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        check_type("scenario name", self.name, str)
        if self.dataset not in DATASETS:
            raise ValueError(f"dataset of {self.name!r} must be one of {DATASETS}")
        if self.recipe not in ZOO_RECIPES:
            raise ValueError(f"recipe of {self.name!r} must be one of {ZOO_RECIPES}")
        unknown = set(self.memory_kb) - set(TIERS)
        if unknown:
            raise ValueError(f"memory_kb of {self.name!r} names unknown tiers {sorted(unknown)}")

    @property
    def path_tiers(self) -> tuple[str, ...]:
        """Tiers of a device's path, from the device up (a regional hop if the tree has one)."""
        return ("device", "edge", *(("regional",) if self.n_regional else ()), "cloud")

    def sample_count(self, num_samples: int | None) -> int | None:
        """The sample count passed to the dataset: ``num_samples`` for MNIST-1D scenarios
        (``None`` = the book's 20,000); digits scenarios always use all 1,797 images, since
        the chapters' ``num_samples`` parameters count MNIST-1D signals."""
        return num_samples if self.dataset == "mnist1d" else None


#: The book's running scenario (every chapter's default).
RUNNING_SCENARIO = "published-noise"

#: The suite, by name. Budgets of the graded scenario (KiB): 2 / 4 / 8 on device, edge and
#: regional centre, so the graded zoo's 1.4 / 2.8 / 5.4 KiB models each fit their tier only.
SCENARIOS: dict[str, ScenarioSpec] = {
    spec.name: spec
    for spec in (
        ScenarioSpec(
            RUNNING_SCENARIO,
            "MNIST-1D at its published noise, the standard zoo on a device-edge-cloud tree "
            "(the book's running scenario): the edge is nearly as accurate as the cloud",
            "mnist1d",
        ),
        ScenarioSpec(
            "graded-four-tier",
            "MNIST-1D at its published noise, a graded zoo on a device-edge-regional-cloud "
            "path: every hop adds several points, memory keeps each model out of the tier below",
            "mnist1d",
            recipe="graded",
            n_regional=1,
            memory_kb={"device": 2.0, "edge": 4.0, "regional": 8.0},
        ),
        ScenarioSpec(
            "raised-noise",
            "MNIST-1D with raised noise (correlated 0.3, white 0.05) and the standard zoo: "
            "every model is less accurate and confidence says less about correctness",
            "mnist1d",
            generator={"corr_noise_scale": 0.3, "iid_noise_scale": 0.05},
        ),
        ScenarioSpec(
            "digits",
            "scikit-learn's 8x8 handwritten digits with the MLP zoo on a device-edge-cloud "
            "tree: an easy task, small test set (360 images)",
            "digits",
        ),
    )
}


def scenario_names() -> tuple[str, ...]:
    """Names of the suite's scenarios, the running scenario first."""
    return tuple(SCENARIOS)


def get_scenario(name: str) -> ScenarioSpec:
    """The :class:`ScenarioSpec` called ``name``.

    ``TypeError`` if ``name`` is not a string, ``ValueError`` naming the suite if unknown.
    """
    check_type("scenario", name, str)
    if name not in SCENARIOS:
        raise ValueError(f"scenario: unknown name {name!r}; the suite holds {scenario_names()}")
    return SCENARIOS[name]


def require_scenario(
    name: str, *, tiers: tuple[str, ...] | None = None, datasets: tuple[str, ...] | None = None
) -> ScenarioSpec:
    """The spec of ``name`` if it has path ``tiers`` and one of ``datasets`` (``None``: any).

    For code that holds only on some scenarios (a chapter section written for a
    device-edge-cloud path, or naming one zoo's models): ``ValueError`` saying what the
    scenario has and what is needed, instead of a failure deep inside.
    """
    spec = get_scenario(name)
    if tiers is not None and spec.path_tiers != tuple(tiers):
        raise ValueError(
            f"scenario {name!r} has path tiers {spec.path_tiers}; this needs {tuple(tiers)} "
            f"(scenarios that have it: {[n for n, s in SCENARIOS.items() if s.path_tiers == tuple(tiers)]})"
        )
    if datasets is not None and (spec.dataset not in datasets or spec.recipe != "standard"):
        raise ValueError(
            f"scenario {name!r} uses the {spec.recipe} {spec.dataset} zoo; this needs the "
            f"standard zoo of {tuple(datasets)}"
        )
    return spec


def scenario_dataset(name: str, *, num_samples: int | None = None, seed: int = 0) -> Dataset:
    """The dataset of scenario ``name`` (generated or loaded from the cache).

    ``num_samples`` counts MNIST-1D signals (``None`` = 20,000); digits scenarios use all
    their images (see :meth:`ScenarioSpec.sample_count`).
    """
    spec = get_scenario(name)
    check_seed(seed)
    generator: dict[str, Any] = dict(spec.generator)
    return load_dataset(
        spec.dataset, num_samples=spec.sample_count(num_samples), seed=seed, **generator
    )


def scenario_topology(name: str) -> Topology:
    """The tree of scenario ``name`` with its per-tier memory budgets."""
    spec = get_scenario(name)
    base = tree_topology(spec.n_edges, spec.devices_per_edge, spec.n_regional)
    if not spec.memory_kb:
        return base
    nodes = [replace(n, memory_kb=spec.memory_kb.get(n.tier, n.memory_kb)) for n in base.nodes]
    return Topology(nodes, base.links, base.payload_bytes)


def scenario_zoo(
    name: str,
    *,
    num_samples: int | None = None,
    epochs: int | None = None,
    seed: int = 0,
    progress: bool | None = None,
) -> Zoo:
    """The trained zoo of scenario ``name`` (each model loaded from the cache when trained).

    ``epochs`` overrides every model's epoch count (quick previews); ``None`` keeps recipes.
    """
    spec = get_scenario(name)
    data = scenario_dataset(name, num_samples=num_samples, seed=seed)
    specs = zoo_specs(spec.dataset, epochs, spec.recipe)
    return build_zoo(data, seed, specs=specs, progress=progress)


def load_named_scenario(
    name: str = RUNNING_SCENARIO,
    *,
    num_samples: int | None = None,
    epochs: int | None = None,
    seed: int = 0,
    progress: bool | None = None,
) -> Scenario:
    """Scenario ``name`` of the suite, ready for every chapter: data, zoo, tree, placement
    and the path models' outputs tables.

    The running scenario gives exactly what :func:`~idn_core.network.load_scenario` gives
    with the same arguments (same cached models). ``ValueError`` if a zoo model does not
    fit the memory of its tier.
    """
    zoo = scenario_zoo(name, num_samples=num_samples, epochs=epochs, seed=seed, progress=progress)
    return assemble_scenario(zoo, scenario_topology(name))
