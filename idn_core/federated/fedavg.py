"""Federated averaging (FedAvg) over nodes' local data (McMahan et al. 2017).

:func:`run_fedavg` chains the pure round pieces of :mod:`idn_core.federated.rounds` over
rounds, with a progress bar and an evaluation hook.

Flower backend (``run_fedavg(..., backend="flower")``, :mod:`idn_core.federated.fedavg_flower`): a
``ClientApp``'s ``train`` converts the received ``ArrayRecord`` to a state, calls
:func:`~idn_core.federated.rounds.client_update` with the seed
:func:`~idn_core.federated.rounds.client_seed` of its (round, partition) pair and replies with
the new state and ``update.weight``; a ``Strategy`` samples clients with
:func:`~idn_core.federated.rounds.sample_clients` and its ``aggregate_train`` calls
:func:`~idn_core.federated.rounds.weighted_average` on the replies sorted by partition. Both
backends therefore give the same weights. The early-exit counterparts are
:func:`idn_core.federated.early_exit.net.local_exit_update` (client) and
:func:`idn_core.federated.early_exit.weights.aggregate_exit_updates` (server).
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import nn
from tqdm.auto import tqdm

from idn_core._util.validation import check_choice, check_positive_int, check_seed
from idn_core.federated.fedavg_flower import run_fedavg_flower
from idn_core.federated.rounds import (
    check_sample_weight,
    client_seed,
    client_update,
    sample_clients,
    weighted_average,
)
from idn_core.learning.models import ModelSpec
from idn_core.learning.state import State, load_state, module_state
from idn_core.learning.training import predict_logits, progress_enabled


@dataclass
class FedAvgResult:
    """Final global weights and one history row per round (clients, samples, metrics).

    ``timings`` holds wall-clock seconds: ``startup_s`` (before the first round),
    ``round_s`` (one per round) and ``teardown_s``; ``backend`` names the engine.
    ``skipped_clients`` lists the clients whose sample weights sum to zero: they never
    train, and the history's ``skipped`` column counts them among each round's clients.
    """

    spec: ModelSpec
    state: State
    history: pd.DataFrame
    input_length: int
    n_classes: int
    backend: str = "inprocess"
    timings: dict[str, Any] = field(default_factory=dict)
    skipped_clients: tuple[int, ...] = ()

    def module(self) -> nn.Module:
        """A fresh module holding the final global weights, in eval mode."""
        return load_state(self.spec.build(self.input_length, self.n_classes), self.state).eval()

    def predict_logits(self, x: np.ndarray) -> np.ndarray:
        """Logits ``(n, n_classes)`` of the global model."""
        return predict_logits(self.module(), x)


def run_fedavg(
    spec: ModelSpec,
    x: np.ndarray,
    y: np.ndarray,
    partitions: Sequence[np.ndarray],
    *,
    rounds: int,
    local_epochs: int = 1,
    fraction: float = 1.0,
    seed: int = 0,
    n_classes: int = 10,
    sample_weight: np.ndarray | None = None,
    init_state: State | None = None,
    evaluate: Callable[[State], dict[str, float]] | None = None,
    progress: bool | None = None,
    backend: str = "inprocess",
    backend_config: dict[str, dict[str, Any]] | None = None,
) -> FedAvgResult:
    """Federated averaging of ``spec`` over clients holding ``x[partitions[k]]``.

    Each round samples ``fraction`` of the clients, trains each locally for
    ``local_epochs`` from the global state, and replaces the global state by the
    sample-weighted average of the returned states.

    Parameters
    ----------
    x, y : the pooled training inputs ``(n, length)`` and labels ``(n,)``.
    partitions : one index array per client (e.g. from :func:`idn_core.partition_dirichlet`).
    sample_weight : optional importance weights ``(n,)`` over the pooled samples: finite,
        non-negative, not all zero. A client whose weights sum to zero cannot train: it is
        named in a warning and in ``FedAvgResult.skipped_clients``, and counted in each
        round's ``skipped`` column.
    init_state : start from these weights instead of a seeded initialisation.
    evaluate : called with the global state after each round; its dict joins the history.
    backend : ``"inprocess"`` (this loop) or ``"flower"`` (Flower's Ray simulation engine,
        :func:`idn_core.federated.fedavg_flower.run_fedavg_flower`; same seeds, same weights).
    backend_config : for ``"flower"``: :func:`idn_core.federated.flower_engine.backend_config`
        (CPUs/GPUs per client, an existing Ray cluster's address); default: all local cores.
    """
    check_choice("backend", backend, ("inprocess", "flower"))
    check_seed(seed)
    check_positive_int("rounds", rounds)
    check_positive_int("local_epochs", local_epochs)
    parts = _checked_partitions(partitions)
    sample_weight = check_sample_weight(sample_weight, len(y))
    skipped = _zero_weight_clients(sample_weight, parts)
    start = time.perf_counter()
    torch.manual_seed(seed)
    state = init_state or module_state(spec.build(x.shape[1], n_classes))
    show = progress_enabled() if progress is None else progress
    job = FedAvgJob(spec, x, y, parts, local_epochs, fraction, seed, n_classes, sample_weight)
    if backend == "flower":
        state, rows, timings = run_fedavg_flower(
            spec, x, y, parts, state, rounds=rounds, local_epochs=local_epochs,
            fraction=fraction, seed=seed, n_classes=n_classes, sample_weight=sample_weight,
            evaluate=evaluate, backend_config=backend_config, progress=show,
        )  # fmt: skip
    else:
        state, rows, timings = _run_rounds(job, state, rounds, evaluate, show, start)
    history = pd.DataFrame(rows)
    return FedAvgResult(
        spec, state, history, x.shape[1], n_classes, backend, timings, tuple(skipped)
    )


@dataclass(frozen=True)
class FedAvgJob:
    """What every round of one FedAvg run shares: model, pooled data, partitions, recipe."""

    spec: ModelSpec
    x: np.ndarray
    y: np.ndarray
    parts: list[np.ndarray]
    local_epochs: int
    fraction: float
    seed: int
    n_classes: int
    sample_weight: np.ndarray | None


def _checked_partitions(partitions: Sequence[np.ndarray]) -> list[np.ndarray]:
    """Partitions as int64 index arrays; every client must hold data."""
    parts = [np.asarray(p, dtype=np.int64) for p in partitions]
    for k, p in enumerate(parts):
        if p.size == 0:
            raise ValueError(f"client {k} has no data; every node in FedAvg needs samples")
    return parts


def _run_rounds(
    job: FedAvgJob,
    state: State,
    rounds: int,
    evaluate: Callable[[State], dict[str, float]] | None,
    show: bool,
    start: float,
) -> tuple[State, list[dict[str, Any]], dict[str, Any]]:
    """The in-process loop: ``rounds`` rounds from ``state``; returns state, rows, timings."""
    rng = np.random.default_rng(job.seed)
    rows = []
    marks = [time.perf_counter()]
    for r in tqdm(range(rounds), desc=f"FedAvg {job.spec.name}", disable=not show, leave=False):
        chosen = sample_clients(len(job.parts), job.fraction, rng)
        state, row = _one_round(job, state, r, chosen)
        if evaluate is not None:
            row.update(evaluate(state))
        rows.append(row)
        marks.append(time.perf_counter())
    timings = {
        "startup_s": marks[0] - start,
        "round_s": [float(v) for v in np.diff(marks)],
        "teardown_s": 0.0,
    }
    return state, rows, timings


def _one_round(
    job: FedAvgJob, state: State, r: int, chosen: np.ndarray
) -> tuple[State, dict[str, Any]]:
    """Round ``r``: the ``chosen`` clients train from ``state``; the server averages them."""
    updates = [
        client_update(
            state,
            job.spec,
            job.x[job.parts[k]],
            job.y[job.parts[k]],
            input_length=job.x.shape[1],
            n_classes=job.n_classes,
            local_epochs=job.local_epochs,
            seed=client_seed(job.seed, r, int(k)),
            sample_weight=None if job.sample_weight is None else job.sample_weight[job.parts[k]],
        )
        for k in chosen
    ]
    if sum(u.weight for u in updates) > 0:
        state = weighted_average([u.state for u in updates], [u.weight for u in updates])
    row = {
        "round": r + 1,
        "clients": len(chosen),
        "samples": sum(u.n_samples for u in updates),
        "skipped": sum(u.skipped for u in updates),
    }
    return state, row


def _zero_weight_clients(
    sample_weight: np.ndarray | None, parts: Sequence[np.ndarray]
) -> list[int]:
    """Clients whose (checked) sample weights sum to zero; warns about them, raises if all.

    Such a client cannot train; FedAvg keeps running on the others but says so, because
    a silently idle client changes what the federation learns.
    """
    if sample_weight is None:
        return []
    zero = [k for k, p in enumerate(parts) if not sample_weight[p].sum() > 0]
    if len(zero) == len(parts):
        raise ValueError("sample_weight sums to zero on every client's data: no client can train")
    if zero:
        warnings.warn(
            f"clients {zero} have sample weights summing to zero: they will not train "
            "(listed in FedAvgResult.skipped_clients, counted in the history's 'skipped')",
            stacklevel=3,
        )
    return zero


def node_test_indices(
    train_labels: Sequence[np.ndarray], test_labels: np.ndarray, size: int, seed: int = 0
) -> list[np.ndarray]:
    """Test indices per node drawn with that node's training label mix (its own distribution).

    Parameters
    ----------
    train_labels : each node's training labels.
    test_labels : labels of the shared test split, ``(n_test,)``.
    size : test samples per node (drawn without replacement within each class when possible).
    """
    check_positive_int("size", size)
    rng = np.random.default_rng(seed)
    test_labels = np.asarray(test_labels)
    classes = np.unique(test_labels)
    by_class = {c: np.flatnonzero(test_labels == c) for c in classes}
    out = []
    for k, labels in enumerate(train_labels):
        labels = np.asarray(labels)
        if labels.size == 0:
            raise ValueError(f"node {k} has no training labels to match")
        mix = np.array([(labels == c).mean() for c in classes])
        counts = rng.multinomial(size, mix / mix.sum())
        idx = [
            rng.choice(by_class[c], size=n, replace=n > len(by_class[c]))
            for c, n in zip(classes, counts, strict=True)
            if n
        ]
        out.append(np.sort(np.concatenate(idx)))
    return out


def per_node_accuracy(
    logits: np.ndarray, labels: np.ndarray, node_indices: Sequence[np.ndarray]
) -> np.ndarray:
    """Accuracy ``(n_nodes,)`` of predictions ``logits`` ``(n, C)`` on each node's index set."""
    correct = np.asarray(logits).argmax(axis=1) == np.asarray(labels)
    return np.array([correct[np.asarray(idx)].mean() for idx in node_indices])
