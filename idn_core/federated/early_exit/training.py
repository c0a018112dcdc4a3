"""Federated training of a nested early-exit network over a device-edge-cloud tree.

Each node at depth ``d`` of the tree (device 0, edge 1, cloud 2) holds exits ``0..d``.
Every round each node trains its deepest exit (and, with the participation
probabilities, lower exits too) for the same number of local SGD steps, so that local
epochs are rescaled by data size; the server adds the per-exit, lambda-tilde weighted
updates of :func:`idn_core.federated.early_exit.weights.aggregate_exit_updates`, each touching only the
layers up to its exit. Serving then follows :mod:`idn_core.federated.early_exit.serving`.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from idn_core._util.cache import cache_key, cached
from idn_core._util.threads import torch_threads
from idn_core._util.validation import (
    check_choice,
    check_seed,
)
from idn_core.federated.early_exit.config import EarlyExitConfig
from idn_core.federated.early_exit.flower import run_early_exit_flower
from idn_core.federated.early_exit.net import EarlyExitNet, exit_logits
from idn_core.federated.early_exit.plan import ExitPlan, plan_early_exit
from idn_core.federated.early_exit.rounds import draw_exits, node_exit_updates, server_round
from idn_core.federated.early_exit.serving import (
    assign_devices,
    normalised_entropy,
    serve_on_tree,
    serving_metrics,
)
from idn_core.learning.data import Dataset
from idn_core.learning.state import State, load_state
from idn_core.learning.training import progress_enabled
from idn_core.network.topology import Topology, tree_topology


@dataclass
class EarlyExitResult:
    """Trained weights, per-round history (lambda-tilde, measured sigma), and context.

    ``timings``: wall-clock ``startup_s``, ``round_s`` (per round) and ``teardown_s``;
    ``backend`` names the engine that ran the rounds.
    """

    config: EarlyExitConfig
    state: State
    history: pd.DataFrame
    node_sizes: np.ndarray
    flops: np.ndarray
    input_length: int
    n_classes: int
    backend: str = "inprocess"
    timings: dict[str, Any] = field(default_factory=dict)

    def net(self) -> EarlyExitNet:
        """A module with the trained weights."""
        net = EarlyExitNet(self.input_length, self.n_classes, self.config.channels)
        return load_state(net, self.state).eval()

    def logits(self, x: np.ndarray) -> np.ndarray:
        """Logits of every exit on ``x``, ``(E, N, C)``."""
        return exit_logits(self.net(), x)


def run_early_exit(
    dataset: Dataset,
    config: EarlyExitConfig,
    *,
    seed: int = 0,
    topology: Topology | None = None,
    node_data: Sequence[np.ndarray] | None = None,
    progress: bool | None = None,
    backend: str = "inprocess",
    backend_config: dict[str, dict[str, Any]] | None = None,
    cache: bool = False,
    cache_dir: str | os.PathLike | None = None,
) -> EarlyExitResult:
    """Train the early-exit network federatedly over ``topology`` (default: the 7-node tree).

    ``node_data`` overrides the partition of ``config`` (one index array into the
    training split per node of ``topology.nodes``). The variance weighting uses the
    gradient standard deviations measured in the local updates, smoothed over rounds.
    ``backend="flower"`` runs the same rounds on Flower's Ray simulation engine
    (:func:`idn_core.federated.early_exit.flower.run_early_exit_flower`, one virtual client per
    node; ``backend_config`` from :func:`idn_core.federated.flower_engine.backend_config`).

    ``cache=True`` (in-process runs only) keeps the trained weights and the history in the
    model cache (``IDN_CACHE_DIR``, or ``cache_dir``; :func:`idn_core._util.cache.cached`),
    keyed by every input that determines them (:func:`early_exit_key`), and trains on one
    thread so that the entry does not depend on the machine. Its ``timings`` are
    ``{"cached": True}`` and nothing else, whether it was loaded or trained just now.
    """
    check_choice("backend", backend, ("inprocess", "flower"))
    check_seed(seed)
    if not isinstance(cache, bool):
        raise TypeError(f"cache must be True or False, got {cache!r}")
    if cache and backend != "inprocess":
        raise ValueError(f"cache=True keeps in-process runs only, not backend={backend!r}")
    start = time.perf_counter()
    plan = plan_early_exit(dataset, config, seed=seed, topology=topology, node_data=node_data)
    plan_s = time.perf_counter() - start
    if cache:
        return _cached_run(dataset, config, plan, seed, cache_dir, progress)
    if backend == "flower":
        show = progress_enabled() if progress is None else progress
        state, rows, timings = run_early_exit_flower(
            dataset, config, plan, seed, backend_config, progress=show
        )
    else:
        state, rows, timings = _run_inprocess(dataset, config, plan, seed, progress)
    timings["startup_s"] += plan_s
    return EarlyExitResult(
        config,
        state,
        pd.DataFrame(rows),
        plan.sizes,
        plan.flops,
        dataset.input_length,
        dataset.n_classes,
        backend,
        timings,
    )


#: Sources whose code determines an early-exit run's weights and history (this
#: subpackage, the data partitions and the weight states); an edit to any of them makes
#: :func:`early_exit_key` change, so a cached run is never one of older code.
_CODE_ROOT = Path(__file__).resolve().parents[2]  # idn_core/
_CODE_FILES = (
    *sorted(p.relative_to(_CODE_ROOT).as_posix() for p in Path(__file__).parent.glob("*.py")),
    "learning/data.py",
    "learning/state.py",
)


def _code_digest() -> str:
    """sha256 of :data:`_CODE_FILES` (names and contents)."""
    digest = hashlib.sha256()
    for rel in _CODE_FILES:
        digest.update(rel.encode() + b"\0" + (_CODE_ROOT / rel).read_bytes() + b"\0")
    return digest.hexdigest()


def _array_digest(*arrays: np.ndarray) -> str:
    """sha256 of arrays' dtypes, shapes and bytes, in order."""
    digest = hashlib.sha256()
    for a in arrays:
        a = np.ascontiguousarray(a)
        digest.update(f"{a.dtype.str}{a.shape}".encode())
        digest.update(a.tobytes())
    return digest.hexdigest()


