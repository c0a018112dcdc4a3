"""Tests of idn_core.views.ensembles_live: chapter 3's hand-tuned ensemble cascade dashboard."""

from __future__ import annotations

import re

import pytest

import idn_core.views.ensembles_live as live
from idn_core.ensembles import committee_ensemble, ensemble_runs
from idn_core.network import load_scenario, make_requests
from idn_core.views import ensemble_explorer

from .conftest import controls, surface_errors
from .test_ensembles import comparison


@pytest.fixture(scope="module")
def setting():
    scenario = load_scenario(num_samples=3000, epochs=3, progress=False)
    ens = committee_ensemble(scenario)
    requests = make_requests(2000, scenario.test.n_samples, ens.latency.devices, seed=0)
    return scenario, ens, requests, ensemble_runs(ens)


@pytest.fixture(autouse=True)
def runs_once(setting, monkeypatch) -> None:
    """The stage combinations (stacking fits a model: seconds) are computed once per module."""
    runs = setting[3]
    monkeypatch.setattr(live, "ensemble_runs", lambda ens: runs if ens is setting[1] else None)


def reported_accuracy(shown) -> float:
    html = shown.displayed[-1].data
    return float(re.search(r"accuracy <b>([0-9.]+)</b>", html).group(1))


def test_ensemble_explorer_has_one_threshold_per_stage_but_the_last(setting, shown) -> None:
    _, ens, requests, _ = setting

    board = ensemble_explorer(ens, requests, comparison())

    assert sorted(controls(board)) == ["mode", "rule", "stage0", "stage1"]
    assert controls(board)["rule"].value == "weighted log vote"


def test_ensemble_explorer_stopping_at_the_device_reports_the_device_models_accuracy(
    setting, shown
) -> None:
    scenario, ens, requests, _ = setting
    comp = comparison()
    board = surface_errors(ensemble_explorer(ens, requests, comp))
    controls(board)["rule"].value = "committee soft vote"
    shown.figures.clear()

    controls(board)["stage0"].value = 0.0  # every request stops at stage 0

    device = scenario.test.correct()[0][requests.sample].mean()
    assert reported_accuracy(shown) == pytest.approx(device, abs=5e-5)
    (fig,) = shown.figures
    oracle, cascade, star = fig.data
    assert list(oracle.x) == comp.oracle.latency_ms.tolist()
    assert list(cascade.y) == comp.fronts["cascade"].accuracy.tolist()
    assert star.y[0] == pytest.approx(device)
    assert "models queried 1.00" in shown.displayed[-1].data
    assert fig.layout.xaxis.title.text == "mean latency (ms)"


def test_ensemble_explorer_query_mode_reaches_the_latency_model(
    setting, shown, monkeypatch
) -> None:
    _, ens, requests, _ = setting
    modes = []
    real = live.with_mode
    monkeypatch.setattr(live, "with_mode", lambda lat, mode: modes.append(mode) or real(lat, mode))
    board = surface_errors(ensemble_explorer(ens, requests, comparison()))

    controls(board)["mode"].value = "parallel"

    assert modes == ["relay", "parallel"]


def test_ensemble_explorer_errors_surface(setting, shown, monkeypatch) -> None:
    _, ens, requests, _ = setting
    board = surface_errors(ensemble_explorer(ens, requests, comparison()))

    def broken(*args, **kwargs):
        raise RuntimeError("evaluation failed")

    monkeypatch.setattr(live, "evaluate", broken)
    with pytest.raises(RuntimeError, match="evaluation failed"):
        controls(board)["stage1"].value = 0.5
