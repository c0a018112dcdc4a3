"""Sphinx extension of the IDN Book: local plotly.js where a figure is, pages fit for phones.

Figures are emitted by :func:`idn_core.views.display.show` as HTML fragments that call
``Plotly.newPlot`` without embedding plotly.js. This extension adds one ``<script>`` for the
book's own copy (``_static/vendor/plotly-cartesian.min.js``, plotly.js's partial bundle of
cartesian traces, vendored by ``make vendor``) to the ``<head>`` of exactly those pages,
without ``defer`` so it runs before the inline figure code. Every page then gets
``idn_book.js`` (on narrow screens, side legends go below the plot and multi-panel figures
scroll inside their own box; a link to a collapsed box opens it) and ``idn_book.css`` (long
inline code wraps, wide outputs scroll inside their box, the notices at saved widgets).
The theme's 1.5 MB ``fontawesome.js`` is removed from every page (its CSS draws the icons).
On pages with saved widgets, myst-nb adds ``idn_widgets.js`` (``nb_ipywidgets_js``), which
loads require.js and the 3.6 MB widget manager only when a dashboard comes near the screen.

On pages with saved widgets it also points require.js at the local widget manager's
folder (so its icon fonts load from ``_static/vendor/widgets``, not from beside the page)
and gives MathJax 3 the ``MathJax.Hub.Queue`` call that the widget manager still makes.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from sphinx.application import Sphinx
from sphinx.config import Config
from sphinx.errors import ConfigError

PLOTLY_JS = "vendor/plotly-cartesian.min.js"
STATIC = Path(__file__).resolve().parent / "static"
BOOK_CSS = "idn_book.css"
BOOK_JS = "idn_book.js"
# pydata-sphinx-theme's layout loads a 1.5 MB fontawesome.js on every page "so that users
# can add custom icons"; the book has none, and its stylesheet already draws every icon from
# the Font Awesome web fonts. Removed from the written pages (the theme's template, not
# Sphinx's script list, adds it).
FONTAWESOME_JS = re.compile(
    r'\s*<script defer src="[^"]*_static/scripts/fontawesome\.js[^"]*"></script>'
)
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
            "run `make vendor` and build with `make book`"
        )


def _add_plotly(
    app: Sphinx, pagename: str, templatename: str, context: dict[str, Any], doctree: Any
) -> None:
    """Add plotly.js to the page being written if its body holds a plotly figure."""
    body = context.get("body") or ""
    if any(marker in body for marker in FIGURE_MARKERS):
        app.add_js_file(PLOTLY_JS, priority=100)
    if WIDGET_MARKER in body:
        # Before require.js (loaded later by idn_widgets.js, which myst-nb adds at priority 500).
        widgets_dir = context["pathto"](WIDGETS_DIR, 1)
        app.add_js_file(None, body=REQUIRE_PATHS % {"dir": widgets_dir}, priority=499)
        if app.env.get_domain("math").has_equations(pagename):  # type: ignore[attr-defined]
            app.add_js_file(None, body=MATHJAX2_SHIM, priority=501)


def _is_thebe_script(script: Any) -> bool:
    """True for sphinx-thebe's inline configuration and loader scripts."""
    filename = str(getattr(script, "filename", script) or "")
    body = str(getattr(script, "attributes", {}).get("body", ""))
    return filename.endswith("sphinx-thebe.js") or "THEBE_JS_URL" in body


def _drop_thebe(
    app: Sphinx, pagename: str, templatename: str, context: dict[str, Any], doctree: Any
) -> None:
    """Remove sphinx-thebe's scripts: the book has no live kernel button (``thebe: false``),
    and sphinx-thebe 0.3.1 declares ``const THEBE_JS_URL`` twice on every page, a
    ``SyntaxError`` in every reader's console."""
    if "script_files" in context:
        context["script_files"] = [s for s in context["script_files"] if not _is_thebe_script(s)]


def _add_static(app: Sphinx, config: Config) -> None:
    """Serve this extension's ``static/`` folder (``idn_book.css``, ``idn_book.js``)."""
    config.html_static_path.append(str(STATIC))


def _drop_fontawesome_js(app: Sphinx, exception: Exception | None) -> None:
    """Remove the theme's ``fontawesome.js`` from every written page (see FONTAWESOME_JS)."""
    if exception is not None or app.builder.format != "html":
        return
    for page in Path(app.outdir).rglob("*.html"):
        if "_static" in page.relative_to(app.outdir).parts:
            continue
        text = page.read_text(encoding="utf-8")
        lean = FONTAWESOME_JS.sub("", text)
        if lean != text:
            page.write_text(lean, encoding="utf-8")


def setup(app: Sphinx) -> dict[str, Any]:
    """Register the hooks."""
    app.connect("config-inited", _add_static)
    app.add_css_file(BOOK_CSS)
    app.add_js_file(BOOK_JS, priority=101)  # right after plotly.js where a page loads it
    app.connect("builder-inited", _check_assets)
    app.connect("build-finished", _drop_fontawesome_js)
    app.connect("html-page-context", _add_plotly)
    app.connect("html-page-context", _drop_thebe, priority=900)
    return {"version": "0.1", "parallel_read_safe": True, "parallel_write_safe": True}
