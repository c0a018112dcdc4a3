"""The view tests' own helpers can fail: a dishonest slider, an idle step, a swallowed error."""

from __future__ import annotations

import ipywidgets
import plotly.graph_objects as go
import pytest

from .conftest import controls, surface_errors
from .figure_checks import (
    apply_step,
    assert_active_steps_match,
    assert_every_step_changes_something,
)


def two_state_figure(plotted: list[float], active: int, second: list[float]) -> go.Figure:
    fig = go.Figure(go.Scatter(y=plotted))
    steps = [
        {"label": "a", "method": "restyle", "args": [{"y": [[1.0, 2.0]]}, [0]]},
        {"label": "b", "method": "update", "args": [{"y": [second]}, {"title.text": "b"}, [0]]},
    ]
    fig.update_layout(sliders=[{"active": active, "steps": steps}])
    return fig


def test_a_slider_opening_on_another_state_than_the_plotted_one_is_caught() -> None:
    fig = two_state_figure([1.0, 2.0], active=1, second=[3.0, 4.0])

    with pytest.raises(
        AssertionError, match=r"opens at step 1 \('b'\).*data\[0\]\.y\[0\]: 3\.0 != 1\.0"
    ):
        assert_active_steps_match(fig)


def test_a_step_that_changes_nothing_is_caught() -> None:
    fig = two_state_figure([1.0, 2.0], active=0, second=[1.0, 2.0])
    fig.layout.title.text = "b"

    with pytest.raises(AssertionError, match=r"step 1 \('b'\) changes nothing"):
        assert_every_step_changes_something(fig)


def test_apply_step_replays_restyle_per_trace_and_relayout_paths() -> None:
    fig = go.Figure([go.Scatter(y=[0], name="a"), go.Scatter(y=[0], name="b", visible=False)])
    step = {"method": "update", "args": [{"visible": [False, True]}, {"xaxis.title.text": "t"}]}

    state = apply_step(fig, step)

    assert [t["visible"] for t in state["data"]] == [False, True]
    assert state["layout"]["xaxis"]["title"]["text"] == "t"


def test_interactive_swallows_callback_errors_unless_surfaced() -> None:
    def view(x: int) -> None:
        if x > 1:
            raise RuntimeError("view failed")

    board = ipywidgets.interactive(view, x=ipywidgets.IntSlider(value=1, max=5))
    controls(board)["x"].value = 2  # swallowed and logged: this line alone cannot fail a test

    surface_errors(board)
    with pytest.raises(RuntimeError, match="view failed"):
        controls(board)["x"].value = 3
