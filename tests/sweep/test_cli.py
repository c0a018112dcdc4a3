"""Tests of idn_core.sweep.cli: errors before anything runs, failures named, exit status."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from idn_core.sweep.cli import sweep_main

from .conftest import closed_port


def test_no_arguments_print_help_and_exit_2(capsys) -> None:
    assert sweep_main([]) == 2
    assert "python -m idn_core.sweep" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-p", "nope", "1"], "unknown parameter 'nope' (the notebook's parameters: a, label,"),
        (["-p", "a", "one"], "parameter 'a' expects int, given 'one'"),
        (["-p", "scale", "1", "x"], "parameter 'scale' expects float, given 'x'"),
        (["-p", "a", "1", "1"], "parameter 'a' lists 1 twice"),
        ([], "the grid is empty: give -p NAME VALUE"),
        (["-p", "a"], "-p a: give at least one value"),
        (["-p", "a", "1", "--profile", "fast"], "unknown profile 'fast'"),
        (["-p", "a", "1", "--jobs", "0"], "jobs must be a positive number"),
        (["-p", "a", "1", "--ray", "nowhere"], "Ray address 'nowhere' is not HOST:PORT"),
        (["-p", "a", "1", "--ray", "127.0.0.1:PORT"], "cannot reach a Ray cluster at 127.0.0.1:"),
    ],
)
def test_bad_input_is_a_clear_error_before_anything_runs(
    tiny: Path, tmp_path: Path, capsys, args: list[str], message: str
) -> None:
    out = tmp_path / "out"
    args = [a.replace("PORT", str(closed_port())) for a in args]
    assert sweep_main([str(tiny), *args, "--out", str(out), "--no-progress"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("[sweep] ERROR: ") and message in err
    assert not out.exists()


def test_a_missing_notebook_or_grid_file_is_a_clear_error(
    tiny: Path, tmp_path: Path, capsys
) -> None:
    assert sweep_main([str(tmp_path / "nope.ipynb"), "-p", "a", "1"]) == 1
    assert "nope.ipynb does not exist" in capsys.readouterr().err
    assert sweep_main([str(tiny), "--grid", str(tmp_path / "grid.yaml")]) == 1
    assert "cannot read" in capsys.readouterr().err


@pytest.mark.slow
def test_a_failing_run_is_named_the_others_finish_and_the_exit_is_nonzero(
    tiny: Path, tmp_path: Path, capsys
) -> None:
    grid, out = tmp_path / "grid.yaml", tmp_path / "out"
    grid.write_text("a: [1, 2, 3]\n")
    args = [str(tiny), "--grid", str(grid), "-p", "fail", "true", "--jobs", "2"]
    assert sweep_main([*args, "--out", str(out), "--no-progress"]) == 1

    captured = capsys.readouterr()
    assert "3 runs: 2 executed, 0 cached, 1 failed" in captured.out
    failure = captured.err.split("[sweep] FAILED: ")[-1]
    assert failure.startswith("a=2, fail=True: notebook tiny (")  # parameters, notebook
    assert "cell 3 (index 3) raised ValueError: boom at a=2" in failure  # after the injected cell
    assert 'raise ValueError(f"boom at a={a}")' in failure  # and its source
    failed = [p.name for p in (out / "runs").glob("*.failed.ipynb")]
    assert len(failed) == 1 and failed[0].startswith("a=2,fail=True-")
    assert str(out / "runs" / failed[0]) in failure

    table = pd.read_csv(out / "glued.csv")
    assert sorted(table["a"].unique()) == [1, 3]  # the other runs finished
    assert (table["fail"] == True).all()  # noqa: E712 (a column of bools read from CSV)


def test_python_m_runs_the_sweep_without_importing_ray() -> None:
    code = (
        "import sys, runpy\n"
        "sys.argv = ['idn_core.sweep', '--help']\n"
        "try:\n    runpy.run_module('idn_core.sweep', run_name='__main__')\n"
        "except SystemExit as exc:\n    assert exc.code == 0, exc.code\n"
        "print('RAY', sorted(m for m in sys.modules if m.split('.')[0] == 'ray'))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "-p NAME VALUE" in done.stdout and "--ray ADDRESS" in done.stdout
    assert "RAY []" in done.stdout
