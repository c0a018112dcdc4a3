"""Tests of idn_core.sweep.table: glued scalars of executed notebooks into one tidy table."""

from __future__ import annotations

import math
from pathlib import Path

import nbformat
import pandas as pd
import pytest

from idn_core.sweep import glued_table
from idn_core.sweep.table import write_csv

RECORD = "application/papermill.record/"


def glue_output(name: str, text: str, rich: str | None = None) -> dict:
    """An output as myst-nb's ``glue(name, value, display=False)`` stores it."""
    data = {RECORD + "text/plain": text}
    if rich:
        data[RECORD + rich] = "<b>rich</b>"
    return nbformat.v4.new_output(
        "display_data", data=data, metadata={"scrapbook": {"name": name, "mime_prefix": RECORD}}
    )


def executed(path: Path, *outputs: dict) -> Path:
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("glue(...)")
    cell.outputs = list(outputs)
    nb.cells = [cell]
    nbformat.write(nb, path)
    return path


def test_one_row_per_run_and_scalar_in_grid_order(tmp_path: Path) -> None:
    first = executed(
        tmp_path / "1.ipynb",
        glue_output("acc", "0.5"),
        glue_output("n", "3"),
        glue_output("family", "'gain-aware'"),
        glue_output("fig-x", "<IPython.core.display.HTML object>", rich="text/html"),
        glue_output("shares", "[0.1, 0.9]"),  # not a scalar
        glue_output("nan_value", "np.float64(nan)"),
    )
    second = executed(tmp_path / "2.ipynb", glue_output("acc", "0.75"), glue_output("ok", "True"))
    points = [
        {"seed": 0, "scenario": "noisy"},
        {"seed": 1, "scenario": "noisy"},
        {"seed": 2, "scenario": "x"},
    ]
    table = glued_table(points, [first, second, None], ["scenario", "seed"])  # the third failed
    assert table.columns.tolist() == ["scenario", "seed", "name", "value"]
    rows = table.to_dict("records")
    assert rows[:4] == [
        {"scenario": "noisy", "seed": 0, "name": "acc", "value": 0.5},
        {"scenario": "noisy", "seed": 0, "name": "n", "value": 3},
        {"scenario": "noisy", "seed": 0, "name": "family", "value": "gain-aware"},
        {"scenario": "noisy", "seed": 0, "name": "nan_value", "value": rows[3]["value"]},
    ]
    assert math.isnan(rows[3]["value"])
    assert rows[4:] == [
        {"scenario": "noisy", "seed": 1, "name": "acc", "value": 0.75},
        {"scenario": "noisy", "seed": 1, "name": "ok", "value": True},
    ]


def test_no_run_gives_an_empty_table_with_its_columns() -> None:
    table = glued_table([{"a": 1}], [None], ["a"])
    assert table.empty and table.columns.tolist() == ["a", "name", "value"]
    with pytest.raises(ValueError, match="points \\(1\\) and notebooks \\(0\\) differ"):
        glued_table([{"a": 1}], [], ["a"])


def test_the_csv_round_trips(tmp_path: Path) -> None:
    table = pd.DataFrame({"a": [1, 2], "name": ["x", "x"], "value": [0.5, "text"]})
    path = write_csv(table, tmp_path / "deep" / "glued.csv")
    back = pd.read_csv(path, dtype=str)
    assert back.to_dict("list") == {"a": ["1", "2"], "name": ["x", "x"], "value": ["0.5", "text"]}
    assert [p.name for p in path.parent.iterdir()] == ["glued.csv"]  # no temporary left
