"""Tests of idn_core.headlines.training_headlines: placement and early exits equal the
library calls they stand for (quick size, digits)."""

from __future__ import annotations

import pandas as pd
import pytest

from idn_core.federated.early_exit import (
    EarlyExitConfig,
    gain_at,
    scenario_configs,
    sweep_early_exit,
)
from idn_core.headlines import (
    EXIT_SERVING_SPLIT,
    PLACEMENT_DEMAND,
    headline_early_exit,
    headline_placement,
)
from idn_core.network import scenario_dataset
from idn_core.placement import (
    build_instance,
    compare_policies,
    make_loads,
    placement_catalogue,
    placement_topology,
)

from .conftest import SCENARIO, SETTINGS


def test_placement_matches_the_library(digits_table: pd.DataFrame) -> None:
    s = SETTINGS
    catalogue = placement_catalogue(
        s.n_tasks, num_samples=s.num_samples, epochs=s.epochs, scenario=SCENARIO
    )
    inst = build_instance(placement_topology(), catalogue, alpha=100.0, slot_ms=100.0)
    loads = make_loads(inst, s.horizon, seed=0, kind="shifting", n_phases=4, **PLACEMENT_DEMAND)
    ratios = compare_policies(inst, loads, seed=0).ratios(0)
    row = digits_table.loc[SCENARIO]
    assert row["infida_over_optimum"] == pytest.approx(ratios["INFIDA"])
    assert row["infida_over_greedy"] == pytest.approx(ratios["INFIDA"] / ratios["greedy (per KiB)"])
    assert 0.0 < row["infida_over_optimum"] <= 1.0 + 1e-9, "no policy beats the optimum"


def test_early_exit_matches_the_library(digits_table: pd.DataFrame) -> None:
    s = SETTINGS
    base = EarlyExitConfig(rounds=s.rounds, local_steps=s.local_steps)
    configs = scenario_configs([EXIT_SERVING_SPLIT], ["equal"], ("equal", "serving"), base=base)
    dataset = scenario_dataset(SCENARIO, num_samples=s.num_samples)
    table = sweep_early_exit(dataset, configs, list(range(s.seeds)), progress=False)
    mean, sd = gain_at(table, "served_acc", EXIT_SERVING_SPLIT)
    row = digits_table.loc[SCENARIO]
    assert row["serving_gain_pp"] == pytest.approx(mean)
    assert row["serving_gain_sd"] == pytest.approx(sd)


@pytest.mark.parametrize("function", [headline_placement, headline_early_exit])
def test_bad_input_is_refused_by_name(function) -> None:
    with pytest.raises(ValueError, match="nowhere"):
        function("nowhere", SETTINGS)
    with pytest.raises(TypeError, match="name"):
        function(7, SETTINGS)
    with pytest.raises(TypeError, match="settings"):
        function(SCENARIO, "quick")
