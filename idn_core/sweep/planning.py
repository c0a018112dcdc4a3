"""What a sweep will run: the notebook, its checked grid, one planned run per grid point.

Each run is an ordinary :class:`~idn_core.book.PlannedRun` of the book build: the profile's
parameters for the notebook (``notebooks/profiles.yaml``, none for ``full`` or a notebook
the profile does not list) with the grid point laid over them. Its executed copy goes to
``<out>/runs/<point>-<hash>.ipynb`` with the book's run record beside it, the hash covering
the profile and every injected parameter, so that sweeps under several profiles may share
one folder. ``out`` defaults to ``_build/sweep/<profile>/<notebook stem>/``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from idn_core.book import Notebook, PlannedRun, default_root, load_profiles
from idn_core.book.cache import sha256
from idn_core.book.params import notebook_parameters, profile_entries, validate_parameters
from idn_core.book.toc import PROFILES_FILE
from idn_core.sweep.grid import check_axes, grid_points
from idn_core.sweep.records import SweepError

SWEEP_DIR = "_build/sweep"
RUNS_DIR = "runs"
MAX_SLUG = 60


@dataclass(frozen=True)
class SweepPlan:
    """A checked sweep: ``runs[i]`` runs grid point ``points[i]`` into ``outs[i]``."""

    notebook: Notebook
    root: Path
    profile: str
    axes: dict[str, list[Any]]
    points: list[dict[str, Any]]
    runs: list[PlannedRun]
    outs: list[Path]
    out_dir: Path


def notebook_of(path: Path, root: Path) -> Notebook:
    """The notebook at ``path`` as the book names it (its path relative to ``root`` if inside)."""
    path = Path(path).resolve()
    if path.suffix != ".ipynb" or not path.is_file():
        raise SweepError(f"notebook {path} does not exist or is not an .ipynb file")
    try:
        rel = path.relative_to(root.resolve()).as_posix()
    except ValueError:
        rel = str(path)  # outside the repository: root / rel is still the notebook
    return Notebook(path.stem, rel)


def base_parameters(root: Path, profile: str, stem: str) -> dict[str, Any]:
    """The parameters ``profile`` gives the notebook ``stem`` (none for ``full``)."""
    if not isinstance(profile, str):
        raise TypeError(f"profile must be str, got {type(profile).__name__}")
    profiles = load_profiles(root / PROFILES_FILE)
    return dict(profile_entries(profiles, profile).get(stem, {}))


def run_file(
    out_dir: Path, profile: str, parameters: dict[str, Any], point: dict[str, Any]
) -> Path:
    """Where the run of ``point`` (injected ``parameters``, ``profile``) keeps its notebook."""
    readable = ",".join(f"{name}={value}" for name, value in point.items())
    slug = re.sub(r"[^A-Za-z0-9._,=+-]+", "-", readable).strip("-")[:MAX_SLUG]
    identity = json.dumps(
        {"profile": profile, "parameters": parameters}, sort_keys=True, default=repr
    )
    return out_dir / RUNS_DIR / f"{slug}-{sha256(identity.encode())[:10]}.ipynb"


def plan_sweep(
    notebook: str | Path,
    grid: Mapping[str, Sequence[Any]],
    profile: str = "full",
    out: Path | None = None,
    root: Path | None = None,
) -> SweepPlan:
    """Check everything a sweep needs and return its plan; nothing runs.

    Raises :class:`SweepError` (missing notebook, empty grid...), :class:`ParameterError`
    (unknown parameter, wrong type) or :class:`ProfileError` (unknown profile).
    """
    root = Path(root or default_root()).resolve()
    nb = notebook_of(Path(notebook), root)
    specs = notebook_parameters(root / nb.rel)
    axes = check_axes(nb.stem, specs, grid)
    base = base_parameters(root, profile, nb.stem)
    validate_parameters(nb.stem, specs, base)
    out_dir = Path(out or root / SWEEP_DIR / profile / nb.stem).resolve()
    points = grid_points(axes)
    runs = [PlannedRun(nb, profile, {**base, **point}) for point in points]
    outs = [
        run_file(out_dir, profile, run.parameters, point)
        for run, point in zip(runs, points, strict=True)
    ]
    return SweepPlan(nb, root, profile, axes, points, runs, outs, out_dir)
