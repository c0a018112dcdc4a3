"""Every notebook of _toc.yml runs without error under the quick profile.

The notebooks run through the book's own runner (idn_core.book), so the executed
copies are cached and reused by test_book.py and `make book PROFILE=quick`.
"""

from __future__ import annotations

import contextlib
import json
import re

import pytest

from idn_core import book
from idn_core.delivery import PLAIN_VARIANT, evidence_verdict

PROFILE = "quick"
NOTEBOOKS = [nb.stem for nb in book.toc_notebooks()]


@pytest.fixture(scope="module", autouse=True)
def chapters_run_two_at_a_time(request: pytest.FixtureRequest) -> None:
    """Execute the selected chapters with the book's own scheduler (the first alone, the
    rest in parallel workers) before the checks below read their cached copies: on two
    cores this takes about half the time of running them one by one. Only the chapters
    whose ``test_notebook_runs`` is selected run here; a chapter that fails is left to its
    own test, which runs it again and names the failing cell."""
    stems = [
        item.callspec.params["stem"]
        for item in request.session.items
        if item.path == request.path and item.originalname == "test_notebook_runs"
    ]
    if len(stems) > 1:
        with contextlib.suppress(book.NotebookError):  # reported per chapter below
            book.execute_all(PROFILE, only=stems)


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
    zoo = {t: g[f"zoo_acc_{t}"] for t in TIERS}
    assert all(v == round(v, 1) for v in zoo.values()), "one rounding rule: one decimal"
    assert (g["acc_device"], g["acc_cloud"]) == (zoo["device"], zoo["cloud"])


TIERS = ("device", "edge", "regional", "cloud")


@pytest.mark.slow
@pytest.mark.parametrize("stem", ["02_serve_or_forward", "03_ensembles"])
def test_every_chapter_quotes_the_zoo_from_one_source(stem: str) -> None:
    """A model's test-split accuracy reads the same in every chapter (issue 16, item 3)."""
    first, other = glued("01_anatomy"), glued(stem)
    assert {t: other[f"zoo_acc_{t}"] for t in TIERS} == {t: first[f"zoo_acc_{t}"] for t in TIERS}


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
def test_serve_or_forward_carried_evidence_is_compared_on_the_same_scale() -> None:
    g = glued("02_serve_or_forward")
    assert g["ev_rule"] in {"product", "mean", "stacked"}
    assert g["ev_captured"] == pytest.approx(g[f"ev_captured_{g['ev_rule']}"])
    assert g["ev_gain"] == pytest.approx(g["ev_captured"] - g["captured"], abs=1e-9)
    saving = 1.0 - g["oracle_ratio"]
    assert g["ev_captured"] == pytest.approx((1.0 - g["ev_ratio"]) / saving, rel=1e-9)
    # A cascade of the three models costs at most the cloud's path plus the lower models'
    # compute and the carried bytes (microseconds on these links).
    assert 0.0 < g["ev_ratio"] <= 1.1 and 0.0 < g["ev_extra_us"] < 100.0
    assert g["ev_bytes"] > 0.0 and g["ev_bytes"] < g["payload_bytes"]
    # The verdict is chosen from the measurement, and a variant that carries nothing is the
    # plain calibrated cascade (one of every rule's variants).
    assert g["ev_verdict"] == evidence_verdict(g["ev_gain"])
    assert g["ev_carries"] in (0.0, 1.0)
    assert (g["ev_carries"] == 0.0) == (g["ev_variant"] == PLAIN_VARIANT)


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
    assert g5["per_client"] == g5["n_train"] // g5["n_clients"]
    assert g5["federation_delta_pp"] == pytest.approx(g5["fedavg_iid"] - g5["central_same"])
    assert g5["skew_delta_pp"] == pytest.approx(g5["fedavg_dirichlet"] - g5["fedavg_iid"])
    assert all(percent(g5[k]) for k in ("central_same", "central_long"))


@pytest.mark.slow
def test_playground_oracle_bounds_every_policy() -> None:
    g = glued("07_playground")
    policies = ("pg_local_acc", "pg_cloud_acc", "pg_cascade_acc", "pg_gain_aware_acc")
    assert all(g["pg_oracle_acc"] >= g[k] for k in policies)
    assert g["pg_local_ms"] <= g["pg_cascade_ms"] <= g["pg_cloud_ms"] + 1e-9


@pytest.mark.slow
def test_anatomy_glues_the_graded_scenario_it_argues_from() -> None:
    g = glued("01_anatomy")
    assert g["graded_min_step_pp"] <= g["graded_max_step_pp"]
    assert g["graded_edge_kb"] <= g["graded_edge_budget_kb"] < g["running_edge_budget_kb"]
    assert g["running_edge_kb"] <= g["running_edge_budget_kb"]


VERDICT = re.compile(r"on (every|no) scenario|on \d+ of \d+ scenarios( only)?")


@pytest.mark.slow
def test_across_scenarios_headlines_hold() -> None:
    g = glued("09_across_scenarios")
    assert g["n_scenarios"] == 4, "the quick profile runs the whole suite"
    for key in ("captured", "ratio", "combo", "exit", "infida_greedy"):
        assert g[f"{key}_lo"] <= g[f"{key}_hi"], key
    assert g["captured_hi"] <= 1.0 + 1e-9 and 0.0 < g["ratio_lo"] <= g["ratio_hi"] <= 1.0 + 1e-9
    assert g["hop_min_pp"] <= g["hop_max_pp"] and g["infida_greedy_lo"] > 0.0
    assert g["infida_opt_lo"] >= ONE_MINUS_1_OVER_E, "INFIDA's guarantee on every scenario"
    verdicts = ("combo_verdict", "exit_verdict", "gap_verdict", "infida_verdict")
    verdicts += ("evidence_verdict", "evidence_gap_verdict", "feedback_verdict")
    for key in (*verdicts, "best_static_verdict", "device_bound_verdict"):
        assert VERDICT.fullmatch(g[key]), (key, g[key])
    assert g["infida_opt_verdict"] == "on every scenario"
    # carried evidence (a difference of captured shares) and delivery under load (pp)
    assert -1.0 <= g["evidence_gain_lo"] <= g["evidence_gain_hi"] <= 1.0
    assert -100.0 <= g["feedback_gain_lo"] <= g["feedback_gain_hi"] <= 100.0
    assert g["load_factor"] == 1.2 and g["deadline_ms"] == 50.0
    assert "digits" in g["device_bound_names"].split(", "), "digits' devices saturate first"
    assert "digits" in g["device_bound_detail"]


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


@pytest.mark.slow
def test_busy_network_refuses_the_four_tier_path_by_name(tmp_path) -> None:
    """Chapter 8 reads device, edge and cloud numbers: a scenario with a regional hop must
    stop at the set-up with an error naming it, before anything is loaded or trained."""
    import papermill as pm

    from idn_core.book.toc import default_root

    source = default_root() / book.toc_notebooks()[NOTEBOOKS.index("08_busy_network")].rel
    with pytest.raises(pm.PapermillExecutionError, match="graded-four-tier"):
        pm.execute_notebook(
            str(source),
            str(tmp_path / "out.ipynb"),
            parameters={"scenario": "graded-four-tier"},
            kernel_name="python3",
            progress_bar=False,
        )
