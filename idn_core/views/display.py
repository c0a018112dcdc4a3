"""Show plotly figures both in a live notebook and in the static book.

Inside the book build (``IDN_BOOK_BUILD=1``, set by :mod:`idn_core.book`), a figure is
emitted as plain ``text/html`` without plotly.js: the book serves one local copy of
``plotly.min.js`` on the pages that have a figure. Anywhere else (JupyterLab, a script),
:func:`show` is plotly's own ``fig.show()``.

Examples
--------
>>> import plotly.graph_objects as go
>>> from idn_core.views.display import figure_html
>>> html = figure_html(go.Figure(go.Scatter(x=[0, 1], y=[1, 0])))
>>> "Plotly.newPlot" in html and "<script src" not in html
True
"""

from __future__ import annotations

import os
from typing import Any

BUILD_ENV_VAR = "IDN_BOOK_BUILD"
"""Environment variable set to ``1`` by the book build while notebooks execute."""

PROFILE_ENV_VAR = "IDN_BOOK_PROFILE"
"""Environment variable naming the build profile (``full``, ``quick``...) during the build."""

__all__ = [
    "BUILD_ENV_VAR",
    "PROFILE_ENV_VAR",
    "figure_html",
    "glue_figure",
    "in_book_build",
    "show",
]


def in_book_build() -> bool:
    """Return True while a notebook is executed by the book build."""
    return os.environ.get(BUILD_ENV_VAR, "").strip() not in ("", "0", "false", "False")


def figure_html(fig: Any, config: dict[str, Any] | None = None) -> str:
    """Return the HTML fragment of a plotly figure, without plotly.js and without autoplay.

    Parameters
    ----------
    fig : plotly.graph_objects.Figure
        The figure (animation frames and sliders are kept; frames do not play on load).
    config : dict, optional
        plotly.js configuration, e.g. ``{"displayModeBar": False}``.
    """
    return fig.to_html(include_plotlyjs=False, full_html=False, auto_play=False, config=config)


def show(fig: Any, config: dict[str, Any] | None = None) -> None:
    """Display a plotly figure: book HTML during the build, ``fig.show()`` otherwise.

    Parameters
    ----------
    fig : plotly.graph_objects.Figure
        The figure to display. Never emits plotly's JSON mime type in the book build,
        which myst-nb cannot render.
    config : dict, optional
        plotly.js configuration, e.g. ``{"displayModeBar": False}``.
    """
    if not in_book_build():
        fig.show(config=config)
        return
    from IPython.display import HTML, display

    display(HTML(figure_html(fig, config)))


def glue_figure(name: str, fig: Any) -> None:
    """Glue a plotly figure under ``name`` for ``{glue:figure}`` (with caption and label).

    In the book build the glued value is the HTML of :func:`figure_html`; outside it the
    figure itself is glued, so a live notebook shows an interactive figure.
    """
    from myst_nb import glue

    if in_book_build():
        from IPython.display import HTML

        glue(name, HTML(figure_html(fig)), display=False)
    else:
        glue(name, fig, display=False)
