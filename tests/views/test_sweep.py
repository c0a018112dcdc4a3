"""Tests of idn_core.views.sweep: the summary figure of a sweep's table."""

from __future__ import annotations

import pandas as pd
import pytest

from idn_core.views import sweep_figure

from .figure_checks import apply_step, assert_static_controls_are_honest


def tidy() -> pd.DataFrame:
    """Two glued numbers and a string over scenario x seed (value = 10 * seed + scenario's index)."""
    rows = []
    for s, scenario in enumerate(["running", "noisy", "digits"]):
        for seed in (0, 1):
            rows.append({"scenario": scenario, "seed": seed, "name": "acc", "value": 10 * seed + s})
            rows.append({"scenario": scenario, "seed": seed, "name": "ms", "value": -float(s)})
            rows.append({"scenario": scenario, "seed": seed, "name": "family", "value": "cascade"})
            rows.append({"scenario": scenario, "seed": seed, "name": "flag", "value": True})
    return pd.DataFrame(rows)


def test_one_line_per_other_parameter_and_a_dropdown_per_number() -> None:
    fig = sweep_figure(tidy(), ["scenario", "seed"])
    assert [t.name for t in fig.data] == ["seed=0", "seed=1", "seed=0", "seed=1"]
    acc0, acc1, ms0, _ = fig.data
    assert list(acc0.x) == ["running", "noisy", "digits"]
    assert list(acc0.y) == [0, 1, 2] and list(acc1.y) == [10, 11, 12] and list(ms0.y) == [0, -1, -2]
    (menu,) = fig.layout.updatemenus
    assert [b.label for b in menu.buttons] == ["acc", "ms"]  # strings and bools are not plotted
    assert [t.visible for t in fig.data] == [True, True, False, False]
    state = apply_step(fig, menu.buttons[1])
    assert [t["visible"] for t in state["data"]] == [False, False, True, True]
    assert state["layout"]["yaxis"]["title"]["text"] == "ms"
    assert_static_controls_are_honest(fig)


def test_a_single_parameter_gives_one_line_per_number() -> None:
    table = tidy()
    table = table[table["seed"] == 0].drop(columns="seed")
    fig = sweep_figure(table, ["scenario"])
    assert [t.name for t in fig.data] == ["acc", "ms"]
    assert fig.layout.xaxis.title.text == "scenario" and fig.layout.xaxis.type == "category"


def test_bad_tables_are_clear_errors() -> None:
    with pytest.raises(ValueError, match="lacks the columns \\['seed'\\]"):
        sweep_figure(tidy().drop(columns="seed"), ["scenario", "seed"])
    with pytest.raises(ValueError, match="no glued value of the table is a number"):
        sweep_figure(tidy()[tidy()["name"] == "family"], ["scenario", "seed"])
    with pytest.raises(ValueError, match="lacks the columns"):
        sweep_figure(tidy(), [])
    with pytest.raises(TypeError, match="table must be a pandas DataFrame"):
        sweep_figure([{"a": 1}], ["a"])  # type: ignore[arg-type]
