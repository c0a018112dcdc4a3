"""Temperature scaling: fitted temperatures against a grid search of the validation NLL."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import log_softmax, softmax

from idn_core.learning import OutputsTable, fit_temperatures


def tempered_table(true_temperatures: list[float], n: int = 1000, classes: int = 5) -> OutputsTable:
    """One model per temperature: labels drawn from ``softmax(logits / T)``, so ``T`` is the
    maximum-likelihood temperature in the limit of many samples."""
    rng = np.random.default_rng(0)
    logits = rng.normal(0.0, 2.0, (len(true_temperatures), n, classes))
    labels = np.empty(n, dtype=np.int64)
    # Every model sees the same labels: draw them from the first model, and give the
    # others the first model's logits rescaled so their own best temperature is theirs.
    p = softmax(logits[0] / true_temperatures[0], axis=1)
    labels[:] = np.minimum((p.cumsum(axis=1) < rng.random((n, 1))).sum(axis=1), classes - 1)
    for m, t in enumerate(true_temperatures):
        logits[m] = logits[0] * t / true_temperatures[0]
    names = tuple(f"m{m}" for m in range(len(true_temperatures)))
    return OutputsTable(names, logits, labels, "val")


def nll(logits: np.ndarray, labels: np.ndarray, t: float) -> float:
    return float(-log_softmax(logits / t, axis=1)[np.arange(len(labels)), labels].mean())


def test_temperatures_minimise_the_validation_nll_of_each_model() -> None:
    table = tempered_table([0.5, 1.0, 3.0])

    temps = fit_temperatures(table)

    assert temps.shape == (3,)
    grid = np.exp(np.linspace(-4.0, 4.0, 801))  # the documented range of log T, step 0.01
    rows = np.arange(table.n_samples)
    for m in range(3):
        scaled = table.logits[m][None] / grid[:, None, None]  # (grid, N, C)
        losses = -log_softmax(scaled, axis=2)[:, rows, table.labels].mean(axis=1)
        assert nll(table.logits[m], table.labels, temps[m]) <= losses.min() + 1e-9
        assert temps[m] == pytest.approx(grid[losses.argmin()], rel=1e-2)
    # the logits of model m are model 0's times T_m / T_0: the fitted temperatures scale alike
    assert temps / temps[0] == pytest.approx([1.0, 2.0, 6.0], rel=1e-3)
    assert temps[0] == pytest.approx(0.5, rel=0.15)  # near the temperature the labels come from


def test_temperatures_change_confidences_but_never_the_predicted_class() -> None:
    table = tempered_table([0.5, 3.0])

    calibrated = table.probs(fit_temperatures(table))

    np.testing.assert_array_equal(calibrated.argmax(-1), table.probs().argmax(-1))
    assert not np.allclose(calibrated, table.probs())
