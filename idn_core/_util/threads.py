"""Run torch work on one intra-op thread, so that results do not depend on the machine.

Float reductions split over a different number of threads add up in a different order,
so the same seed would train slightly different weights on a 2-core and a 64-core
machine. Pinning training and inference to one thread makes the same seed give the
same numbers everywhere (and tiny models train faster on one thread anyway).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import ParamSpec, TypeVar

import torch

P = ParamSpec("P")
R = TypeVar("R")


@contextmanager
def torch_threads(n: int = 1) -> Iterator[None]:
    """Temporarily set torch's intra-op thread count to ``n``."""
    previous = torch.get_num_threads()
    if previous != n:
        torch.set_num_threads(n)
    try:
        yield
    finally:
        if previous != n:
            torch.set_num_threads(previous)


def single_threaded(fn: Callable[P, R]) -> Callable[P, R]:
    """Decorator: run ``fn`` under :func:`torch_threads` with one thread."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        with torch_threads(1):
            return fn(*args, **kwargs)

    return wrapper
