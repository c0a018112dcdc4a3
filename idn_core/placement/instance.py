"""The cost and gain model of model placement in an IDN (INFIDA, Si Salem et al. 2024).

A *request type* ``rho`` is a task plus the path from the device where its requests arrive
up to the repository node (the cloud), which permanently stores every model of every task
and can serve any number of requests. Serving one request of ``rho`` with model ``m`` on
node ``v`` of the path costs

    gamma(rho, v, m) = rtt(device, v) + compute(v, m) + alpha * (1 - accuracy(m))   [ms]

(``alpha`` in ms per unit of accuracy). Node ``v`` can serve at most ``capacity[v, m]``
requests *of each request type* per time slot with model ``m`` (the per-type capacity of the
paper's gain formula). The candidates of ``rho`` (the ``(v, m)`` pairs on its path cheaper
than its best repository model) are sorted by cost and filled cheapest first; what is left
goes to the repository. With ``Z_k`` the capacity of the ``k`` cheapest candidates held,
the gain of an allocation ``x`` against serving everything at the repository is

    G(r, x) = sum_rho sum_k (gamma_{k+1} - gamma_k) * min(r_rho, Z_k(x)),

monotone and submodular in ``x``; with ``x`` fractional it is the concave relaxation ``L``
INFIDA ascends. Everything is vectorised over padded ``(R, K)`` candidate arrays.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from idn_core._util.validation import check_fraction, check_non_negative, check_positive
from idn_core.network.deployment import Placement
from idn_core.network.topology import Topology
from idn_core.placement.catalogue import CatalogueModel, compute_capacity

__all__ = [
    "PlacementInstance",
    "build_instance",
    "cumulative_capacity",
    "from_placement",
    "gain",
    "served",
    "subgradient",
    "to_placement",
]


@dataclass(kw_only=True)
class PlacementInstance:
    """A placement problem in array form (``V`` nodes, ``M`` models, ``R`` request types).

    Attributes
    ----------
    topology, catalogue, alpha : what the instance was built from.
    nodes : node names (topology order); ``repository`` is the index of the repository.
    models : catalogue model names.  sizes_kb : ``(M,)``.  budgets_kb : ``(V,)``.
    capacity : ``(V, M)`` requests per slot and request type.
    allowed : ``(V, M)`` bool, the pairs that may be placed (fit alone, not the repository).
    types : ``(task, device)`` per request type.
    cand : ``(R, K)`` flat index ``v * M + m`` of each candidate, ``V * M`` for padding.
    cand_cap : ``(R, K)`` capacity per candidate (0 for padding).
    gamma : ``(R, K + 1)`` costs in ms, sorted; entries from a type's number of candidates
        on hold its repository cost.
    n_cand : ``(R,)`` number of real candidates per type.
    """

    topology: Topology
    catalogue: list[CatalogueModel]
    alpha: float
    nodes: list[str]
    repository: int
    models: list[str]
    sizes_kb: np.ndarray
    budgets_kb: np.ndarray
    capacity: np.ndarray
    allowed: np.ndarray
    types: list[tuple[str, str]]
    cand: np.ndarray
    cand_cap: np.ndarray
    gamma: np.ndarray
    n_cand: np.ndarray

    @property
    def shape(self) -> tuple[int, int]:
        """``(V, M)``: shape of an allocation."""
        return len(self.nodes), len(self.models)

    @property
    def delta(self) -> np.ndarray:
        """``(R, K)`` cost steps ``gamma_{k+1} - gamma_k`` (zero on padding)."""
        return np.diff(self.gamma, axis=1)

    def empty(self) -> np.ndarray:
        """An all-zero allocation ``(V, M)``."""
        return np.zeros(self.shape)

    def check_allocation(self, x: np.ndarray, *, integral: bool = False) -> np.ndarray:
        """Return ``x`` as float ``(V, M)``; raise if out of [0, 1], not allowed or over budget."""
        x = np.asarray(x, dtype=float)
        if x.shape != self.shape:
            raise ValueError(
                f"allocation must have shape {self.shape} (nodes, models), got {x.shape}"
            )
        if not np.isfinite(x).all() or (x < -1e-9).any() or (x > 1 + 1e-9).any():
            raise ValueError("allocation entries must lie in [0, 1]")
        if integral and not np.isin(x, (0.0, 1.0)).all():
            raise ValueError("allocation must be integral (0 or 1)")
        if (x[~self.allowed] > 1e-9).any():
            v, m = np.argwhere((x > 1e-9) & ~self.allowed)[0]
            raise ValueError(
                f"allocation: model {self.models[m]!r} cannot be placed on {self.nodes[v]!r} "
                "(larger than its memory, or the repository, which holds every model anyway)"
            )
        used = x @ self.sizes_kb
        over = used > self.budgets_kb * (1 + 1e-9) + 1e-9
        if over.any():
            v = int(np.argmax(over))
            raise ValueError(
                f"allocation uses {used[v]:.2f} KiB on {self.nodes[v]!r}, "
                f"whose budget is {self.budgets_kb[v]:.2f} KiB"
            )
        return x


def build_instance(
    topology: Topology,
    catalogue: Sequence[CatalogueModel],
    *,
    alpha: float = 100.0,
    slot_ms: float = 100.0,
    capacity: np.ndarray | float | None = None,
) -> PlacementInstance:
    """Build the array form of the placement problem.

    Parameters
    ----------
    topology : the IDN; its cloud is the repository and stores every catalogue model.
    catalogue : models of all tasks (see :func:`catalogue_from_zoos`).
    alpha : ms of cost per unit of accuracy lost (>= 0).
    slot_ms : slot length, used to derive capacities from compute when ``capacity`` is None.
    capacity : requests per slot and request type, scalar or ``(V, M)``; default derived
        from each node's speed with :func:`compute_capacity`.

    Examples
    --------
    >>> from idn_core.network.topology import path_topology
    >>> cat = [CatalogueModel("t:small", "t", 2.6, 14560, 0.75),
    ...        CatalogueModel("t:big", "t", 9.0, 54720, 0.86)]
    >>> inst = build_instance(path_topology(), cat, alpha=100.0, capacity=50.0)
    >>> inst.shape, inst.types
    ((3, 2), [('t', 'device-0')])
    >>> x = inst.empty(); x[1, 1] = 1.0  # the big model on the edge
    >>> round(float(gain(inst, x, [40.0])), 1)  # ms saved per slot for 40 requests
    799.5
    """
    alpha = check_non_negative("alpha", alpha)
    catalogue = checked_catalogue(catalogue)
    node_names = [n.name for n in topology.nodes]
    repo = node_names.index(topology.cloud)
    sizes = np.array([c.size_kb for c in catalogue])
    budgets = np.array([n.memory_kb for n in topology.nodes])
    _check_repository_fits(topology.cloud, budgets[repo], sizes)
    cap = _capacities(topology, catalogue, slot_ms, capacity)
    allowed = sizes[None, :] <= budgets[:, None]
    allowed[repo] = False
    types = request_types(topology, catalogue)
    costs = CostModel(topology, catalogue, alpha)
    offers = [
        type_candidates(costs, task, device, allowed & (cap > 0), cap) for task, device in types
    ]
    cand, cand_cap, gamma, n_cand = _padded_candidates(offers, allowed.size)
    return PlacementInstance(
        topology=topology, catalogue=catalogue, alpha=alpha, nodes=node_names,
        repository=repo, models=[c.name for c in catalogue], sizes_kb=sizes,
        budgets_kb=budgets, capacity=cap, allowed=allowed, types=types, cand=cand,
        cand_cap=cand_cap, gamma=gamma, n_cand=n_cand,
    )  # fmt: skip


def checked_catalogue(catalogue: Sequence[CatalogueModel]) -> list[CatalogueModel]:
    """The catalogue as a list; raise if it is empty, has duplicate names or bad numbers."""
    catalogue = list(catalogue)
    if not catalogue:
        raise ValueError("the catalogue is empty")
    names = [c.name for c in catalogue]
    if len(set(names)) != len(names):
        raise ValueError(f"catalogue model names must be unique, got {names}")
    for c in catalogue:
        check_positive(f"size_kb of {c.name}", c.size_kb)
        check_non_negative(f"flops of {c.name}", c.flops)
        check_fraction(f"accuracy of {c.name}", c.accuracy)
    return catalogue


def _check_repository_fits(repository: str, budget_kb: float, sizes_kb: np.ndarray) -> None:
    """Raise if the repository's memory (KiB) cannot hold every catalogue model."""
    if sizes_kb.sum() > budget_kb:
        raise ValueError(
            f"budget of the repository {repository!r} ({budget_kb:.1f} KiB) is too small "
            f"for the {len(sizes_kb)} repository models ({sizes_kb.sum():.1f} KiB)"
        )


