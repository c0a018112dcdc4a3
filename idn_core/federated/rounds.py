"""The pure pieces of one FedAvg round, shared by every engine that runs rounds.

A model's weights travel as a *state* (:data:`idn_core.learning.State`). Three pieces make a
round, so that another engine (e.g. a Flower ``Strategy`` and ``ClientApp``) calls the very
same code and gets the very same weights:

* :func:`sample_clients`: which clients take part in a round (seeded);
* :func:`client_update`: one client's local training from the global state, with the seed
  :func:`client_seed` of its (round, client) pair;
* :func:`weighted_average`: the server's sample-weighted average of client states.

This module is the counterpart of Flower's ``strategy/aggregate.py``; the in-process loop
(:func:`idn_core.federated.fedavg.run_fedavg`) and the Flower backend
(:mod:`idn_core.federated.fedavg_flower`) both call it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from idn_core._util.validation import check_fraction, check_positive_int, check_seed
from idn_core.learning.models import ModelSpec
from idn_core.learning.state import State, load_state, module_state
from idn_core.learning.training import fit


def weighted_average(states: Sequence[State], weights: Sequence[float]) -> State:
    """Average client states with non-negative ``weights`` (e.g. their sample counts).

    Floating arrays are averaged with weights normalised to sum to one; integer buffers
    (batch-norm step counters) take the maximum. Pure: inputs are not modified.

    Parameters
    ----------
    states : client states with identical names and shapes.
    weights : one weight per state; not all zero.

    Examples
    --------
    >>> a, b = {"w": np.array([0.0, 2.0])}, {"w": np.array([4.0, 2.0])}
    >>> weighted_average([a, b], [3, 1])["w"].tolist()
    [1.0, 2.0]
    """
    if not states:
        raise ValueError("weighted_average needs at least one client state")
    w = np.asarray(weights, dtype=np.float64)
    if w.shape != (len(states),):
        raise ValueError(f"need one weight per state: {len(states)} states, weights {w.shape}")
    if not np.isfinite(w).all() or (w < 0).any() or w.sum() <= 0:
        raise ValueError(f"weights must be finite, non-negative and not all zero, got {w.tolist()}")
    w = w / w.sum()
    names = list(states[0])
    for i, s in enumerate(states[1:], start=1):
        if list(s) != names:
            raise ValueError(
                f"client state {i} has names {list(s)[:3]}..., expected {names[:3]}..."
            )
    out: State = {}
    for name in names:
        arrays = [np.asarray(s[name]) for s in states]
        _check_same_shapes(name, arrays)
        if np.issubdtype(arrays[0].dtype, np.floating):
            out[name] = sum(wi * a.astype(np.float64) for wi, a in zip(w, arrays, strict=True))
            out[name] = out[name].astype(arrays[0].dtype)
        else:
            out[name] = np.max(arrays, axis=0)
    return out


def _check_same_shapes(name: str, arrays: Sequence[np.ndarray]) -> None:
    """Every client's ``name`` array must have client 0's shape (no silent broadcasting)."""
    for i, a in enumerate(arrays[1:], start=1):
        if a.shape != arrays[0].shape:
            raise ValueError(
                f"states: {name!r} has shape {a.shape} in client state {i} but "
                f"{arrays[0].shape} in client state 0"
            )


def sample_clients(n_clients: int, fraction: float, rng: np.random.Generator) -> np.ndarray:
    """Indices (sorted) of ``max(1, round(fraction * n_clients))`` clients drawn without replacement."""
    check_positive_int("n_clients", n_clients)
    check_fraction("fraction", fraction, open_low=True)
    m = max(1, round(fraction * n_clients))
    return np.sort(rng.choice(n_clients, size=m, replace=False))


def client_seed(seed: int, round_: int, client: int) -> int:
    """Seed of ``client``'s local training in round ``round_``: independent streams per pair."""
    check_seed(seed)
    check_seed(round_, "round_")
    check_seed(client, "client")
    return int(np.random.SeedSequence([seed, round_, client]).generate_state(1)[0])


def check_sample_weight(sample_weight: np.ndarray | None, n: int) -> np.ndarray | None:
    """``sample_weight`` as a float array ``(n,)``, or ``None``; raises if it cannot train.

    NaN, infinite or negative weights would make every comparison with zero false and
    the client silently skip training, so they are rejected here with a message naming
    ``sample_weight``. Zero weights are valid (the sample does not count).
    """
    if sample_weight is None:
        return None
    w = np.asarray(sample_weight)
    if not (np.issubdtype(w.dtype, np.number) or w.dtype == bool):
        raise TypeError(f"sample_weight must be a numeric array, got dtype {w.dtype}")
    w = w.astype(np.float64)
    if w.shape != (n,):
        raise ValueError(f"sample_weight must have shape ({n},), got {w.shape}")
    bad = np.flatnonzero(~np.isfinite(w))
    if bad.size:
        raise ValueError(
            f"sample_weight must be finite; {bad.size} NaN or infinite entries "
            f"(first at index {int(bad[0])})"
        )
    negative = np.flatnonzero(w < 0)
    if negative.size:
        raise ValueError(
            f"sample_weight must be >= 0; {negative.size} negative entries "
            f"(first at index {int(negative[0])}: {w[negative[0]]!r})"
        )
    return w


@dataclass(frozen=True)
class ClientUpdate:
    """What a client returns to the server: its new state and its aggregation weight.

    ``weight == 0`` means the client's sample weights sum to zero: it did not train and
    returns the global state unchanged (the server reports it as skipped).
    """

    state: State
    weight: float
    n_samples: int

    @property
    def skipped(self) -> bool:
        """Whether the client did not train (its sample weights sum to zero)."""
        return self.weight == 0


def client_update(
    global_state: State,
    spec: ModelSpec,
    x: np.ndarray,
    y: np.ndarray,
    *,
    input_length: int,
    n_classes: int,
    local_epochs: int,
    seed: int,
    sample_weight: np.ndarray | None = None,
) -> ClientUpdate:
    """Train a copy of the global model on one client's data with :func:`idn_core.fit`.

    The aggregation weight is the client's number of samples, or the sum of its
    ``sample_weight`` (so that FedAvg minimises the globally weighted loss).

    Parameters
    ----------
    global_state : the server's current weights.
    spec : architecture and optimiser recipe; ``spec.epochs`` is replaced by ``local_epochs``.
    x, y : the client's inputs ``(n, length)`` and labels ``(n,)``; ``n >= 1``.
    sample_weight : optional finite, non-negative weights ``(n,)``; if they sum to zero the
        client does not train and returns the global state with weight 0
        (:attr:`ClientUpdate.skipped`), which the caller must report.
    """
    if len(y) == 0:
        raise ValueError("a client without data cannot train; give every node samples")
    sample_weight = check_sample_weight(sample_weight, len(y))
    module = load_state(spec.build(input_length, n_classes), global_state)
    weight = float(len(y)) if sample_weight is None else float(np.sum(sample_weight))
    if weight > 0:
        fit(module, x, y, replace(spec, epochs=local_epochs), seed, sample_weight, progress=False)
    return ClientUpdate(module_state(module), weight, len(y))
