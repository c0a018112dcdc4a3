"""Tests of idn_core.views.playground_live: chapter 7's dashboard and its results panel."""

from __future__ import annotations

import re

import pytest

from idn_core.delivery import Playground
from idn_core.network import load_scenario
from idn_core.views import PlaygroundDashboard, result_html


@pytest.fixture(scope="module")
def pg() -> Playground:
    scenario = load_scenario(num_samples=3000, epochs=3, progress=False)
    return Playground(scenario, n_requests=2000, seed=1)


def without_timing(html: str) -> str:
    return re.sub(r" <span style='color:#888'>\(evaluated in \d+ ms\)</span>", "", html)


def test_result_html_reports_the_summary_and_one_row_per_node(pg) -> None:
    result = pg.run(policy="cloud")

    html = result_html(result, elapsed_ms=12.0)

    s = result.summary
    assert f"<b>accuracy {s['accuracy']:.1%}</b>" in html
    assert f"mean latency {s['latency_ms']:.1f} ms" in html
    assert "forwarded 100%" in html
    assert "(evaluated in 12 ms)" in html
    assert html.count("<tr><td>") == len(result.per_node)
    assert "<td>cloud</td><td>cnn-cloud</td>" in html
    assert "(evaluated in" not in result_html(result)


def test_dashboard_shows_the_result_of_a_new_threshold(pg) -> None:
    dash = PlaygroundDashboard(pg)

    dash.threshold.value = 0.9

    expected = pg.run(threshold=0.9)
    assert dash.result.summary == expected.summary
    assert without_timing(dash.output.value) == result_html(expected)


def test_dashboard_latency_slider_moves_the_selected_uplink(pg) -> None:
    dash = PlaygroundDashboard(pg)
    dash.link.value = "edge-0"

    dash.latency.value = 80.0

    expected = pg.run(pg.with_uplink_latency("edge-0", 80.0), threshold=0.5)
    assert without_timing(dash.output.value) == result_html(expected)
    assert dash.topology.link("edge-0", "cloud").latency_ms == 80.0


def test_dashboard_policy_and_score_reach_the_evaluation(pg) -> None:
    dash = PlaygroundDashboard(pg)

    dash.score.value = "margin"
    dash.policy.value = "gain-aware"

    expected = pg.run(policy="gain-aware", alpha=0.005, score="margin", threshold=0.5)
    assert dash.result.summary == expected.summary


def test_dashboard_errors_surface(pg, monkeypatch) -> None:
    dash = PlaygroundDashboard(pg)

    def broken(*args, **kwargs):
        raise RuntimeError("evaluation failed")

    monkeypatch.setattr(pg, "run", broken)
    with pytest.raises(RuntimeError, match="evaluation failed"):
        dash.threshold.value = 0.7
