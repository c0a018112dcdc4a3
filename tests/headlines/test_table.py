"""Tests of idn_core.headlines.table: the per-scenario table's shape and input checks,
and the verdict in words."""

from __future__ import annotations

from dataclasses import fields

import pandas as pd
import pytest

from idn_core.headlines import (
    ACCURACY_TIERS,
    CombinationHeadline,
    DeliveryHeadline,
    EarlyExitHeadline,
    EvidenceHeadline,
    LoadHeadline,
    PlacementHeadline,
    scenario_headlines,
    scenario_row,
    verdict,
)

from .conftest import SCENARIO, SETTINGS

PARTS = (
    DeliveryHeadline,
    CombinationHeadline,
    PlacementHeadline,
    EarlyExitHeadline,
    LoadHeadline,
    EvidenceHeadline,
)


def test_one_row_per_scenario_with_every_headline(digits_table: pd.DataFrame) -> None:
    assert list(digits_table.index) == [SCENARIO]
    expected = [f"acc_{t}" for t in ACCURACY_TIERS]
    expected += [f.name for part in PARTS for f in fields(part)]
    assert list(digits_table.columns) == expected, "column names are unique and in order"


@pytest.mark.parametrize(
    ("names", "error", "match"),
    [
        ("digits", TypeError, "names"),
        ([], ValueError, "names"),
        (["digits", "digits"], ValueError, "once"),
        (["digits", "nowhere"], ValueError, "nowhere"),
        ([3], TypeError, "names"),
        ({"digits"}, TypeError, "names"),
    ],
)
def test_bad_names_are_refused_before_anything_runs(names, error, match) -> None:
    with pytest.raises(error, match=match):
        scenario_headlines(names, SETTINGS)


def test_bad_settings_are_refused() -> None:
    with pytest.raises(TypeError, match="settings"):
        scenario_row(SCENARIO, {"n_grid": 5})
    with pytest.raises(TypeError, match="name"):
        scenario_row(None, SETTINGS)


@pytest.mark.parametrize(
    ("holds", "words"),
    [
        ([True, True, True], "on every scenario"),
        ([False, False], "on no scenario"),
        ([True, False, True, False], "on 2 of 4 scenarios"),
        (pd.Series([True]), "on every scenario"),
    ],
)
def test_verdict_in_words(holds, words) -> None:
    assert verdict(holds) == words


@pytest.mark.parametrize("bad", [[], [1, 0], [[True]], "yes"])
def test_verdict_refuses_what_is_not_flags(bad) -> None:
    with pytest.raises(ValueError, match="holds"):
        verdict(bad)
