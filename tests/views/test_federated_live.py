"""Tests of idn_core.views.federated_live: the dashboards of chapters 5 and 6."""

from __future__ import annotations

from types import SimpleNamespace

import pandas as pd
import pytest

import idn_core.views.federated_live as live
from idn_core.views import delivery_training_explorer, early_exit_explorer

from .conftest import controls, surface_errors
from .test_federated import early_exit_table, tradeoff_table


def test_early_exit_explorer_shows_the_gain_figure_and_means_of_the_chosen_data_split(
    shown,
) -> None:
    table = early_exit_table()
    board = surface_errors(early_exit_explorer(table))
    shown.figures.clear()
    shown.displayed.clear()

    controls(board)["data_split"].value = "skewed"

    (fig,) = shown.figures
    assert [a.text for a in fig.layout.annotations if a.text] == ["data skewed"]
    assert list(fig.data[0].y) == pytest.approx([2.0, 2.0])  # serving over equal, in points
    (means,) = shown.displayed
    assert isinstance(means, pd.DataFrame)
    assert means.loc[("5-15-80", "serving"), "served_acc"] == pytest.approx(0.675)
    assert means.loc[("80-15-5", "flops"), "exit1_acc"] == pytest.approx(0.34)


def test_early_exit_explorer_metric_reaches_the_figure(shown) -> None:
    board = surface_errors(early_exit_explorer(early_exit_table()))
    shown.figures.clear()

    controls(board)["metric"].value = "exit1_acc"

    (fig,) = shown.figures
    assert fig.layout.yaxis.title.text == "exit1_acc gain over equal (pp)"


def test_early_exit_explorer_errors_surface(shown, monkeypatch) -> None:
    board = surface_errors(early_exit_explorer(early_exit_table()))

    def broken(*args, **kwargs):
        raise RuntimeError("figure failed")

    monkeypatch.setattr(live, "weighting_gain_figure", broken)
    with pytest.raises(RuntimeError, match="figure failed"):
        controls(board)["data_split"].value = "skewed"


def test_delivery_training_explorer_shows_both_arms_at_the_chosen_threshold(shown) -> None:
    board = surface_errors(delivery_training_explorer(tradeoff_table()))
    assert list(controls(board)["threshold"].options) == [0.5, 0.7, 0.9]
    shown.displayed.clear()

    controls(board)["threshold"].value = 0.9

    (means,) = shown.displayed
    assert means.loc["plain", ("accuracy", "mean")] == pytest.approx(0.73)
    assert means.loc["delivery-aware", ("accuracy", "mean")] == pytest.approx(0.78)
    assert means.loc["plain", ("latency_ms", "mean")] == pytest.approx(9.5)


def test_delivery_training_explorer_errors_surface(shown, monkeypatch) -> None:
    board = surface_errors(delivery_training_explorer(tradeoff_table()))

    def broken(*args, **kwargs):
        raise RuntimeError("selection failed")

    monkeypatch.setattr(live, "np", SimpleNamespace(isclose=broken))
    with pytest.raises(RuntimeError, match="selection failed"):
        controls(board)["threshold"].value = 0.7
