"""Tests of idn_core.views.display: book HTML inside the build, plotly's own show outside it."""

from __future__ import annotations

import plotly.graph_objects as go
import pytest

from idn_core.views import display


@pytest.fixture
def fig() -> go.Figure:
    frames = [go.Frame(data=[go.Scatter(y=[1, 0])], name="f1")]
    return go.Figure(go.Scatter(y=[0, 1]), frames=frames)


def test_figure_html_has_no_plotlyjs_and_does_not_autoplay(fig: go.Figure) -> None:
    html = display.figure_html(fig)
    assert "Plotly.newPlot" in html
    assert "<script src" not in html and "cdn.plot.ly" not in html
    assert "<html" not in html
    assert "Plotly.animate" not in html


def test_show_emits_html_in_book_build(fig: go.Figure, monkeypatch) -> None:
    shown = []
    monkeypatch.setenv(display.BUILD_ENV_VAR, "1")
    monkeypatch.setattr("IPython.display.display", lambda obj: shown.append(obj))
    monkeypatch.setattr(
        go.Figure, "show", lambda self, **kw: pytest.fail("fig.show() in the build")
    )
    display.show(fig)
    (obj,) = shown
    bundle = obj._repr_mimebundle_() if hasattr(obj, "_repr_mimebundle_") else None
    html = obj._repr_html_()
    assert "Plotly.newPlot" in html
    assert bundle is None or "application/vnd.plotly.v1+json" not in bundle


@pytest.mark.parametrize("value", ["", "0"])
def test_show_falls_back_to_plotly_outside_the_build(fig, monkeypatch, value: str) -> None:
    calls = []
    monkeypatch.setenv(display.BUILD_ENV_VAR, value)
    monkeypatch.setattr(go.Figure, "show", lambda self, **kw: calls.append(self))
    display.show(fig)
    assert calls == [fig]
    assert not display.in_book_build()


def test_config_reaches_plotly(fig: go.Figure) -> None:
    assert '"displayModeBar": false' in display.figure_html(fig, {"displayModeBar": False})


@pytest.mark.parametrize("value", ["1", ""])
def test_glue_figure_glues_book_html_in_the_build_and_the_figure_outside(
    fig: go.Figure, monkeypatch, value: str
) -> None:
    glued = []
    monkeypatch.setenv(display.BUILD_ENV_VAR, value)
    monkeypatch.setattr(
        "myst_nb.glue", lambda name, obj, display=True: glued.append((name, obj, display))
    )

    display.glue_figure("fig-name", fig)

    ((name, obj, shown),) = glued
    assert name == "fig-name" and shown is False
    if value:
        html = obj._repr_html_()  # the book's fragment (div ids differ between calls)
        assert "Plotly.newPlot" in html and '"y":[0,1]' in html and "<script src" not in html
    else:
        assert obj is fig
