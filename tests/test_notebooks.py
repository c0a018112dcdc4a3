"""Every notebook of _toc.yml runs without error under the quick profile.

The notebooks run through the book's own runner (idn_core.book), so the executed
copies are cached and reused by test_book.py and `make book PROFILE=quick`.
"""

from __future__ import annotations

import json

import pytest

from idn_core import book

PROFILE = "quick"
NOTEBOOKS = [nb.stem for nb in book.toc_notebooks()]


@pytest.mark.slow
@pytest.mark.parametrize("stem", NOTEBOOKS)
def test_notebook_runs(stem: str) -> None:
    path = book.execute_notebook(stem, PROFILE)
    nb = json.loads(path.read_text(encoding="utf-8"))
    outputs = [out for cell in nb["cells"] for out in cell.get("outputs", [])]
    assert not [out for out in outputs if out.get("output_type") == "error"]
    bare = [out for out in outputs if "application/vnd.plotly.v1+json" in out.get("data", {})]
    assert not bare, (
        f"{stem}: show plotly figures with idn_core.views.display.show(fig), not bare `fig`"
    )


# --- the chapters' conclusions, checked on the quick profile's glued numbers ---------------

ONE_MINUS_1_OVER_E = 100 * (1 - 1 / 2.718281828459045)


def glued(stem: str) -> dict:
    """The glued values of ``stem``'s executed quick copy (executed if needed)."""
    return book.glued_values(book.execute_notebook(stem, PROFILE))


def percent(value: float) -> bool:
    return 0.0 <= value <= 100.0


@pytest.mark.slow
def test_anatomy_headlines_hold() -> None:
    g = glued("01_anatomy")
    assert percent(g["acc_device"]) and percent(g["acc_cloud"])
    assert g["acc_cloud"] > g["acc_device"], "the cloud's model must beat the device's"
    assert g["acc_gap_pp"] == pytest.approx(g["acc_cloud"] - g["acc_device"], abs=1e-6)
    assert g["params_cloud"] > g["params_device"] and g["cloud_latency_ms"] > g["local_latency_ms"]


@pytest.mark.slow
def test_serve_or_forward_headlines_hold() -> None:
    g = glued("02_serve_or_forward")
    assert 0.0 < g["captured"] <= 1.0, "the captured share of the oracle's saving"
    assert 0.0 < g["oracle_ratio"] <= g["chosen_ratio"] <= 1.0 + 1e-9
    assert g["oracle_gap_pp"] >= 0.0 and g["cascade_max_acc"] <= 100.0
    assert all(percent(g[k]) for k in ("cov_naive", "cov_bound", "cov_boot"))
    assert g["cov_boot"] >= g["cov_naive"], "the corrected bound keeps its promise more often"
    assert 0.0 <= g["chosen_forwarded"] <= 100.0


@pytest.mark.slow
def test_ensembles_headlines_hold() -> None:
    g = glued("03_ensembles")
    assert g["edge_kb"] <= g["edge_budget_kb"], "the edge committee must fit its budget"
    assert all(percent(g[k]) for k in ("rule_path_best", "rule_cloud_best", "boost_acc"))
    assert 0.0 < g["boost_frac"] <= 1.0


@pytest.mark.slow
def test_placement_headlines_hold() -> None:
    g = glued("04_placement")
    assert g["infida_ratio"] >= ONE_MINUS_1_OVER_E, "INFIDA's guarantee is (1 - 1/e) of the optimum"
    assert g["greedy_ratio"] <= 100.0 + 1e-6, "no static placement beats the static optimum"
    assert g["repair_ratio"] >= ONE_MINUS_1_OVER_E and g["shift_over_greedy"] > 0.0
    assert g["reg_plain"] <= g["reg_budget"] and g["reg_refill"] <= g["reg_budget"]


@pytest.mark.slow
def test_federated_headlines_hold() -> None:
    g5, g6 = glued("05_federated"), glued("06_early_exits")
    assert all(percent(g5[k]) for k in ("fedavg_dirichlet", "fedavg_iid", "fedavg_quantity"))
    assert all(g6[k] >= 0.0 for k in g6 if k.endswith("_sd"))
    assert g6["first_split"] == "80-15-5"


@pytest.mark.slow
def test_playground_oracle_bounds_every_policy() -> None:
    g = glued("07_playground")
    policies = ("pg_local_acc", "pg_cloud_acc", "pg_cascade_acc", "pg_gain_aware_acc")
    assert all(g["pg_oracle_acc"] >= g[k] for k in policies)
    assert g["pg_local_ms"] <= g["pg_cascade_ms"] <= g["pg_cloud_ms"] + 1e-9


@pytest.mark.slow
def test_busy_network_headlines_hold() -> None:
    g = glued("08_busy_network")
    policies = ("fixed", "best", "feedback", "shed", "gain")
    assert all(percent(g[f"{p}_{r}"]) for p in policies for r in (50, 90, 120))
    assert g["feedback_gain_pp"] == pytest.approx(g["feedback_120"] - g["fixed_120"], abs=1e-6)
    assert g["feedback_120"] > g["fixed_120"], "feedback must beat fixed thresholds in overload"
    assert g["fixed_anytime_120"] >= g["fixed_120"] - 1e-9, "the anytime answer never hurts"
    assert g["edge_util_max"] > 90.0, "at the largest load factor the edge is saturated"
    assert percent(g["cloud_on_time_max"]) and percent(g["edge_on_time_max"])
    assert g["reference_rate"] > 0 and g["edge_capacity"] > 0
    assert g["simpy_max_diff"] <= 1e-9, "the engine equals SimPy"
    assert g["day_feedback"] >= g["day_fixed"]
