"""Ensemble members trained apart: bagging across nodes and SAMME boosting along the path.

IDN members are small models held by different nodes. They are trained with
:func:`idn_core.learning.training.train_model` (seeded, disk-cached) either

* on **bootstrap resamples** of the training set (bagging, Breiman 1996), or
* on the **nodes' own data**: a label-skewed Dirichlet(``alpha``) partition of the training
  set (:func:`idn_core.learning.data.partition_dirichlet`), as federated nodes would hold it, or
* with **SAMME weights** (:func:`train_boosted`): member ``k`` emphasises what members
  ``0..k-1`` get wrong.

Architectures differ between members (:func:`member_specs`) so that errors decorrelate.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from idn_core._util.validation import check_choice, check_positive, check_positive_int, check_seed
from idn_core.ensembles.boosting import SammeResult, early_stop_decision, samme
from idn_core.ensembles.combining import combine
from idn_core.learning.data import Dataset, partition_dirichlet
from idn_core.learning.models import ModelSpec
from idn_core.learning.outputs import OutputsTable
from idn_core.learning.training import (
    TrainedModel,
    TrainingRequest,
    predict_logits,
    pretrain,
    train_model,
)

#: Offset between a member's training seed and the ensemble seed (keeps them apart from the zoo's).
SEED_OFFSET = 10


def bootstrap_indices(n_samples: int, n_members: int, seed: int = 0) -> list[np.ndarray]:
    """``n_members`` sorted bootstrap resamples (with replacement) of ``range(n_samples)``."""
    check_seed(seed)
    check_positive_int("n_samples", n_samples)
    check_positive_int("n_members", n_members)
    rng = np.random.default_rng(seed)
    return [np.sort(rng.integers(0, n_samples, n_samples)) for _ in range(n_members)]


@dataclass
class Members:
    """Trained ensemble members with their outputs on the validation and test splits."""

    models: list[TrainedModel]
    val: OutputsTable
    test: OutputsTable
    train_indices: list[np.ndarray | None]
    boosting: SammeResult | None = None

    @property
    def names(self) -> tuple[str, ...]:
        return self.val.models

    def flops(self) -> list[int]:
        """FLOPs per sample of each member."""
        return [m.profile.flops for m in self.models]

    def table(self) -> pd.DataFrame:
        """One row per member: parameters, memory, training samples, accuracies."""
        acc_v, acc_t = self.val.accuracy(), self.test.accuracy()
        return pd.DataFrame(
            [
                {
                    "member": n,
                    "params": m.profile.params,
                    "memory_kb": round(m.profile.memory_kb, 2),
                    "train_samples": len(idx) if idx is not None else None,
                    "val_acc": acc_v[n],
                    "test_acc": acc_t[n],
                }
                for n, m, idx in zip(self.names, self.models, self.train_indices, strict=True)
            ]
        ).set_index("member")


def outputs_of(
    models: list[TrainedModel], dataset: Dataset, names: list[str]
) -> tuple[OutputsTable, OutputsTable]:
    """Validation and test :class:`OutputsTable` of ``models`` (first axis named ``names``)."""
    tables = []
    for split in ("val", "test"):
        x, y = dataset.split(split)
        logits = np.stack([m.predict_logits(x) for m in models])
        tables.append(OutputsTable(tuple(names), logits, y, split))
    return tables[0], tables[1]


def member_parts(
    dataset: Dataset, n_members: int, seed: int = 0, mode: str = "bootstrap", alpha: float = 1.0
) -> list[np.ndarray]:
    """Training indices of each of ``n_members`` members, as :func:`train_bagged` draws them.

    Bootstrap resamples of the training split, or a Dirichlet(``alpha``) partition of it
    (``mode="dirichlet"``, at least 20 samples per node).
    """
    check_seed(seed)
    check_choice("mode", mode, ("bootstrap", "dirichlet"))
    check_positive_int("number of specs", n_members)
    if mode == "bootstrap":
        return bootstrap_indices(len(dataset.y_train), n_members, seed)
    return partition_dirichlet(dataset.y_train, n_members, check_positive("alpha", alpha), seed, 20)


def member_requests(
    specs: list[ModelSpec], parts: list[np.ndarray], seed: int = 0
) -> list[TrainingRequest]:
    """The trainings of :func:`train_bagged`: member ``i`` on ``parts[i]`` with seed ``seed + 10 + i``."""
    check_seed(seed)
    if len(specs) != len(parts):
        raise ValueError(f"need one part per spec, got {len(parts)} parts for {len(specs)} specs")
    return [
        TrainingRequest(s, seed + SEED_OFFSET + i, p)
        for i, (s, p) in enumerate(zip(specs, parts, strict=True))
    ]


def train_bagged(
    dataset: Dataset,
    specs: list[ModelSpec],
    seed: int = 0,
    mode: str = "bootstrap",
    alpha: float = 1.0,
    progress: bool | None = None,
) -> Members:
    """Train one member per spec on a bootstrap resample or on a node's Dirichlet partition.

    Parameters
    ----------
    dataset : the dataset (members train on subsets of its training split).
    specs : one spec per member (see :func:`member_specs`).
    seed : seeds the resamples or partition; member ``i`` trains with seed ``seed + 10 + i``.
    mode : ``"bootstrap"`` or ``"dirichlet"`` (label-skewed node data, concentration ``alpha``).

    With ``IDN_TRAIN_JOBS`` > 1 the members missing from the model cache train at once
    in worker processes (:func:`idn_core.learning.pretrain`; same weights bit for bit).
    """
    parts = member_parts(dataset, len(specs), seed, mode, alpha)
    requests = member_requests(specs, parts, seed)
    pretrain(requests, dataset)  # at once if IDN_TRAIN_JOBS > 1, then loaded from the cache
    models = [
        train_model(r.spec, dataset, r.seed, train_indices=r.train_indices, progress=progress)
        for r in requests
    ]
    val, test = outputs_of(models, dataset, [s.name for s in specs])
    return Members(models, val, test, list(parts))


def train_boosted(
    dataset: Dataset,
    specs: list[ModelSpec],
    seed: int = 0,
    first: TrainedModel | None = None,
    learning_rate: float = 1.0,
    progress: bool | None = None,
) -> Members:
    """SAMME along the path: member ``k`` trains on the weights left by members ``0..k-1``.

    ``first`` (e.g. the zoo's device model, trained with uniform weights) replaces the
    training of member 0; the weights it receives are uniform, so it is SAMME's first
    member exactly. Members train with seed ``seed + 10 + k``; uniform weights are passed
    as ``None`` so the cache is shared with unweighted training.
    """
    check_seed(seed)
    models: list[TrainedModel] = []
    n = len(dataset.y_train)

    def fit_member(k: int, weights: np.ndarray) -> np.ndarray:
        if k == 0 and first is not None:
            model = first
        else:
            uniform = np.allclose(weights, 1.0 / n, rtol=0, atol=1e-15)
            model = train_model(
                specs[k],
                dataset,
                seed + SEED_OFFSET + k,
                sample_weight=None if uniform else weights,
                progress=progress,
            )
        models.append(model)
        return predict_logits(model.module, dataset.x_train).argmax(axis=1)

    result = samme(fit_member, dataset.y_train, dataset.n_classes, len(specs), learning_rate)
    kept = models[: result.n_members]
    val, test = outputs_of(kept, dataset, [m.spec.name for m in kept])
    return Members(kept, val, test, [None] * len(kept), result)


def accuracy_vs_members(
    probs: np.ndarray, labels: np.ndarray, rule: str = "soft", n_orders: int = 20, seed: int = 0
) -> pd.DataFrame:
    """Accuracy of the combination of ``k`` members, ``k = 1..M``, over random member orders.

    Returns columns ``k``, ``mean``, ``min``, ``max`` (over ``n_orders`` seeded orders).
    """
    check_seed(seed)
    p = np.asarray(probs, dtype=float)
    y = np.asarray(labels)
    check_positive_int("n_orders", n_orders)
    rng = np.random.default_rng(seed)
    acc = np.zeros((n_orders, p.shape[0]))
    for o in range(n_orders):
        order = rng.permutation(p.shape[0])
        for k in range(1, p.shape[0] + 1):
            acc[o, k - 1] = (combine(p[order[:k]], rule).argmax(1) == y).mean()
    return pd.DataFrame(
        {
            "k": np.arange(1, p.shape[0] + 1),
            "mean": acc.mean(0),
            "min": acc.min(0),
            "max": acc.max(0),
        }
    )


def skew_sweep(
    dataset: Dataset,
    alphas: list[float],
    specs: list[ModelSpec],
    seed: int = 0,
    progress: bool | None = None,
) -> pd.DataFrame:
    """Members trained on Dirichlet(``alpha``) node partitions, one sweep point per ``alpha``.

    Returns one row per ``alpha``: mean and best member test accuracy, and the test
    accuracy of the soft, log and hard combinations of all members.
    """
    check_seed(seed)
    requests = [
        r
        for a in alphas
        for r in member_requests(
            specs, member_parts(dataset, len(specs), seed, "dirichlet", a), seed
        )
    ]
    pretrain(requests, dataset)  # every sweep point's members at once if IDN_TRAIN_JOBS > 1
    rows = []
    for a in alphas:
        mem = train_bagged(dataset, specs, seed, "dirichlet", a, progress)
        p, y = mem.test.probs(), mem.test.labels
        accs = mem.test.correct().mean(axis=1)
        row = {
            "alpha": float(a),
            "member_mean": float(accs.mean()),
            "member_best": float(accs.max()),
        }
        for rule in ("soft", "log", "hard"):
            row[f"ensemble_{rule}"] = float((combine(p, rule).argmax(1) == y).mean())
        rows.append(row)
    return pd.DataFrame(rows)


def boosting_rate_sweep(
    dataset: Dataset,
    specs: list[ModelSpec],
    first: TrainedModel,
    learning_rates: list[float],
    seed: int = 0,
    progress: bool | None = None,
) -> pd.DataFrame:
    """Boosting along the path for several SAMME learning rates.

    Returns one row per learning rate: test accuracy of the weighted vote, mean fraction
    of members queried under exact early stopping, and the member weights.
    """
    check_seed(seed)

    rows = []
    for lr in learning_rates:
        mem = train_boosted(dataset, specs, seed, first, float(lr), progress)
        b = mem.boosting
        d = early_stop_decision(mem.test.predictions(), b.alphas, b.n_classes)
        rows.append(
            {
                "learning_rate": float(lr),
                "accuracy": float((d.prediction == mem.test.labels).mean()),
                "queried_fraction": float(d.queried.mean()),
                "members": b.n_members,
                "alphas": np.round(b.alphas, 3).tolist(),
            }
        )
    return pd.DataFrame(rows)


__all__ = [
    "SEED_OFFSET",
    "Members",
    "accuracy_vs_members",
    "bootstrap_indices",
    "boosting_rate_sweep",
    "member_parts",
    "member_requests",
    "outputs_of",
    "skew_sweep",
    "train_bagged",
    "train_boosted",
]
