"""What the benchmark scripts share: a median timer and the tests' reference implementations.

The benchmarks compare the library against the slow, obviously-correct references kept
with the tests (``tests/reference_*.py``); :func:`reference` imports one of them by name,
so there is one copy of each. Scripts import this module as a sibling (``benchmarks/`` is
the script's directory, hence on ``sys.path``).
"""

from __future__ import annotations

import importlib
import sys
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import numpy as np

TESTS = Path(__file__).resolve().parents[1] / "tests"


def median_time(
    fn: Callable[[], object], repeats: int = 5, clock: Callable[[], float] = time.perf_counter
) -> float:
    """Median over ``repeats`` calls of ``fn()`` of the seconds ``clock`` measured."""
    if not isinstance(repeats, int) or repeats < 1:
        raise ValueError(f"repeats must be a positive int, got {repeats!r}")
    times = []
    for _ in range(repeats):
        start = clock()
        fn()
        times.append(clock() - start)
    return float(np.median(times))


def reference(name: str) -> ModuleType:
    """The module ``tests/<name>.py`` (a reference implementation or a test support file)."""
    if not (TESTS / f"{name}.py").is_file():
        raise ValueError(f"name: no tests/{name}.py")
    if str(TESTS) not in sys.path:
        sys.path.insert(0, str(TESTS))
    return importlib.import_module(name)
