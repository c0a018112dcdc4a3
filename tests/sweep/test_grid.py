"""Tests of idn_core.sweep.grid: axes from the command line and YAML files, checks, product."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from idn_core.book import ParameterError, ProfileError
from idn_core.book.params import notebook_parameters
from idn_core.sweep import SweepError, axes_from_texts, grid_points, read_grid
from idn_core.sweep.grid import check_axes, merge_axes, parse_value


@pytest.fixture
def specs(tiny: Path) -> dict:
    return notebook_parameters(tiny)


def test_grid_points_are_the_product_in_order() -> None:
    axes = {"a": [1, 2, 3], "label": ["x", "y"], "scale": [0.5]}
    brute = [
        {"a": a, "label": label, "scale": scale}
        for a in axes["a"]
        for label in axes["label"]
        for scale in axes["scale"]
    ]
    assert grid_points(axes) == brute
    assert len(grid_points(axes)) == len(list(itertools.product(*axes.values())))


@pytest.mark.parametrize(
    ("name", "text", "value"),
    [
        ("a", "3", 3),
        ("a", "-2", -2),
        ("scale", "2", 2.0),
        ("scale", "1e-3", 0.001),
        ("label", "007", "007"),
        ("fail", "true", True),
        ("fail", "False", False),
        ("items", "[1, 2, 3]", [1, 2, 3]),
    ],
)
def test_values_are_read_by_the_notebooks_types(specs, name: str, text: str, value) -> None:
    parsed = parse_value(specs[name], text)
    assert parsed == value and type(parsed) is type(value)


def test_command_line_axes_keep_their_order_and_types(specs) -> None:
    axes = axes_from_texts("tiny", specs, [["label", "x", "y"], ["a", "1", "2"]])
    assert axes == {"label": ["x", "y"], "a": [1, 2]}
    assert list(axes) == ["label", "a"]


@pytest.mark.parametrize(
    ("pairs", "error", "message"),
    [
        ([["nope", "1"]], ParameterError, "unknown parameter 'nope'"),
        ([["a", "1.5"]], ParameterError, "parameter 'a' expects int, given '1.5'"),
        ([["scale", "fast"]], ParameterError, "parameter 'scale' expects float, given 'fast'"),
        ([["fail", "maybe"]], ParameterError, "parameter 'fail' expects true or false"),
        ([["items", "3"]], ParameterError, "parameter 'items' expects list, given int 3"),
        ([["a"]], SweepError, "-p a: give at least one value"),
        ([["a", "1"], ["a", "2"]], SweepError, "-p a is given twice"),
    ],
)
def test_bad_command_line_values_are_clear_errors(specs, pairs, error, message) -> None:
    with pytest.raises(error, match=message):
        check_axes("tiny", specs, axes_from_texts("tiny", specs, pairs))


def test_every_bad_value_is_reported_at_once(specs) -> None:
    with pytest.raises(ParameterError) as info:
        axes_from_texts("tiny", specs, [["a", "x"], ["scale", "y"]])
    assert "'a' expects int" in str(info.value) and "'scale' expects float" in str(info.value)


@pytest.mark.parametrize(
    ("axes", "error", "message"),
    [
        ({}, SweepError, "the grid is empty"),
        ({"a": []}, SweepError, "parameter 'a' has no values"),
        ({"a": [1, 1]}, SweepError, "parameter 'a' lists 1 twice"),
        ({"scale": [1, 1.0]}, SweepError, "lists 1.0 twice"),  # the same run twice
        ({"scale": [float("nan")]}, SweepError, "not a finite number"),
        ({"a": [1, "2"]}, ParameterError, "parameter 'a' expects int, given str '2'"),
        ({"a": [True]}, ParameterError, "parameter 'a' expects int, given bool"),
        ({"zzz": [1]}, ParameterError, "unknown parameter 'zzz'"),
        ({"name": [1]}, ParameterError, "unknown parameter 'name'"),
        ({"a": 3}, TypeError, "a must be a list of values"),
        ({"a": "12"}, TypeError, "a must be a list of values"),
        ([("a", [1])], TypeError, "grid must be a mapping"),
    ],
)
def test_bad_typed_axes_are_clear_errors(specs, axes, error, message) -> None:
    with pytest.raises(error, match=message):
        check_axes("tiny", specs, axes)


def test_a_parameter_named_like_a_table_column_cannot_be_swept(tmp_path: Path) -> None:
    from conftest import write_notebook

    path = write_notebook(tmp_path / "n.ipynb", "name: str = 'x'\nvalue: int = 1", "pass")
    with pytest.raises(SweepError, match="the table has a column 'value'"):
        check_axes("n", notebook_parameters(path), {"value": [1, 2]})


def test_whole_numbers_given_for_floats_become_floats(specs) -> None:
    axes = check_axes("tiny", specs, {"scale": [1, 2.5], "a": [3]})
    assert axes == {"scale": [1.0, 2.5], "a": [3]}
    assert type(axes["scale"][0]) is float and type(axes["a"][0]) is int


def test_grid_file_maps_parameters_to_lists(tmp_path: Path) -> None:
    path = tmp_path / "grid.yaml"
    path.write_text("label: [x, y]\nitems: [[1], [1, 2, 3]]\n")
    assert read_grid(path) == {"label": ["x", "y"], "items": [[1], [1, 2, 3]]}


@pytest.mark.parametrize(
    ("text", "error", "message"),
    [
        ("", SweepError, "the grid file is empty"),
        ("- 1\n- 2\n", SweepError, "expected a mapping"),
        ("a: 3\n", SweepError, r"a must be a list of values \(write \[3\] for one value\)"),
        ("a: [1\n", ProfileError, "line 2"),
        ("a: [1]\na: [2]\n", ProfileError, "duplicate key 'a'"),
    ],
)
def test_bad_grid_files_are_clear_errors(tmp_path: Path, text: str, error, message: str) -> None:
    path = tmp_path / "grid.yaml"
    path.write_text(text)
    with pytest.raises(error, match=message):
        read_grid(path)


def test_a_parameter_may_come_from_the_file_or_the_command_line_not_both() -> None:
    assert merge_axes({"a": [1]}, {"label": ["x"]}) == {"a": [1], "label": ["x"]}
    with pytest.raises(SweepError, match="'a' is given both in the grid file and with -p"):
        merge_axes({"a": [1]}, {"a": [2]})
