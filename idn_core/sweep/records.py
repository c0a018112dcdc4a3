"""Errors and plain records of a sweep (below every step that uses them)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from idn_core.book import BookBuildError, NotebookRun


class SweepError(BookBuildError):
    """A sweep cannot start: an empty or malformed grid, a bad option, an unreachable cluster."""


@dataclass(frozen=True)
class SweepFailure:
    """One run of a sweep that failed: its notebook, its grid point and what failed.

    ``message`` is the book runner's report: notebook, profile, failing cell (number,
    index, error, source) and where the partial notebook was kept.
    """

    notebook: str
    parameters: dict[str, Any]
    message: str

    def __str__(self) -> str:
        return f"{point_text(self.parameters)}: {self.message}"


@dataclass(frozen=True)
class SweepResult:
    """What a sweep produced.

    ``table`` is the tidy table of glued scalars (one row per run and glue name: the swept
    parameters as columns, then ``name`` and ``value``); ``runs`` the runs that succeeded
    (executed or reused), in grid order; ``failures`` the others; ``csv`` and ``figure`` the
    files written (``figure`` is None when no glued value is a number); ``points`` every
    grid point, in order.
    """

    table: pd.DataFrame
    runs: list[NotebookRun]
    failures: list[SweepFailure]
    csv: Path
    figure: Path | None
    points: list[dict[str, Any]]

    @property
    def ok(self) -> bool:
        """True when every run of the grid succeeded."""
        return not self.failures


def point_text(point: dict[str, Any]) -> str:
    """A grid point as ``seed=0, scenario='noisy'`` (values as Python literals)."""
    return ", ".join(f"{name}={value!r}" for name, value in point.items())