def _capacities(
    topology: Topology,
    catalogue: list[CatalogueModel],
    slot_ms: float,
    capacity: np.ndarray | float | None,
) -> np.ndarray:
    """``(V, M)`` requests per slot and request type: given, or derived from node speeds."""
    if capacity is None:
        return compute_capacity(topology, catalogue, slot_ms)
    shape = (len(topology.nodes), len(catalogue))
    cap = np.broadcast_to(np.asarray(capacity, dtype=float), shape).copy()
    if not np.isfinite(cap).all() or (cap < 0).any():
        raise ValueError("capacities must be finite and >= 0 requests per slot")
    return cap


def request_types(topology: Topology, catalogue: Sequence[CatalogueModel]) -> list[tuple[str, str]]:
    """``(task, device)`` of every request type: tasks in catalogue order, then devices."""
    tasks = list(dict.fromkeys(c.task for c in catalogue))
    return [(t, d) for t in tasks for d in topology.devices]


@dataclass(frozen=True)
class CostModel:
    """The serving cost ``gamma(rho, v, m)`` of the module docstring, in ms."""

    topology: Topology
    catalogue: list[CatalogueModel]
    alpha: float

    def cost(self, device: str, node: str, m: int) -> float:
        """Serving a request of ``device`` with model ``m`` on ``node``: latency + alpha * error."""
        c = self.catalogue[m]
        lat = self.topology.serving_latency_ms(device, node, c.flops)
        return lat + self.alpha * (1.0 - c.accuracy)