def early_exit_key(dataset: Dataset, config: EarlyExitConfig, plan: ExitPlan, seed: int) -> str:
    """Cache key of an in-process early-exit run: everything that determines its result.

    The dataset's generator settings and its training split (``x_train``, ``y_train``, and
    so its size), every field of ``config``, ``seed``, the plan (each node's training
    indices, which carry the topology and any ``node_data``; the participation, data shares
    and initial weights) and the code that trains (:data:`_CODE_FILES`), on top of what
    :func:`idn_core._util.cache.cache_key` adds (cache format version, torch version).
    """
    check_seed(seed)
    for name, value, kind in (
        ("dataset", dataset, Dataset),
        ("config", config, EarlyExitConfig),
        ("plan", plan, ExitPlan),
    ):
        if not isinstance(value, kind):
            raise TypeError(f"{name} must be a {kind.__name__}, got {type(value).__name__}")
    plan_arrays = [
        np.array([len(p) for p in plan.parts]),
        *plan.parts,
        plan.participation,
        plan.shares,
        *plan.init_state.values(),
    ]
    return cache_key(
        "early-exit",
        dataset.config,
        dataset.input_length,
        dataset.n_classes,
        _array_digest(dataset.x_train, dataset.y_train),
        asdict(config),
        seed,
        list(plan.init_state),
        _array_digest(*plan_arrays),
        _code_digest(),
    )


def _cached_run(
    dataset: Dataset,
    config: EarlyExitConfig,
    plan: ExitPlan,
    seed: int,
    cache_dir: str | os.PathLike | None,
    progress: bool | None,
) -> EarlyExitResult:
    """:func:`_run_inprocess` on one thread, through the disk cache (kind ``early_exit``)."""

    def build() -> dict[str, Any]:
        with torch_threads(1):
            state, rows, _ = _run_inprocess(dataset, config, plan, seed, progress)
        return {"state": state, "history": rows}

    key = early_exit_key(dataset, config, plan, seed)
    directory = Path(cache_dir) if cache_dir is not None else None
    entry = cached("early_exit", key, build, directory)
    return EarlyExitResult(
        config,
        {k: np.asarray(v) for k, v in entry["state"].items()},
        pd.DataFrame(entry["history"]),
        plan.sizes,
        plan.flops,
        dataset.input_length,
        dataset.n_classes,
        "inprocess",
        {"cached": True},
    )


