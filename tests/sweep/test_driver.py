"""Tests of idn_core.sweep.driver: a sweep's table, files and options, end to end."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from idn_core.book import default_root
from idn_core.sweep import SweepError, grid_points, run_sweep
from idn_core.sweep.driver import check_jobs

from .conftest import closed_port, expected_glue


@pytest.mark.slow
def test_the_table_holds_every_glued_scalar_of_every_run(tiny: Path, tmp_path: Path) -> None:
    grid = {"a": [1, 2], "label": ["x", "yz"]}
    result = run_sweep(tiny, grid, jobs=1, out=tmp_path / "out", progress=False)
    assert result.ok and result.points == grid_points(grid)
    assert [run.cached for run in result.runs] == [False] * 4
    assert [run.parameters for run in result.runs] == grid_points(grid)

    expected = [
        {**point, "name": name, "value": value}
        for point in grid_points(grid)
        for name, value in expected_glue(point).items()
    ]  # fig-html is a rich output, not a scalar: no row
    table = result.table
    assert list(table.columns) == ["a", "label", "name", "value"]
    assert table.shape == (4 * 5, 4)
    assert table.to_dict("records") == expected
    assert [type(v) for v in table["value"]] == [type(row["value"]) for row in expected]

    written = pd.read_csv(result.csv, dtype=str, keep_default_na=False)
    assert written.columns.tolist() == table.columns.tolist()
    assert written["value"].tolist() == [str(row["value"]) for row in expected]
    assert result.figure == tmp_path / "out" / "summary.html"
    html = result.figure.read_text()
    assert '"double"' in html and "fig-html" not in html
    assert (tmp_path / "out" / "plotly.min.js").is_file()  # the page works offline


@pytest.mark.slow
def test_a_real_chapter_sweeps_with_the_quick_profile(tmp_path: Path) -> None:
    """07_playground under the quick profile (about 15 s on an idle machine), one grid point:
    the grid's request count, not the profile's 5000, reaches the chapter."""
    chapter = default_root() / "notebooks" / "07_playground.ipynb"
    result = run_sweep(
        chapter, {"n_requests": [2000]}, profile="quick", jobs=1, out=tmp_path, progress=False
    )
    assert result.ok, [str(f) for f in result.failures]
    (run,) = result.runs
    assert run.parameters["n_requests"] == 2000 and run.parameters["epochs"] == 3  # the profile's
    glued = dict(zip(result.table["name"], result.table["value"], strict=True))
    assert glued["pg_n_requests"] == 2000
    assert 0 <= glued["pg_cascade_fwd"] <= 100
    assert glued["pg_oracle_acc"] >= max(glued["pg_local_acc"], glued["pg_cloud_acc"])


def test_job_counts_are_checked() -> None:
    assert check_jobs(3) == 3
    with pytest.raises(SweepError, match="jobs must be a positive number"):
        check_jobs(0)
    with pytest.raises(TypeError, match="jobs must be a positive int"):
        check_jobs(2.0)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="jobs must be a positive int"):
        check_jobs(True)


def test_bad_input_fails_before_anything_runs(tiny: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    with pytest.raises(SweepError, match="cannot reach a Ray cluster"):
        run_sweep(tiny, {"a": [1]}, ray_address=f"127.0.0.1:{closed_port()}", out=out)
    with pytest.raises(SweepError, match="the grid is empty"):
        run_sweep(tiny, {}, out=out)
    with pytest.raises(SweepError, match="jobs must be a positive number"):
        run_sweep(tiny, {"a": [1]}, jobs=0, out=out)
    assert not out.exists()
