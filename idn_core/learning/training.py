"""Seeded training of zoo models with a disk cache keyed by everything that matters."""

from __future__ import annotations

import hashlib
import multiprocessing
import os
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from idn_core._util.cache import cache_key, cached, default_cache_dir
from idn_core._util.threads import single_threaded
from idn_core._util.validation import check_index_array, check_positive_int, check_seed
from idn_core.learning.data import Dataset
from idn_core.learning.models import ModelProfile, ModelSpec, count_flops, profile_model

#: Environment variable: how many processes :func:`train_models` may train in at once.
TRAIN_JOBS_ENV = "IDN_TRAIN_JOBS"

#: Training cost (forward FLOPs x epochs x samples) that the models other than the
#: largest must reach before :func:`train_models` starts worker processes: about 15 s of
#: training on one core (measured: the cloud model's 2e12 take ~300 s), several times a
#: worker's start-up. Quick previews train in-process.
PARALLEL_MIN_COST = 1e11


@dataclass
class TrainedModel:
    """A trained network with its spec, cost profile and validation accuracy."""

    spec: ModelSpec
    module: nn.Module
    profile: ModelProfile
    val_accuracy: float

    @property
    def name(self) -> str:
        return self.spec.name

    def predict_logits(self, x: np.ndarray, batch_size: int = 4096) -> np.ndarray:
        """Logits ``(n, n_classes)`` as float32 for inputs ``(n, length)``."""
        return predict_logits(self.module, x, batch_size)


@single_threaded
def predict_logits(module: nn.Module, x: np.ndarray, batch_size: int = 4096) -> np.ndarray:
    """Evaluate ``module`` in eval mode on ``x`` in batches; returns float32 logits."""
    module.eval()
    out = []
    with torch.inference_mode():
        for start in range(0, len(x), batch_size):
            out.append(module(torch.as_tensor(x[start : start + batch_size])).numpy())
    return np.concatenate(out).astype(np.float32)


@single_threaded
def fit(
    module: nn.Module,
    x: np.ndarray,
    y: np.ndarray,
    spec: ModelSpec,
    seed: int,
    sample_weight: np.ndarray | None = None,
    progress: bool | None = None,
) -> nn.Module:
    """Train ``module`` in place with Adam and cosine decay; returns it in eval mode.

    ``sample_weight`` (non-negative, any scale) reweights the per-sample loss, which
    is how boosting and delivery-aware training emphasise some samples.
    ``spec.shift_augment`` > 0 applies random circular shifts of up to that many steps.
    """
    check_seed(seed)
    if len(x) != len(y):
        raise ValueError(f"x has {len(x)} samples but y has {len(y)}")
    weights = _normalised_weights(sample_weight, len(y))
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    xt, yt, wt = torch.as_tensor(x), torch.as_tensor(y), torch.as_tensor(weights)
    opt = torch.optim.Adam(module.parameters(), lr=spec.lr, weight_decay=spec.weight_decay)
    steps_per_epoch = max(1, int(np.ceil(len(y) / spec.batch_size)))
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, spec.epochs * steps_per_epoch)
    loss_fn = nn.CrossEntropyLoss(reduction="none")
    show = progress_enabled() if progress is None else progress
    module.train()
    for _ in tqdm(range(spec.epochs), desc=f"train {spec.name}", disable=not show, leave=False):
        order = torch.as_tensor(rng.permutation(len(y)))
        for start in range(0, len(y), spec.batch_size):
            idx = order[start : start + spec.batch_size]
            if len(idx) < 2:  # batch norm needs two samples
                continue
            xb = xt[idx]
            if spec.shift_augment:
                xb = random_circular_shift(xb, spec.shift_augment, rng)
            loss = (loss_fn(module(xb), yt[idx]) * wt[idx]).mean()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
    return module.eval()


def train_model(
    spec: ModelSpec,
    dataset: Dataset,
    seed: int = 0,
    *,
    train_indices: np.ndarray | None = None,
    sample_weight: np.ndarray | None = None,
    cache_dir: str | os.PathLike | None = None,
    progress: bool | None = None,
) -> TrainedModel:
    """Train ``spec`` on ``dataset``'s training split (or a subset), cached on disk.

    The cache key covers the dataset's generation config and split, the spec, the
    seed, the subset and the sample weights, so a rerun with the same inputs loads
    the weights instead of training. Validation accuracy is measured on the full
    validation split.
    """
    check_seed(seed)
    x, y, train_indices = _training_subset(dataset, spec, train_indices)
    if sample_weight is not None and len(sample_weight) != len(y):
        raise ValueError(f"sample_weight has {len(sample_weight)} entries for {len(y)} samples")
    key = _model_key(spec, dataset, seed, train_indices, sample_weight)

    def build() -> dict:
        torch.manual_seed(seed)  # the initial weights are part of what the seed fixes
        module = spec.build(dataset.input_length, dataset.n_classes)
        fit(module, x, y, spec, seed, sample_weight, progress)
        profile = profile_model(module, dataset.input_length)
        return {"state": module.state_dict(), "profile": profile}

    entry = cached("models", key, build, cache_dir)
    module = spec.build(dataset.input_length, dataset.n_classes)
    module.load_state_dict(entry["state"])
    module.eval()
    val_acc = float((predict_logits(module, dataset.x_val).argmax(1) == dataset.y_val).mean())
    return TrainedModel(spec, module, entry["profile"], val_acc)