def _run_inprocess(
    dataset: Dataset, config: EarlyExitConfig, plan: ExitPlan, seed: int, progress: bool | None
) -> tuple[State, list[dict[str, float]], dict[str, Any]]:
    """The in-process loop: every node's updates, then :func:`server_round`, per round."""
    net = EarlyExitNet(dataset.input_length, dataset.n_classes, config.channels)
    state, sigma = plan.init_state, np.full(len(config.channels), np.nan)
    rng = np.random.default_rng(seed)
    rows, marks = [], [time.perf_counter()]
    show = progress_enabled() if progress is None else progress
    for r in tqdm(range(config.rounds), desc=config.label(), disable=not show, leave=False):
        updates = []
        for c, exits in enumerate(draw_exits(rng, plan.participation)):
            idx = plan.parts[c]
            x, y = dataset.x_train[idx], dataset.y_train[idx]
            updates += node_exit_updates(
                net, state, x, y, node=c, exits=exits, round_=r, seed=seed, config=config
            )
        state, sigma, row = server_round(
            state,
            updates,
            sigma,
            config=config,
            shares=plan.shares,
            participation=plan.participation,
            sum_p2=plan.sum_p2,
            flops=plan.flops,
            round_=r,
        )
        rows.append(row)
        marks.append(time.perf_counter())
    timings = {"startup_s": 0.0, "round_s": [float(v) for v in np.diff(marks)], "teardown_s": 0.0}
    return state, rows, timings


def evaluate_serving(
    logits: np.ndarray,
    labels: np.ndarray,
    serving_split: Sequence[float],
    topology: Topology | None = None,
    seed: int = 0,
) -> dict[str, float]:
    """Serve ``labels``' requests on the tree with ``serving_split``; return :func:`serving_metrics`."""
    check_seed(seed)
    topology = topology or tree_topology(n_edges=2, devices_per_edge=2)
    arrival = assign_devices(len(labels), topology.devices, seed)
    served = serve_on_tree(normalised_entropy(logits), arrival, topology, serving_split)
    return serving_metrics(logits, labels, served)


def sweep_early_exit(
    dataset: Dataset,
    configs: Sequence[EarlyExitConfig],
    seeds: Sequence[int],
    *,
    split: str = "test",
    progress: bool | None = None,
    cache: bool = True,
) -> pd.DataFrame:
    """Train and evaluate every config with every seed; one row per (config, seed).

    Runs whose training does not depend on the serving split (``equal`` and ``flops``
    weightings) are trained once and evaluated under each split. With ``cache`` (the
    default) each run is loaded from, or stored in, the model cache
    (:func:`run_early_exit` with ``cache=True``): same numbers, no retraining.
    """
    x, y = dataset.split(split)
    trained: dict[tuple, np.ndarray] = {}
    rows = []
    show = progress_enabled() if progress is None else progress
    jobs = [(c, s) for c in configs for s in seeds]
    for config, seed in tqdm(jobs, desc="early-exit sweep", disable=not show):
        key_cfg = config
        if config.weighting in ("equal", "flops"):
            key_cfg = replace(config, serving_split=(1.0,) + (0.0,) * (len(config.channels) - 1))
        key = (key_cfg, seed)
        if key not in trained:
            run = run_early_exit(dataset, config, seed=seed, progress=False, cache=cache)
            trained[key] = run.logits(x)
        metrics = evaluate_serving(trained[key], y, config.serving_split, seed=seed)
        info = asdict(config)
        rows.append(
            {
                "weighting": config.weighting,
                "serving_split": "-".join(f"{100 * v:.0f}" for v in config.serving_split),
                "data_split": "-".join(f"{100 * v:.0f}" for v in config.data_split),
                "label_skew_alpha": info["label_skew_alpha"],
                "seed": seed,
                **metrics,
            }
        )
    return pd.DataFrame(rows)
