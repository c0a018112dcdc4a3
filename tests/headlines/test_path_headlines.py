"""Tests of idn_core.headlines.path_headlines: each headline equals the library calls it
stands for, made here directly (quick size, digits)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from idn_core.delivery import (
    choose_policies,
    compare_under_load,
    evidence_headline,
    headline,
    prepare_delivery,
    prepare_evidence,
    prepare_load,
    tier_response,
)
from idn_core.ensembles import path_rule_gain_pp
from idn_core.headlines import (
    LOAD_FAMILY,
    DeliveryRun,
    delivery_run,
    headline_accuracy,
    headline_combination,
    headline_delivery,
    headline_load,
)
from idn_core.network import get_scenario, load_named_scenario

from .conftest import SCENARIO, SETTINGS


@pytest.fixture(scope="module")
def direct() -> dict:
    """Chapter 2's set-up and choices on digits, made without idn_core.headlines."""
    scenario = load_named_scenario(
        SCENARIO, num_samples=SETTINGS.num_samples, epochs=SETTINGS.epochs, progress=False
    )
    setup = prepare_delivery(scenario, n_requests=SETTINGS.n_requests, seed=0)
    choices = choose_policies(setup, SETTINGS.tolerance, n_grid=SETTINGS.n_grid)
    return {"scenario": scenario, "setup": setup, "choices": choices}


def test_accuracy_and_delivery_match_the_library(digits_table: pd.DataFrame, direct) -> None:
    row = digits_table.loc[SCENARIO]
    acc = direct["scenario"].test.accuracy()
    for model, value in acc.items():
        assert row[f"acc_{direct['scenario'].zoo[model].spec.tier}"] == pytest.approx(100 * value)
    assert np.isnan(row["acc_regional"]), "digits has no regional tier"
    head = headline(direct["setup"], direct["choices"], SETTINGS.tolerance)
    assert row["family"] == head["chosen_family"]
    assert row["captured"] == pytest.approx(head["oracle_savings_captured"], abs=1e-12)
    assert row["latency_ratio"] == pytest.approx(head["cascade_latency_ratio"], abs=1e-12)
    assert row["oracle_ratio"] == pytest.approx(head["oracle_latency_ratio"], abs=1e-12)
    assert row["test_gap_pp"] == pytest.approx(head["test_acc_gap_pp"], abs=1e-12)


def test_combination_matches_the_library(digits_table: pd.DataFrame, direct) -> None:
    expected = path_rule_gain_pp(direct["scenario"])
    assert digits_table.loc[SCENARIO, "combination_gain_pp"] == pytest.approx(expected)


def test_load_matches_the_library(digits_table: pd.DataFrame, direct) -> None:
    choices = direct["choices"].set_index("family")
    ls = prepare_load(
        direct["scenario"],
        direct["setup"],
        np.array(choices.loc[LOAD_FAMILY, "thresholds"]),
        deadline_s=SETTINGS.deadline_ms / 1e3,
    )
    f, d = SETTINGS.load_factor, SETTINGS.load_duration_s
    table, _ = compare_under_load(ls, (f,), d, seed=0, grid_steps=SETTINGS.load_grid_steps)
    on_time = 100 * table.set_index("policy").on_time_accuracy
    row = digits_table.loc[SCENARIO]
    assert row["load_factor"] == f
    assert row["fixed_on_time_pct"] == pytest.approx(on_time["fixed"])
    assert row["best_static_on_time_pct"] == pytest.approx(on_time["best static"])
    assert row["feedback_on_time_pct"] == pytest.approx(on_time["feedback"])
    assert row["feedback_gain_pp"] == pytest.approx(on_time["feedback"] - on_time["fixed"])
    util = tier_response(ls, np.array([f]), d, seed=0).set_index("tier").utilisation
    assert row["busiest_tier"] == util.idxmax() and row["busiest_tier"] in ls.tiers
    assert row["busiest_utilisation_pct"] == pytest.approx(100 * util.max())
    assert 0.0 <= row["fixed_on_time_pct"] <= 100.0


def test_evidence_matches_the_library(digits_table: pd.DataFrame, direct) -> None:
    ev = prepare_evidence(direct["setup"], direct["scenario"].topology, seed=0)
    head = evidence_headline(ev, direct["choices"], SETTINGS.tolerance, SETTINGS.n_grid)
    row = digits_table.loc[SCENARIO]
    assert row["evidence_rule"] == head["evidence_rule"]
    assert row["evidence_captured"] == pytest.approx(head["evidence_captured"])
    assert row["evidence_latency_ratio"] == pytest.approx(head["evidence_latency_ratio"])
    assert row["evidence_gap_pp"] == pytest.approx(head["evidence_gap_pp"])
    # the evidence is judged against the same threshold choice the delivery row reports
    gain = row["evidence_captured"] - row["captured"]
    assert row["evidence_gain"] == pytest.approx(gain, abs=1e-12)


def test_a_delivery_run_is_reused_not_recomputed(direct) -> None:
    run = DeliveryRun(direct["scenario"], direct["setup"], direct["choices"])
    assert delivery_run(run, SETTINGS) is run
    head = headline_delivery(run, SETTINGS)
    expected = headline(direct["setup"], direct["choices"], SETTINGS.tolerance)
    assert head.captured == expected["oracle_savings_captured"]
    assert headline_accuracy(run, SETTINGS) == headline_accuracy(direct["scenario"], SETTINGS)
    tiers = list(headline_accuracy(run, SETTINGS))
    assert tiers == list(get_scenario(SCENARIO).path_tiers)
    assert headline_combination(run, SETTINGS).combination_gain_pp == pytest.approx(
        path_rule_gain_pp(direct["scenario"])
    )


@pytest.mark.parametrize("bad", [3, None, ["digits"]])
def test_scenario_of_the_wrong_type_is_refused(bad) -> None:
    with pytest.raises(TypeError, match="scenario"):
        headline_delivery(bad, SETTINGS)


def test_unknown_name_and_bad_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="no-such-scenario"):
        headline_load("no-such-scenario", SETTINGS)
    with pytest.raises(TypeError, match="settings"):
        headline_combination(SCENARIO, {"n_grid": 3})
