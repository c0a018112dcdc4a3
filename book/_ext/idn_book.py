"""Sphinx extension of the IDN Book: serve plotly.js locally, only on pages with a figure.

Figures are emitted by :func:`idn_core.display.show` as HTML fragments that call
``Plotly.newPlot`` without embedding plotly.js. This extension adds one ``<script>`` for the
book's own copy (``_static/vendor/plotly.min.js``, vendored by ``make vendor``) to the
``<head>`` of exactly those pages, without ``defer`` so it runs before the inline figure code.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sphinx.application import Sphinx
from sphinx.errors import ConfigError

PLOTLY_JS = "vendor/plotly.min.js"
FIGURE_MARKERS = ("Plotly.newPlot", "plotly-graph-div")


def _check_assets(app: Sphinx) -> None:
    """Fail early when the vendored assets are not on ``html_static_path``."""
    if app.builder.format != "html":
        return
    confdir = Path(app.confdir)
    if not any((confdir / p / PLOTLY_JS).is_file() for p in app.config.html_static_path):
        raise ConfigError(
            f"{PLOTLY_JS} not found on html_static_path {app.config.html_static_path}: "
            "run `make vendor` and build with `python -m idn_core.bookbuild`"
        )


def _add_plotly(
    app: Sphinx, pagename: str, templatename: str, context: dict[str, Any], doctree: Any
) -> None:
    """Add plotly.js to the page being written if its body holds a plotly figure."""
    body = context.get("body") or ""
    if any(marker in body for marker in FIGURE_MARKERS):
        app.add_js_file(PLOTLY_JS, priority=100)


def setup(app: Sphinx) -> dict[str, Any]:
    """Register the hooks."""
    app.connect("builder-inited", _check_assets)
    app.connect("html-page-context", _add_plotly)
    return {"version": "0.1", "parallel_read_safe": True, "parallel_write_safe": True}
