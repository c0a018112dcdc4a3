"""The per-scenario headlines of the cheapest scenario (digits) at a quick size, computed
once for the package's tests."""

from __future__ import annotations

from dataclasses import replace

import pandas as pd
import pytest

from idn_core.headlines import SuiteSettings, scenario_headlines

#: The quick preset with a shorter load run and placement horizon (the comparison is exact
#: at any size; the test only needs every step to run).
SETTINGS = replace(SuiteSettings.quick(), load_duration_s=0.3, horizon=30)
SCENARIO = "digits"


@pytest.fixture(scope="session")
def digits_table() -> pd.DataFrame:
    """:func:`scenario_headlines` of the digits scenario at :data:`SETTINGS`."""
    return scenario_headlines([SCENARIO], SETTINGS)
