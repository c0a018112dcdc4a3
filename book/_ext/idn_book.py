"""Sphinx extension of the IDN Book: serve plotly.js locally, only on pages with a figure.

Figures are emitted by :func:`idn_core.display.show` as HTML fragments that call
``Plotly.newPlot`` without embedding plotly.js. This extension adds one ``<script>`` for the
book's own copy (``_static/vendor/plotly.min.js``, vendored by ``make vendor``) to the
``<head>`` of exactly those pages, without ``defer`` so it runs before the inline figure code.

On pages with saved widgets it also points require.js at the local widget manager's
folder (so its icon fonts load from ``_static/vendor/widgets``, not from beside the page)
and gives MathJax 3 the ``MathJax.Hub.Queue`` call that the widget manager still makes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sphinx.application import Sphinx
from sphinx.errors import ConfigError

PLOTLY_JS = "vendor/plotly.min.js"
FIGURE_MARKERS = ("Plotly.newPlot", "plotly-graph-div")
WIDGET_MARKER = "application/vnd.jupyter.widget-view+json"
WIDGETS_DIR = "_static/vendor/widgets"
# require.js configuration read when require.js loads. embed-amd.js defines named modules
# (``@jupyter-widgets/base``, ``.../controls``, ``.../html-manager``, ...) that each take the
# folder of their own require.js URL as the public path of their icon fonts: map every
# ``@jupyter-widgets`` name into the local widget manager's folder, or the fonts are looked
# for beside the page (404). The widget manager also reads
# ``window.__jupyter_widgets_assets_path__`` (absolute URL of that folder, trailing slash).
REQUIRE_PATHS = (
    'var require = {paths: {"@jupyter-widgets/html-manager/dist": "%(dir)s",'
    ' "@jupyter-widgets": "%(dir)s"}};'
    " window.__jupyter_widgets_assets_path__ = new URL('%(dir)s/', document.baseURI).href;"
)
# The widget manager typesets labels with the MathJax 2 API when MathJax is on the page.
MATHJAX2_SHIM = """(function () {
  var config = (window.MathJax = window.MathJax || {});
  config.startup = config.startup || {};
  config.startup.ready = function () {
    MathJax.startup.defaultReady();
    MathJax.Hub = MathJax.Hub || {Queue: function (job) {
      if (Array.isArray(job) && job[2]) { MathJax.typesetPromise([job[2]]); }
    }};
  };
})();"""


def _check_assets(app: Sphinx) -> None:
    """Fail early when the vendored assets are not on ``html_static_path``."""
    if app.builder.format != "html":
        return
    confdir = Path(app.confdir)
    if not any((confdir / p / PLOTLY_JS).is_file() for p in app.config.html_static_path):
        raise ConfigError(
            f"{PLOTLY_JS} not found on html_static_path {app.config.html_static_path}: "
            "run `make vendor` and build with `python -m idn_core.book`"
        )


def _add_plotly(
    app: Sphinx, pagename: str, templatename: str, context: dict[str, Any], doctree: Any
) -> None:
    """Add plotly.js to the page being written if its body holds a plotly figure."""
    body = context.get("body") or ""
    if any(marker in body for marker in FIGURE_MARKERS):
        app.add_js_file(PLOTLY_JS, priority=100)
    if WIDGET_MARKER in body:
        # Before require.js and embed-amd.js, which myst-nb adds with priority 500.
        widgets_dir = context["pathto"](WIDGETS_DIR, 1)
        app.add_js_file(None, body=REQUIRE_PATHS % {"dir": widgets_dir}, priority=499)
        if app.env.get_domain("math").has_equations(pagename):  # type: ignore[attr-defined]
            app.add_js_file(None, body=MATHJAX2_SHIM, priority=501)


def setup(app: Sphinx) -> dict[str, Any]:
    """Register the hooks."""
    app.connect("builder-inited", _check_assets)
    app.connect("html-page-context", _add_plotly)
    return {"version": "0.1", "parallel_read_safe": True, "parallel_write_safe": True}
