"""Every headline on every scenario, as one tidy table (one row per scenario)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict

import numpy as np
import pandas as pd

from idn_core._util.validation import check_type
from idn_core.headlines.path_headlines import (
    delivery_run,
    headline_accuracy,
    headline_combination,
    headline_delivery,
    headline_evidence,
    headline_load,
)
from idn_core.headlines.settings import SuiteSettings
from idn_core.headlines.training_headlines import headline_early_exit, headline_placement
from idn_core.network import get_scenario

__all__ = ["ACCURACY_TIERS", "scenario_headlines", "scenario_row", "verdict"]

#: Tiers of the accuracy columns (``acc_<tier>``, %); a tier off a scenario's path is NaN.
ACCURACY_TIERS = ("device", "edge", "regional", "cloud")


def scenario_row(name: str, settings: SuiteSettings | None = None) -> dict[str, float | str]:
    """Every headline of scenario ``name``: the path's test accuracies (``acc_<tier>``, %),
    then the fields of the delivery, combination, placement, early-exit, load and
    evidence headlines (the delivery run is computed once and shared)."""
    check_type("name", name, str)
    get_scenario(name)
    settings = SuiteSettings() if settings is None else settings
    check_type("settings", settings, SuiteSettings)
    run = delivery_run(name, settings)
    accuracy = headline_accuracy(run, settings)
    row: dict[str, float | str] = {f"acc_{t}": accuracy.get(t, np.nan) for t in ACCURACY_TIERS}
    for part in (
        headline_delivery(run, settings),
        headline_combination(run, settings),
        headline_placement(name, settings),
        headline_early_exit(name, settings),
        headline_load(run, settings),
        headline_evidence(run, settings),
    ):
        row.update(asdict(part))
    return row


def scenario_headlines(names: Sequence[str], settings: SuiteSettings | None = None) -> pd.DataFrame:
    """:func:`scenario_row` of every scenario of ``names`` (suite names, each once), one
    row per scenario indexed by name, in the given order."""
    if isinstance(names, str):
        raise TypeError("names must be a sequence of scenario names, not one string")
    check_type("names", names, (list, tuple))
    if not names:
        raise ValueError("names must name at least one scenario of idn_core.network.SCENARIOS")
    if len(set(names)) != len(names):
        raise ValueError(f"names must name each scenario once, got {list(names)}")
    for name in names:
        check_type("names", name, str)
        get_scenario(name)  # every name checked before anything runs
    rows = {name: scenario_row(name, settings) for name in names}
    return pd.DataFrame.from_dict(rows, orient="index")


def verdict(holds: Sequence[bool] | pd.Series) -> str:
    """How many scenarios a statement holds on, in words: ``"on every scenario"``,
    ``"on no scenario"`` or ``"on k of n scenarios"``."""
    flags = np.asarray(holds)
    if flags.ndim != 1 or flags.size == 0 or flags.dtype != bool:
        raise ValueError(f"holds must be a non-empty 1-d sequence of bools, got {holds!r}")
    k, n = int(flags.sum()), flags.size
    if k == n:
        return "on every scenario"
    if k == 0:
        return "on no scenario"
    return f"on {k} of {n} scenarios"
