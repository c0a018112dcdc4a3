"""Experiments of chapter 5 over several seeds: FedAvg under data skews, delivery-aware training.

Each study returns tidy ``pandas`` tables (one row per seed and setting) that the chapter
plots with :mod:`idn_core.views.federated` and the benchmark summarises.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from idn_core._util.validation import check_choice, check_fraction, check_positive_int
from idn_core.federated.delivery_aware import (
    max_confidence,
    result_logits,
    run_delivery_training,
    tradeoff_curve,
)
from idn_core.federated.fedavg import node_test_indices, run_fedavg
from idn_core.learning.data import Dataset, partition_dirichlet, partition_iid, partition_quantity
from idn_core.learning.models import ModelSpec, count_flops
from idn_core.learning.state import load_state
from idn_core.learning.training import predict_logits, progress_enabled
from idn_core.network.topology import Topology, tree_topology

SCHEMES = ("iid", "dirichlet", "quantity")

#: The cascade of chapter 5: three MLPs of growing width (device, edge, cloud).
CASCADE_SPECS = (
    ModelSpec("mlp-device", "device", "mlp", {"hidden": [16]}, batch_size=128, lr=1e-2),
    ModelSpec("mlp-edge", "edge", "mlp", {"hidden": [128]}, batch_size=128, lr=1e-2),
    ModelSpec("mlp-cloud", "cloud", "mlp", {"hidden": [256, 256]}, batch_size=128, lr=1e-2),
)


def make_partitions(
    scheme: str, labels: np.ndarray, n_clients: int, seed: int = 0, skew: float = 0.5
) -> list[np.ndarray]:
    """Client partitions of a training set: ``"iid"``, ``"dirichlet"`` (label skew ``alpha =
    skew``) or ``"quantity"`` (sizes from Dirichlet(``skew``), labels IID)."""
    check_choice("partition scheme", scheme, SCHEMES)
    check_positive_int("n_clients", n_clients)
    if scheme == "iid":
        return partition_iid(len(labels), n_clients, seed)
    if scheme == "dirichlet":
        return partition_dirichlet(labels, n_clients, skew, seed, min_size=10)
    return partition_quantity(len(labels), n_clients, skew, seed, min_size=10)


def fedavg_study(
    dataset: Dataset,
    spec: ModelSpec,
    *,
    schemes: Sequence[str] = SCHEMES,
    seeds: Sequence[int] = (0, 1, 2),
    n_clients: int = 10,
    rounds: int = 10,
    local_epochs: int = 1,
    fraction: float = 1.0,
    skew: float = 0.5,
    local_share: float = 0.5,
    node_test_size: int = 400,
    progress: bool | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """FedAvg of ``spec`` under each partition scheme and seed.

    Returns
    -------
    curves : one row per (scheme, seed, round) with the global model's test accuracy.
    nodes : one row per (scheme, seed, node): accuracy on the node's own test
        distribution (drawn with its training label mix) and on the requests it serves
        when it answers its ``local_share`` most confident ones and forwards the rest.
    """
    check_fraction("local_share", local_share, open_low=True)
    curves, nodes = [], []
    show = progress_enabled() if progress is None else progress
    jobs = [(s, seed) for s in schemes for seed in seeds]
    for scheme, seed in tqdm(jobs, desc="FedAvg study", disable=not show):
        parts = make_partitions(scheme, dataset.y_train, n_clients, seed, skew)

        def evaluate(state, _spec=spec):

            mod = load_state(_spec.build(dataset.input_length, dataset.n_classes), state)
            acc = (predict_logits(mod, dataset.x_test).argmax(1) == dataset.y_test).mean()
            return {"test_acc": float(acc)}

        res = run_fedavg(
            spec,
            dataset.x_train,
            dataset.y_train,
            parts,
            rounds=rounds,
            local_epochs=local_epochs,
            fraction=fraction,
            seed=seed,
            n_classes=dataset.n_classes,
            evaluate=evaluate,
            progress=False,
        )
        hist = res.history.assign(scheme=scheme, seed=seed)
        curves.append(hist[["scheme", "seed", "round", "test_acc"]])
        logits = res.predict_logits(dataset.x_test)
        conf = max_confidence(logits)
        correct = logits.argmax(1) == dataset.y_test
        idx = node_test_indices(
            [dataset.y_train[p] for p in parts], dataset.y_test, node_test_size, seed
        )
        for k, ix in enumerate(idx):
            n_serve = max(1, int(round(local_share * len(ix))))
            served = ix[np.argsort(-conf[ix], kind="stable")[:n_serve]]
            nodes.append(
                {
                    "scheme": scheme,
                    "seed": seed,
                    "node": k,
                    "samples": len(parts[k]),
                    "own_acc": float(correct[ix].mean()),
                    "served_acc": float(correct[served].mean()),
                }
            )
    return pd.concat(curves, ignore_index=True), pd.DataFrame(nodes)


def tier_latencies_ms(
    specs: Sequence[ModelSpec],
    input_length: int,
    n_classes: int = 10,
    topology: Topology | None = None,
) -> np.ndarray:
    """Latency (ms) of answering at each tier of the first device's path, from the models' FLOPs."""
    topology = topology or tree_topology(n_edges=2, devices_per_edge=2)
    device = topology.devices[0]
    path = topology.path(device)
    if len(path) != len(specs):
        raise ValueError(f"{len(specs)} models for a path of {len(path)} nodes {path}")
    flops = [count_flops(s.build(input_length, n_classes), input_length) for s in specs]
    return np.array(
        [topology.serving_latency_ms(device, n, f) for n, f in zip(path, flops, strict=True)]
    )


def delivery_study(
    dataset: Dataset,
    *,
    specs: Sequence[ModelSpec] = CASCADE_SPECS,
    seeds: Sequence[int] = (0, 1, 2),
    shares: Sequence[float] = (0.5, 0.3, 0.2),
    n_clients: int = 8,
    skew: float = 1.0,
    rounds: int = 10,
    local_epochs: int = 2,
    alternations: int = 3,
    rounds_per_alternation: int = 4,
    progress: bool | None = None,
) -> dict[str, pd.DataFrame]:
    """Plain versus delivery-aware FedAvg of a three-tier cascade over ``seeds``.

    Clients hold Dirichlet(``skew``) label-skewed partitions. Thresholds are calibrated
    on validation so that the tiers serve ``shares``; metrics are on the test split.

    Returns
    -------
    dict of DataFrames: ``"history"`` (served accuracy per arm, seed and alternation),
    ``"final"`` (the last alternation), ``"tradeoff"`` (accuracy and mean latency as one
    threshold sweeps, per arm and seed) and ``"latency"`` (per-tier latency in ms).
    """
    latency = tier_latencies_ms(specs, dataset.input_length, dataset.n_classes)
    hist, curves = [], []
    show = progress_enabled() if progress is None else progress
    for seed in tqdm(list(seeds), desc="delivery study", disable=not show):
        parts = make_partitions("dirichlet", dataset.y_train, n_clients, seed, skew)
        res = run_delivery_training(
            list(specs),
            dataset.x_train,
            dataset.y_train,
            parts,
            dataset.x_val,
            dataset.y_val,
            shares=shares,
            rounds=rounds,
            local_epochs=local_epochs,
            alternations=alternations,
            rounds_per_alternation=rounds_per_alternation,
            seed=seed,
            n_classes=dataset.n_classes,
            x_test=dataset.x_test,
            y_test=dataset.y_test,
            progress=False,
        )
        hist.append(res.history.assign(seed=seed))
        for arm in ("plain", "delivery-aware"):
            logits = result_logits(res, arm, dataset.x_test, dataset.n_classes)
            curves.append(
                tradeoff_curve(logits, dataset.y_test, latency).assign(arm=arm, seed=seed)
            )
    history = pd.concat(hist, ignore_index=True)
    final = history[history.alternation == history.alternation.max()].reset_index(drop=True)
    tiers = [s.tier for s in specs]
    return {
        "history": history,
        "final": final,
        "tradeoff": pd.concat(curves, ignore_index=True),
        "latency": pd.DataFrame({"tier": tiers, "latency_ms": latency}),
    }


def mean_std(frame: pd.DataFrame, by: Sequence[str], columns: Sequence[str]) -> pd.DataFrame:
    """Mean and standard deviation over seeds of ``columns`` grouped by ``by`` (flat names)."""
    agg = frame.groupby(list(by))[list(columns)].agg(["mean", "std"])
    agg.columns = [f"{c}_{s}" for c, s in agg.columns]
    return agg.reset_index()
