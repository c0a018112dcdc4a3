"""Helpers of the browser tests: Debian's Chromium driven by Playwright, a local HTTP server.

Never skips: a missing Chromium is an error telling how to install it (``make chromium``,
which ``make test`` runs first). Playwright's own browser downloads are never used.
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import threading
from collections.abc import Iterator
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
BROWSER_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

# Every plotly figure on the page has been drawn with at least one trace holding marks.
FIGURE_STATE = """() => [...document.querySelectorAll('.plotly-graph-div')].map((gd, i) => ({
  index: i,
  id: gd.id,
  drawn: gd.classList.contains('js-plotly-plot') && !!gd._fullLayout,
  traces: gd.querySelectorAll(
    '.scatterlayer .trace, .barlayer .trace, .boxlayer .trace, .violinlayer .trace,'
    + ' .heatmaplayer .hm, .contourlayer .contour, .pielayer .trace, .funnellayer .trace,'
    + ' .waterfalllayer .trace, .imagelayer .im, .table .table-control-view'
  ).length,
  marks: gd.querySelectorAll(
    '.scatterlayer .trace path.point, .scatterlayer .trace path.js-line,'
    + ' .scatterlayer .trace .js-fill, .barlayer .trace path, .boxlayer .trace path,'
    + ' .violinlayer .trace path, .heatmaplayer .hm image, .contourlayer path,'
    + ' .pielayer .slice path, .imagelayer image, .table .cell-rect,'
    + ' .scatterlayer .trace text'
  ).length,
  sliders: (gd.layout && gd.layout.sliders) ? gd.layout.sliders.length : 0,
}))"""
ALL_DRAWN = f"""() => {{
  const state = ({FIGURE_STATE})();
  return state.every(f => f.drawn && f.traces > 0 && f.marks > 0);
}}"""

# Every saved widget view of the page has been drawn by the widget manager.
WIDGETS_DRAWN = """() => [...document.querySelectorAll(
    'script[type="application/vnd.jupyter.widget-view+json"]')].every(view =>
  view.previousElementSibling && view.previousElementSibling.classList.contains('widget-subarea'))"""


def require_chromium() -> str:
    """Path of Debian's Chromium; an assertion error saying how to install it otherwise."""
    assert Path(CHROMIUM).exists(), (
        f"{CHROMIUM} not found: the browser tests need Debian's chromium "
        "(`make chromium`, i.e. `apt-get update && apt-get install -y chromium` as root)"
    )
    return CHROMIUM


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


@contextlib.contextmanager
def serve(folder: Path) -> Iterator[str]:
    """Serve ``folder`` on 127.0.0.1 (free port) in a thread; yield the base URL."""
    handler = functools.partial(_QuietHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
