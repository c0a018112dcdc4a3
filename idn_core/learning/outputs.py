"""The outputs table: every model's class probabilities on every evaluation sample.

Model outputs are computed once; delivery policies are then evaluated many times on
this table with pure array functions, which is what keeps widgets instant.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from idn_core._util.validation import as_float_array, check_finite, check_probabilities


def softmax(logits: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    """Numerically stable softmax over the last axis, with optional temperature (> 0)."""
    if check_finite("temperature", temperature) <= 0:
        raise ValueError(f"temperature must be > 0, got {temperature!r}")
    z = np.asarray(logits, dtype=np.float64) / temperature
    z = z - z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


@dataclass(frozen=True)
class OutputsTable:
    """Logits of ``M`` models on ``N`` samples of one split, with the true labels.

    Attributes
    ----------
    models : model names, length ``M`` (the order of the first axis).
    logits : float array ``(M, N, C)``; probabilities are ``softmax(logits)``.
    labels : int array ``(N,)``.
    split : which split the samples come from (``"val"`` or ``"test"``).
    """

    models: tuple[str, ...]
    logits: np.ndarray
    labels: np.ndarray
    split: str = "test"

    def __post_init__(self) -> None:
        logits = np.asarray(self.logits)
        if logits.ndim != 3:
            raise ValueError(
                f"logits must have shape (models, samples, classes), got {logits.shape}"
            )
        if 0 in logits.shape:
            raise ValueError(
                "logits must hold at least one model, one sample and one class, "
                f"got shape {logits.shape} (models, samples, classes)"
            )
        if len(self.models) != logits.shape[0]:
            raise ValueError(
                f"{len(self.models)} model names for {logits.shape[0]} models of logits"
            )
        if len(set(self.models)) != len(self.models):
            raise ValueError(f"model names must be unique, got {self.models}")
        if np.shape(self.labels) != (logits.shape[1],):
            raise ValueError(
                f"labels must have shape ({logits.shape[1]},), got {np.shape(self.labels)}"
            )
        if not np.isfinite(logits).all():
            raise ValueError("logits contain NaN or infinity")
        labels = np.asarray(self.labels)
        if not np.issubdtype(labels.dtype, np.integer):
            raise TypeError(f"labels must be integer class indices, got dtype {labels.dtype}")
        if labels.min() < 0 or labels.max() >= logits.shape[2]:
            raise ValueError(
                f"labels must lie in [0, {logits.shape[2]}), got range [{labels.min()}, {labels.max()}]"
            )

    @classmethod
    def from_probs(
        cls, models: tuple[str, ...], probs: np.ndarray, labels: np.ndarray, split: str = "test"
    ) -> OutputsTable:
        """Build a table from probabilities (validated: non-negative, rows summing to one)."""
        probs = check_probabilities("probs", probs)
        return cls(tuple(models), np.log(np.clip(probs, 1e-12, None)), np.asarray(labels), split)

    @property
    def n_models(self) -> int:
        return len(self.models)

    @property
    def n_samples(self) -> int:
        return int(self.logits.shape[1])

    @property
    def n_classes(self) -> int:
        return int(self.logits.shape[2])

    def index(self, model: str) -> int:
        """Position of ``model`` on the first axis; ``KeyError`` naming it if unknown."""
        try:
            return self.models.index(model)
        except ValueError:
            raise KeyError(
                f"unknown model {model!r}; the table holds {list(self.models)}"
            ) from None

    def probs(self, temperatures: np.ndarray | None = None) -> np.ndarray:
        """Probabilities ``(M, N, C)``, optionally with one temperature per model."""
        if temperatures is None:
            return softmax(self.logits)
        t = as_float_array("temperatures", temperatures).ravel()
        if t.shape != (self.n_models,) or not np.isfinite(t).all() or (t <= 0).any():
            raise ValueError(
                f"temperatures must be {self.n_models} finite positive numbers (one per model), "
                f"got {np.ravel(temperatures).tolist()}"
            )
        return softmax(self.logits / t.reshape(-1, 1, 1))

    def predictions(self) -> np.ndarray:
        """Predicted classes ``(M, N)``."""
        return self.logits.argmax(axis=-1)

    def correct(self) -> np.ndarray:
        """Boolean ``(M, N)``: is model ``m`` right on sample ``n``."""
        return self.predictions() == self.labels[None, :]

    def accuracy(self) -> dict[str, float]:
        """Accuracy of each model on this split."""
        return dict(zip(self.models, self.correct().mean(axis=1).tolist(), strict=True))

    def select(self, models: list[str] | tuple[str, ...]) -> OutputsTable:
        """A table restricted to (and ordered as) ``models``."""
        idx = [self.index(m) for m in models]
        return OutputsTable(tuple(models), self.logits[idx], self.labels, self.split)
