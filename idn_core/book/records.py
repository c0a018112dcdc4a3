"""Records and errors shared by every step of the book build.

They live here, below the steps that use them, so that the orchestration (``build``,
``execute``) and the steps (``stage``, ``cache``, ``params``) import one module downward
instead of each other.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any


class BookBuildError(RuntimeError):
    """Base class of the book build's errors (their message is meant for a person)."""


class ProfileError(BookBuildError):
    """A configuration file is malformed or names an unknown profile or notebook."""


class ParameterError(BookBuildError):
    """A profile gives a notebook a parameter it does not have, or of the wrong type."""


class NotebookError(BookBuildError):
    """A notebook raised while papermill executed it (or several did: one message each)."""


class SphinxBuildError(BookBuildError):
    """``jupyter-book build`` failed (warnings count as errors)."""


class CacheWarning(UserWarning):
    """An executed-notebook cache entry was unreadable or corrupt and is executed again."""


@dataclass(frozen=True)
class Notebook:
    """A notebook of the book: ``stem`` (unique name) and ``rel`` (path from the repo root)."""

    stem: str
    rel: str


@dataclass(frozen=True)
class PlannedRun:
    """One notebook to execute under ``profile`` with its validated ``parameters``."""

    notebook: Notebook
    profile: str
    parameters: dict[str, Any]


@dataclass(frozen=True)
class NotebookRun:
    """The outcome of executing (or reusing) one notebook under a profile."""

    notebook: Notebook
    profile: str
    parameters: dict[str, Any]
    seconds: float
    cached: bool
    executed_at: str
    path: Path
