"""Tests of idn_core.sweep.planning: runs, their parameters and their files (nothing runs)."""

from __future__ import annotations

from pathlib import Path

import pytest

from idn_core.book import ParameterError, ProfileError
from idn_core.sweep import SweepError, plan_sweep
from idn_core.sweep.planning import SWEEP_DIR


def with_profiles(root: Path, text: str) -> Path:
    (root / "notebooks").mkdir(exist_ok=True)
    (root / "notebooks" / "profiles.yaml").write_text(text)
    return root


def test_one_run_per_grid_point_with_the_profile_underneath(tiny: Path, tmp_path: Path) -> None:
    root = with_profiles(tmp_path, "quick:\n  tiny: {a: 5, label: z}\n")
    plan = plan_sweep(tiny, {"a": [1, 2], "scale": [0.5, 2]}, "quick", root=root)
    assert plan.notebook.stem == "tiny" and plan.notebook.rel == "tiny.ipynb"
    assert plan.points == [
        {"a": 1, "scale": 0.5}, {"a": 1, "scale": 2.0}, {"a": 2, "scale": 0.5}, {"a": 2, "scale": 2.0},
    ]  # fmt: skip
    assert [run.parameters for run in plan.runs] == [{"label": "z", **p} for p in plan.points]
    assert {run.profile for run in plan.runs} == {"quick"}
    assert plan.out_dir == (root / SWEEP_DIR / "quick" / "tiny").resolve()
    assert len(set(plan.outs)) == 4
    assert all(out.parent == plan.out_dir / "runs" and out.suffix == ".ipynb" for out in plan.outs)
    assert plan.outs[0].name.startswith("a=1,scale=0.5-")


def test_run_files_differ_by_profile_and_are_stable(tiny: Path, tmp_path: Path) -> None:
    root = with_profiles(tmp_path, "quick:\n  tiny: {label: z}\n")
    out = tmp_path / "out"
    quick = plan_sweep(tiny, {"a": [1]}, "quick", out=out, root=root)
    full = plan_sweep(tiny, {"a": [1]}, "full", out=out, root=root)
    assert quick.outs != full.outs  # one folder may hold both profiles' runs
    assert plan_sweep(tiny, {"a": [1]}, "quick", out=out, root=root).outs == quick.outs


def test_a_notebook_outside_the_repository_keeps_its_absolute_path(tiny: Path) -> None:
    plan = plan_sweep(tiny, {"a": [1]})  # root: this repository; the notebook is in tmp
    assert Path(plan.notebook.rel) == tiny.resolve()
    assert plan.root / plan.notebook.rel == tiny.resolve()


def test_bad_plans_are_clear_errors(tiny: Path, tmp_path: Path) -> None:
    with pytest.raises(SweepError, match="does not exist or is not an .ipynb"):
        plan_sweep(tmp_path / "missing.ipynb", {"a": [1]})
    with pytest.raises(ProfileError, match="unknown profile 'fast'"):
        plan_sweep(tiny, {"a": [1]}, "fast", root=with_profiles(tmp_path, "quick: {}\n"))
    root = with_profiles(tmp_path, "quick:\n  tiny: {scale: fast}\n")
    with pytest.raises(ParameterError, match="parameter 'scale' expects float"):
        plan_sweep(tiny, {"a": [1]}, "quick", root=root)
    with pytest.raises(TypeError, match="profile must be str"):
        plan_sweep(tiny, {"a": [1]}, 3, root=root)  # type: ignore[arg-type]
