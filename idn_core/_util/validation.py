"""Small argument checks that raise clear errors naming the offending value.

Every public function of ``idn_core`` validates its inputs with these helpers so
that bad input fails loudly and early instead of being silently clipped.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np


def check_type(name: str, value: Any, expected: type | tuple[type, ...]) -> None:
    """Raise ``TypeError`` unless ``value`` is an instance of ``expected`` (bools are not ints)."""
    types = expected if isinstance(expected, tuple) else (expected,)
    is_bool_for_number = isinstance(value, bool) and bool not in types
    if is_bool_for_number or not isinstance(value, types):
        wanted = " or ".join(t.__name__ for t in types)
        raise TypeError(f"{name} must be {wanted}, got {type(value).__name__} ({value!r})")


def check_finite(name: str, value: float) -> float:
    """Return ``value`` as float, raising ``ValueError`` for NaN or infinity."""
    check_type(name, value, (int, float, np.integer, np.floating))
    if not math.isfinite(float(value)):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    return float(value)


def check_non_negative(name: str, value: float) -> float:
    """Return ``value`` as float, raising ``ValueError`` if it is negative, NaN or infinite."""
    value = check_finite(name, value)
    if value < 0:
        raise ValueError(f"{name} must be >= 0, got {value!r}")
    return value


def check_positive(name: str, value: float) -> float:
    """Return ``value`` as float, raising ``ValueError`` unless it is strictly positive and finite."""
    value = check_finite(name, value)
    if value <= 0:
        raise ValueError(f"{name} must be > 0, got {value!r}")
    return value


def check_positive_int(name: str, value: int, minimum: int = 1) -> int:
    """Return ``value``, raising unless it is an int >= ``minimum``."""
    check_type(name, value, (int, np.integer))
    if value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def check_fraction(
    name: str, value: float, *, open_low: bool = False, open_high: bool = False
) -> float:
    """Return ``value``, raising unless it lies in [0, 1] (ends optionally open)."""
    value = check_finite(name, value)
    low_ok = value > 0 if open_low else value >= 0
    high_ok = value < 1 if open_high else value <= 1
    if not (low_ok and high_ok):
        lo, hi = "(" if open_low else "[", ")" if open_high else "]"
        raise ValueError(f"{name} must lie in {lo}0, 1{hi}, got {value!r}")
    return value


def check_choice(name: str, value: Any, choices: Iterable[Any]) -> Any:
    """Raise ``ValueError`` unless ``value`` is one of ``choices``."""
    options = list(choices)
    if value not in options:
        raise ValueError(f"unknown {name} {value!r}; choose one of {options}")
    return value


def check_probabilities(name: str, probs: np.ndarray, *, atol: float = 1e-4) -> np.ndarray:
    """Check an array whose last axis holds probability vectors; return it as float array.

    Raises ``ValueError`` for NaN, negative entries or rows that do not sum to one.
    """
    arr = np.asarray(probs, dtype=float)
    if arr.ndim == 0:
        raise ValueError(f"{name} must have a class axis, got a scalar")
    if np.isnan(arr).any():
        raise ValueError(f"{name} contains NaN")
    if (arr < 0).any():
        raise ValueError(f"{name} contains negative probabilities (min {arr.min():.3g})")
    sums = arr.sum(axis=-1)
    bad = np.abs(sums - 1.0) > atol
    if bad.any():
        first = np.argwhere(bad)[0]
        raise ValueError(
            f"{name} rows must sum to one; row {tuple(int(i) for i in first)} sums to "
            f"{float(sums[tuple(first)]):.6f} ({int(bad.sum())} bad rows)"
        )
    return arr
