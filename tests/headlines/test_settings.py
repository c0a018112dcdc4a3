"""Tests of idn_core.headlines.settings: defaults, the quick preset, validation."""

from __future__ import annotations

import math
from dataclasses import asdict
from pathlib import Path

import pytest
import yaml

from idn_core.headlines import SuiteSettings

PROFILES = Path(__file__).resolve().parents[2] / "notebooks" / "profiles.yaml"
CHAPTER = "09_across_scenarios"


def test_quick_preset_is_the_chapter_profile() -> None:
    """Every quick value of the chapter's profile is the preset's, and the preset changes
    nothing the profile does not set."""
    quick = yaml.safe_load(PROFILES.read_text(encoding="utf-8"))["quick"][CHAPTER]
    preset, full = asdict(SuiteSettings.quick()), asdict(SuiteSettings())
    for name, value in quick.items():
        if name in preset:
            assert preset[name] == value, name
    changed = {k for k in preset if preset[k] != full[k]}
    assert changed <= set(quick), f"quick changes {changed - set(quick)} without the profile"


def test_defaults_are_the_chapters() -> None:
    s = SuiteSettings()
    assert (s.num_samples, s.n_requests, s.n_grid, s.seeds) == (3000, 100_000, 30, 3)
    assert s.load_factor == 1.2 and s.tolerance == 0.005


@pytest.mark.parametrize(
    ("field", "value", "error"),
    [
        ("num_samples", 0, ValueError),
        ("n_requests", -5, ValueError),
        ("n_grid", 2.5, TypeError),
        ("seeds", True, TypeError),
        ("epochs", -1, ValueError),
        ("load_factor", math.nan, ValueError),
        ("load_duration_s", 0.0, ValueError),
        ("deadline_ms", math.inf, ValueError),
        ("deadline_ms", "50", TypeError),
        ("tolerance", 0.0, ValueError),
        ("tolerance", 1.0, ValueError),
    ],
)
def test_bad_values_are_refused_by_name(field: str, value: object, error: type) -> None:
    with pytest.raises(error, match=field):
        SuiteSettings(**{field: value})


def test_settings_are_frozen() -> None:
    with pytest.raises(AttributeError):
        SuiteSettings().n_grid = 3  # type: ignore[misc]