def _training_subset(
    dataset: Dataset, spec: ModelSpec, train_indices: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Training inputs and labels (all, or the checked subset ``train_indices``) and the indices."""
    x, y = dataset.x_train, dataset.y_train
    if train_indices is None:
        return x, y, None
    train_indices = np.asarray(train_indices)
    if train_indices.size == 0:
        raise ValueError(f"{spec.name}: train_indices is empty (a node without data)")
    train_indices = check_index_array("train_indices", train_indices, len(y)).astype(np.int64)
    return x[train_indices], y[train_indices], train_indices


def _model_key(
    spec: ModelSpec,
    dataset: Dataset,
    seed: int,
    train_indices: np.ndarray | None,
    sample_weight: np.ndarray | None,
) -> str:
    """Cache key of a trained model: data config, spec, seed, subset and sample weights."""
    return cache_key(
        "model",
        dataset.config,
        spec.to_dict(),
        seed,
        _digest(train_indices),
        _digest(None if sample_weight is None else np.asarray(sample_weight, np.float64)),
    )


def training_jobs() -> int:
    """Processes :func:`train_models` trains in by default: ``$IDN_TRAIN_JOBS``, else 1.

    The book build sets it for the notebook that runs alone first (it trains the zoo
    while no other notebook uses the second core).
    """
    value = os.environ.get(TRAIN_JOBS_ENV, "")
    if not value:
        return 1
    if not value.isdigit() or int(value) < 1:
        raise ValueError(f"{TRAIN_JOBS_ENV} must be a positive integer, got {value!r}")
    return int(value)


def train_models(
    specs: Sequence[ModelSpec],
    dataset: Dataset,
    seed: int = 0,
    *,
    jobs: int | None = None,
    cache_dir: str | os.PathLike | None = None,
    progress: bool | None = None,
) -> dict[str, TrainedModel]:
    """:func:`train_model` for every spec (same ``seed``), keyed by name, in ``specs`` order.

    With ``jobs > 1`` (default :func:`training_jobs`) the models missing from the disk
    cache are first trained in ``jobs`` spawned processes, largest first; each trains on
    one thread exactly as it would here, so the weights are the same bit for bit and the
    results are then loaded from the cache. Without a usable cache
    (``IDN_NO_CACHE=1``) everything trains here, one model after the other.
    """
    check_seed(seed)
    jobs = training_jobs() if jobs is None else check_positive_int("jobs", jobs)
    names = [s.name for s in specs]
    if len(set(names)) != len(names):
        raise ValueError(f"spec names must be unique, got {names}")
    if jobs > 1 and os.environ.get("IDN_NO_CACHE") != "1":
        _pretrain(list(specs), dataset, seed, jobs, cache_dir)
    return {
        s.name: train_model(s, dataset, seed, cache_dir=cache_dir, progress=progress) for s in specs
    }


@dataclass(frozen=True)
class TrainingRequest:
    """One :func:`train_model` call to make: a spec, its seed and optional training subset.

    ``train_indices`` (``None``: the whole training split) index the dataset's training
    split, as in :func:`train_model`; sample weights are not part of a request (boosting's
    weights depend on the members before, so those trainings cannot run ahead).
    """

    spec: ModelSpec
    seed: int = 0
    train_indices: np.ndarray | None = None


def pretrain(
    requests: Sequence[TrainingRequest],
    dataset: Dataset,
    *,
    jobs: int | None = None,
    cache_dir: str | os.PathLike | None = None,
) -> int:
    """Train the requested models missing from the disk cache in ``jobs`` worker processes.

    Independent trainings (a zoo, the members of a committee) can run at once; each
    worker trains one model on one thread exactly as :func:`train_model` would in this
    process, so the weights are the same bit for bit and the caller then loads them from
    the cache. Nothing happens with ``jobs == 1`` (default :func:`training_jobs`), without
    a usable cache (``IDN_NO_CACHE=1``), with fewer than two missing models, or when the
    models beside the largest cost less than :data:`PARALLEL_MIN_COST` (a worker's
    start-up would cost more than it saves). Returns the number of models trained.
    """
    jobs = training_jobs() if jobs is None else check_positive_int("jobs", jobs)
    for r in requests:
        if not isinstance(r, TrainingRequest):
            raise TypeError(f"requests must be TrainingRequest records, got {type(r).__name__}")
        check_seed(r.seed)
    if jobs < 2 or os.environ.get("IDN_NO_CACHE") == "1":
        return 0
    folder = Path(cache_dir or default_cache_dir()) / "models"
    missing = [r for r in requests if not (folder / f"{_request_key(r, dataset)}.pt").exists()]
    if len(missing) < 2:
        return 0
    costs = [_training_cost(r.spec, dataset, r.train_indices) for r in missing]
    if sum(costs) - max(costs) < PARALLEL_MIN_COST:
        return 0
    missing = [missing[i] for i in sorted(range(len(missing)), key=lambda i: -costs[i])]
    context = multiprocessing.get_context("spawn")  # no fork of a process holding torch
    with ProcessPoolExecutor(max_workers=min(jobs, len(missing)), mp_context=context) as pool:
        futures = [pool.submit(_train_quietly, r, dataset, cache_dir) for r in missing]
        for future in futures:
            future.result()
    return len(missing)


def _pretrain(
    specs: list[ModelSpec],
    dataset: Dataset,
    seed: int,
    jobs: int,
    cache_dir: str | os.PathLike | None,
) -> None:
    """Train the specs missing from the cache in ``jobs`` worker processes, largest first."""
    pretrain([TrainingRequest(s, seed) for s in specs], dataset, jobs=jobs, cache_dir=cache_dir)


def _request_key(request: TrainingRequest, dataset: Dataset) -> str:
    """The model-cache key :func:`train_model` uses for ``request`` (checked indices)."""
    _, _, indices = _training_subset(dataset, request.spec, request.train_indices)
    return _model_key(request.spec, dataset, request.seed, indices, None)


def _training_cost(
    spec: ModelSpec, dataset: Dataset, train_indices: np.ndarray | None = None
) -> float:
    """Cost of training ``spec``: forward FLOPs per sample x epochs x training samples."""
    with torch.random.fork_rng(devices=[]):  # building draws initial weights
        module = spec.build(dataset.input_length, dataset.n_classes)
    flops = count_flops(module, dataset.input_length)
    n = len(dataset.y_train) if train_indices is None else len(train_indices)
    return float(flops * spec.epochs * n)


def _train_quietly(
    request: TrainingRequest, dataset: Dataset, cache_dir: str | os.PathLike | None
) -> None:
    """Worker process: train ``request`` into the cache (the result is read back from it)."""
    train_model(
        request.spec,
        dataset,
        request.seed,
        train_indices=request.train_indices,
        cache_dir=cache_dir,
        progress=False,
    )


def random_circular_shift(
    x: torch.Tensor, max_shift: int, rng: np.random.Generator
) -> torch.Tensor:
    """Shift each row of ``x`` circularly by its own random offset in ``[-max_shift, max_shift]``."""
    length = x.shape[1]
    shifts = torch.as_tensor(rng.integers(-max_shift, max_shift + 1, size=len(x)))
    index = (torch.arange(length)[None, :] - shifts[:, None]) % length
    return torch.gather(x, 1, index)


def _normalised_weights(sample_weight: np.ndarray | None, n: int) -> np.ndarray:
    if sample_weight is None:
        return np.ones(n, dtype=np.float32)
    w = np.asarray(sample_weight, dtype=np.float64)
    if w.shape != (n,) or not np.isfinite(w).all() or (w < 0).any() or w.sum() <= 0:
        raise ValueError("sample_weight must be finite, non-negative, not all zero, one per sample")
    return (w * n / w.sum()).astype(np.float32)


def _digest(arr: np.ndarray | None) -> str | None:
    if arr is None:
        return None
    return hashlib.sha256(np.ascontiguousarray(arr).tobytes()).hexdigest()[:16]


def progress_enabled() -> bool:
    """Whether progress bars are shown when a caller does not say (``progress=None``).

    Off when ``IDN_PROGRESS=0``, and off while the book build executes a notebook
    (``IDN_BOOK_BUILD`` set, see :mod:`idn_core.views.display`): a finished bar, even one
    that does not stay, leaves an empty output block in the saved notebook, which the
    rendered page shows as a blank gap. A reader running the notebook sees the bars.
    """
    if os.environ.get("IDN_PROGRESS", "1").strip() == "0":
        return False
    return os.environ.get("IDN_BOOK_BUILD", "").strip() in ("", "0", "false", "False")