@dataclass(frozen=True)
class TypeCandidates:
    """The candidates of one request type, cheapest first, and its repository cost (ms).

    ``candidates`` holds ``(cost ms, flat index v * M + m, capacity)`` per candidate.
    """

    candidates: list[tuple[float, int, float]]
    repository_cost: float


def type_candidates(
    costs: CostModel, task: str, device: str, usable: np.ndarray, capacity: np.ndarray
) -> TypeCandidates:
    """The ``(v, m)`` pairs below the repository on ``device``'s path that serve ``task``
    cheaper than its best repository model, sorted by cost (ties: path order, then model).

    ``usable`` is the ``(V, M)`` mask of pairs that may be placed with a positive capacity.
    """
    topology, n_models = costs.topology, len(costs.catalogue)
    node_index = {n.name: v for v, n in enumerate(topology.nodes)}
    mine = [m for m, c in enumerate(costs.catalogue) if c.task == task]
    repo_cost = min(costs.cost(device, topology.cloud, m) for m in mine)
    cands = []
    for node in topology.path(device)[:-1]:
        v = node_index[node]
        for m in mine:
            g = costs.cost(device, node, m)
            if usable[v, m] and g < repo_cost:
                cands.append((g, v * n_models + m, capacity[v, m]))
    cands.sort(key=lambda c: c[0])
    return TypeCandidates(cands, repo_cost)


