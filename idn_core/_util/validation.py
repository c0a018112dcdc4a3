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


def check_seed(value: Any, name: str = "seed") -> int:
    """Return a random seed as ``int``, raising unless it is a non-negative integer.

    NumPy's own errors for a bad seed never name the argument; bools, floats and strings
    are rejected here with ``TypeError``, negative integers with ``ValueError``.
    """
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise TypeError(
            f"{name} must be a non-negative integer, got {type(value).__name__} ({value!r})"
        )
    if value < 0:
        raise ValueError(f"{name} must be a non-negative integer, got {value!r}")
    return int(value)


def check_shares(name: str, shares: Any, n: int | None = None) -> np.ndarray:
    """Return ``shares`` as a float 1-D array of positive finite values summing to one.

    ``n``, when given, is the required number of shares.
    """
    arr = as_float_array(name, shares)
    if arr.ndim != 1 or arr.size == 0 or (n is not None and arr.shape != (n,)):
        wanted = f"{n} " if n is not None else ""
        raise ValueError(f"{name} must be a 1-D array of {wanted}shares, got shape {arr.shape}")
    if not np.isfinite(arr).all() or (arr <= 0).any() or abs(arr.sum() - 1) > 1e-6:
        raise ValueError(f"{name} must be finite, positive and sum to one, got {arr.tolist()}")
    return arr


def check_finite_array(name: str, values: Any, *, non_negative: bool = False) -> np.ndarray:
    """Return ``values`` as a float array, raising ``ValueError`` for NaN or infinity
    (and, with ``non_negative``, for negative entries); ``TypeError`` if not numeric."""
    arr = as_float_array(name, values)
    if not np.isfinite(arr).all():
        raise ValueError(f"{name} must be finite, got {arr.ravel()[:8].tolist()}")
    if non_negative and (arr < 0).any():
        raise ValueError(f"{name} must be >= 0, got min {arr.min()!r}")
    return arr


def check_index_array(name: str, values: Any, size: int) -> np.ndarray:
    """Return ``values`` as an ``intp`` 1-D array of indices in ``[0, size)``.

    Negative indices would silently wrap to the end of the indexed axis, so they are
    rejected, as are non-integer dtypes and indices ``>= size``.
    """
    arr = np.asarray(values)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be a 1-D index array, got shape {arr.shape}")
    if arr.size and not np.issubdtype(arr.dtype, np.integer):
        raise TypeError(f"{name} must hold integers, got dtype {arr.dtype}")
    if arr.size and (arr.min() < 0 or arr.max() >= size):
        raise ValueError(f"{name} must lie in [0, {size}), got range [{arr.min()}, {arr.max()}]")
    return arr.astype(np.intp, copy=False)


def as_float_array(name: str, values: Any) -> np.ndarray:
    """``values`` as a float array; ``TypeError`` naming ``name`` unless they are numbers.

    Strings, bools, ``None`` and other objects are refused rather than converted.
    """
    arr = np.asarray(values)
    if arr.dtype.kind not in "iuf":
        raise TypeError(f"{name} must be numeric, got dtype {arr.dtype} ({values!r:.80})")
    return arr.astype(float, copy=False)
