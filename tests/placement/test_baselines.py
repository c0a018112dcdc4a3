"""The MILP baseline never lets the solver's C++ output reach the notebook."""

from __future__ import annotations

import os

import pytest

from idn_core.placement import baselines, build_instance, make_loads, optimal_static
from tests.placement.test_instance import catalogue, tiny_topology


def noisy_milp(real):
    """``milp`` that first writes to descriptor 1 from below Python, as HiGHS does."""

    def solve(*args, **kwargs):
        os.write(1, b"HighsMipSolverData::transformNewIntegerFeasibleSolution\n")
        return real(*args, **kwargs)

    return solve


def test_solver_output_on_fd1_is_silenced_and_stdout_restored(monkeypatch, capfd) -> None:
    inst = build_instance(tiny_topology(), catalogue(), alpha=100.0, capacity=30.0)
    loads = make_loads(inst, 4, rate=120.0, seed=0)
    monkeypatch.setattr(baselines, "milp", noisy_milp(baselines.milp))
    print("before", flush=True)
    solution = optimal_static(inst, loads)
    print("after", flush=True)
    os.write(1, b"fd after\n")
    out = capfd.readouterr().out
    assert "Highs" not in out
    assert out.splitlines() == ["before", "after", "fd after"]
    assert solution.status == "optimal"


def test_stdout_is_restored_when_the_solve_raises(monkeypatch, capfd) -> None:
    inst = build_instance(tiny_topology(), catalogue(), alpha=100.0, capacity=30.0)
    loads = make_loads(inst, 4, rate=120.0, seed=0)

    def broken(*args, **kwargs):
        os.write(1, b"HighsMipSolverData::run\n")
        raise RuntimeError("solver crashed")

    monkeypatch.setattr(baselines, "milp", broken)
    with pytest.raises(RuntimeError, match="solver crashed"):
        optimal_static(inst, loads)
    os.write(1, b"still here\n")
    assert capfd.readouterr().out == "still here\n"