def _padded_candidates(
    offers: list[TypeCandidates], padding: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``cand``, ``cand_cap``, ``gamma`` and ``n_cand`` of :class:`PlacementInstance`.

    Rows are padded to the longest candidate list with index ``padding`` (``V * M``),
    capacity 0 and the type's repository cost.
    """
    K = max(1, max(len(o.candidates) for o in offers))
    R = len(offers)
    cand = np.full((R, K), padding)
    cand_cap = np.zeros((R, K))
    gamma = np.zeros((R, K + 1))
    n_cand = np.zeros(R, dtype=int)
    for i, offer in enumerate(offers):
        gamma[i, :] = offer.repository_cost
        n_cand[i] = len(offer.candidates)
        for k, (g, idx, c) in enumerate(offer.candidates):
            gamma[i, k], cand[i, k], cand_cap[i, k] = g, idx, c
    return cand, cand_cap, gamma, n_cand


def check_loads(inst: PlacementInstance, r: np.ndarray) -> np.ndarray:
    r = np.asarray(r, dtype=float)
    if r.shape[-1:] != (len(inst.types),):
        raise ValueError(f"loads must end with the {len(inst.types)} request types, got {r.shape}")
    if not np.isfinite(r).all() or (r < 0).any():
        raise ValueError("loads must be finite and >= 0 requests per slot")
    return r


def cumulative_capacity(
    inst: PlacementInstance, y: np.ndarray, loads: np.ndarray | None = None
) -> np.ndarray:
    """Capacity ``Z_k`` of each type's ``k + 1`` cheapest candidates under ``y``, ``(..., R, K)``.

    With ``loads`` (``(R,)`` or ``(T, R)``) each candidate's capacity is first capped at its
    type's load (the *potential available capacity* of the paper): this leaves the gain of
    an integral allocation unchanged but tightens the concave relaxation, which would
    otherwise count a sliver of a large-capacity model as serving every request.
    """
    flat = np.append(np.asarray(y, dtype=float).ravel(), 0.0)
    cap = inst.cand_cap
    if loads is not None:
        cap = np.minimum(cap, np.asarray(loads, dtype=float)[..., None])
    return np.cumsum(cap * flat[inst.cand], axis=-1)


def gain(inst: PlacementInstance, y: np.ndarray, loads: np.ndarray) -> np.ndarray | float:
    """Gain (ms saved per slot) of allocation ``y`` for loads ``(R,)`` or ``(T, R)``.

    Integral ``y`` gives the gain ``G``, fractional ``y`` its concave relaxation ``L``.
    Returns a float, or ``(T,)`` for ``(T, R)`` loads.
    """
    r = check_loads(inst, loads)
    Z = cumulative_capacity(inst, y, r)
    return (inst.delta * np.minimum(r[..., None], Z)).sum(axis=(-1, -2))


def subgradient(inst: PlacementInstance, y: np.ndarray, loads: np.ndarray) -> np.ndarray:
    """A supergradient ``(V, M)`` of the concave relaxation ``L(loads, .)`` at ``y``.

    For type ``rho`` let ``k*`` be its first candidate whose cumulative capacity covers the
    load; candidate ``k < k*`` receives ``min(capacity_k, r) * (gamma_{k*} - gamma_k)``.
    """
    r = check_loads(inst, loads)
    if r.ndim != 1:
        raise ValueError("subgradient takes the loads of one slot, shape (R,)")
    cap = np.minimum(inst.cand_cap, r[:, None])
    Z = cumulative_capacity(inst, y, r)
    covered = r[:, None] <= Z
    kstar = np.where(covered.any(axis=1), covered.argmax(axis=1), Z.shape[1])
    g_star = np.take_along_axis(inst.gamma, kstar[:, None], axis=1)
    active = np.arange(Z.shape[1])[None, :] < kstar[:, None]
    w = np.where(active, cap * (g_star - inst.gamma[:, :-1]), 0.0)
    V, M = inst.shape
    return np.bincount(inst.cand.ravel(), w.ravel(), minlength=V * M + 1)[:-1].reshape(V, M)


def served(inst: PlacementInstance, x: np.ndarray, loads: np.ndarray) -> np.ndarray:
    """``(R, K + 1)`` requests of each type served by each candidate (last: repository)."""
    r = check_loads(inst, loads)
    Z = np.minimum(r[:, None], cumulative_capacity(inst, x, r))
    done = np.concatenate([np.zeros((len(r), 1)), Z, r[:, None]], axis=1)
    return np.diff(done, axis=1)


def to_placement(inst: PlacementInstance, x: np.ndarray) -> Placement:
    """The integral allocation ``x`` plus the repository's models, as a validated :class:`Placement`."""
    x = inst.check_allocation(x, integral=True)
    assignment = {
        n: [inst.models[m] for m in np.flatnonzero(x[v])] for v, n in enumerate(inst.nodes)
    }
    assignment[inst.nodes[inst.repository]] = list(inst.models)
    return Placement(inst.topology, assignment, dict(zip(inst.models, inst.sizes_kb, strict=True)))


def from_placement(
    inst: PlacementInstance, placement: Placement | Mapping[str, Sequence[str]]
) -> np.ndarray:
    """Allocation ``(V, M)`` of a :class:`Placement` (or a node -> models mapping).

    Unknown nodes or models raise ``KeyError``; the repository's row is ignored.
    """
    mapping = placement.as_dict() if isinstance(placement, Placement) else placement
    x = inst.empty()
    node_index = {n: v for v, n in enumerate(inst.nodes)}
    model_index = {m: i for i, m in enumerate(inst.models)}
    for node, models in mapping.items():
        if node not in node_index:
            raise KeyError(f"unknown node {node!r}; nodes are {inst.nodes}")
        v = node_index[node]
        if v == inst.repository:
            continue
        for m in models:
            if m not in model_index:
                raise KeyError(f"unknown model {m!r}; the catalogue holds {inst.models}")
            x[v, model_index[m]] = 1.0
    return inst.check_allocation(x, integral=True)
