"""The built book (quick profile) as readers meet it, in Debian's Chromium, offline.

``_build/html`` is built once per session (``quick_book`` in conftest.py) and served on
127.0.0.1. Every page is visited once (``visits``): console errors and requests are
recorded, plotly figures are waited for, and each chapter is photographed into
``_build/screenshots/``. Separate tests then assert on those records, drag every static
plotly slider, and search the book.
"""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml
from browser_support import (
    ALL_DRAWN,
    BROWSER_ARGS,
    FIGURE_STATE,
    require_chromium,
    serve,
)
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from idn_core import book

pytestmark = pytest.mark.slow

VIEWPORT = {"width": 1280, "height": 900}
WIDGET_MARKER = "application/vnd.jupyter.widget-view+json"
# The plotted data of a figure (not the slider itself): its trace layers' markup.
PLOTTED = """gd => [...gd.querySelectorAll(
  '.cartesianlayer, .pielayer, .polarlayer, .ternarylayer, .table')].map(e => e.innerHTML).join('')"""
SLIDER_STATE = f"""i => {{
  const gd = document.querySelectorAll('.plotly-graph-div')[i];
  const s = gd.layout.sliders[0];
  return {{active: s.active || 0, steps: s.steps.length, plotted: ({PLOTTED})(gd)}};
}}"""


@dataclass
class Visit:
    """What one page did when loaded: console errors, remote requests, figures, widgets."""

    rel: str
    errors: list[str] = field(default_factory=list)
    remote: list[str] = field(default_factory=list)
    figures: list[dict[str, Any]] = field(default_factory=list)
    widgets: int = 0
    has_widget_state: bool = False
    screenshot: Path | None = None


def book_pages(html: Path) -> list[str]:
    """Every HTML page of the book (relative paths), theme assets excluded."""
    return sorted(
        p.relative_to(html).as_posix()
        for p in html.rglob("*.html")
        if not {"_static", "_sources", "_images"} & set(p.relative_to(html).parts)
    )


def chapter_pages() -> list[str]:
    """The pages of the table of contents, in reading order."""
    root = book.default_root()
    toc = yaml.safe_load((root / "_toc.yml").read_text(encoding="utf-8"))
    return [
        entry.removesuffix(".ipynb").removesuffix(".md") + ".html" for entry in book.toc_files(toc)
    ]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    executable = require_chromium()
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=executable, args=BROWSER_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture(scope="module")
def site(quick_book: Path) -> Iterator[str]:
    with serve(quick_book) as url:
        yield url


@pytest.fixture(scope="module")
def visits(browser: Any, site: str, quick_book: Path) -> dict[str, Visit]:
    """Load every page once; photograph each chapter from the top of the page."""
    shots = book.default_root() / "_build" / "screenshots"
    shutil.rmtree(shots, ignore_errors=True)
    shots.mkdir(parents=True)
    chapters = set(chapter_pages())
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    current: list[Visit] = []

    def on_console(msg: Any) -> None:
        # A failed resource is reported with its URL by on_response.
        text = msg.text
        if msg.type == "error":
            current[-1].errors.append(f"console: {text}")

    def on_response(response: Any) -> None:
        if response.status >= 400:
            current[-1].errors.append(f"HTTP {response.status}: {response.url}")

    def on_pageerror(exc: Any) -> None:
        current[-1].errors.append(f"pageerror: {exc}")

    def on_request(request: Any) -> None:
        if not request.url.startswith((site, "data:", "blob:", "about:")):
            current[-1].remote.append(request.url)

    page.on("console", on_console)
    page.on("pageerror", on_pageerror)
    page.on("response", on_response)
    page.on("request", on_request)
    result: dict[str, Visit] = {}
    try:
        for rel in book_pages(quick_book):
            visit = Visit(rel)
            current.append(visit)
            visit.has_widget_state = WIDGET_MARKER in (quick_book / rel).read_text("utf-8")
            page.goto(site + rel, wait_until="networkidle")
            with contextlib.suppress(PlaywrightTimeout):  # the figure test reports it
                page.wait_for_function(ALL_DRAWN, timeout=30_000)
            if visit.has_widget_state:
                with contextlib.suppress(PlaywrightTimeout):  # the widget test reports it
                    page.wait_for_selector(".jupyter-widgets", timeout=30_000)
            visit.figures = page.evaluate(FIGURE_STATE)
            visit.widgets = page.locator(".jupyter-widgets").count()
            if rel in chapters:
                page.evaluate("window.scrollTo(0, 0)")
                page.wait_for_timeout(200)
                visit.screenshot = shots / (rel.removesuffix(".html").replace("/", "__") + ".png")
                page.screenshot(path=str(visit.screenshot))
            result[rel] = visit
    finally:
        context.close()
    return result


def test_every_page_was_visited(visits: dict[str, Visit]) -> None:
    missing = [rel for rel in chapter_pages() if rel not in visits]
    assert not missing, f"toc pages not built: {missing}"
    assert "search.html" in visits and "genindex.html" in visits


def test_no_console_errors(visits: dict[str, Visit]) -> None:
    bad = {rel: v.errors for rel, v in visits.items() if v.errors}
    assert not bad, f"console errors: {bad}"


def test_no_request_leaves_localhost(visits: dict[str, Visit]) -> None:
    bad = {rel: v.remote for rel, v in visits.items() if v.remote}
    assert not bad, f"requests leaving 127.0.0.1: {bad}"


def test_every_plotly_figure_renders(visits: dict[str, Visit]) -> None:
    figures = [(rel, f) for rel, v in visits.items() for f in v.figures]
    assert figures, "no plotly figure in the book"
    bad = [(rel, f) for rel, f in figures if not (f["drawn"] and f["traces"] and f["marks"])]
    assert not bad, f"figures not drawn with data (page, state): {bad}"


def test_saved_widgets_render(visits: dict[str, Visit]) -> None:
    bad = [rel for rel, v in visits.items() if v.has_widget_state and not v.widgets]
    assert not bad, f"pages whose saved widgets render as nothing: {bad}"


def test_a_screenshot_of_each_chapter(visits: dict[str, Visit]) -> None:
    for rel in chapter_pages():
        shot = visits[rel].screenshot
        assert shot is not None and shot.is_file(), rel
        png = shot.read_bytes()
        assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10_000, f"{rel}: blank screenshot?"
        width, height = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
        assert (width, height) == (VIEWPORT["width"], VIEWPORT["height"]), rel


def _drag(page: Any, index: int) -> str | None:
    """Drag the first slider of figure ``index`` to its far end; return a problem or None."""
    gd = page.locator(".plotly-graph-div").nth(index)
    gd.scroll_into_view_if_needed()
    before = page.evaluate(SLIDER_STATE, index)
    if before["steps"] < 2:
        return None
    grip = gd.locator(".slider-grip-rect").first.bounding_box()
    rail = gd.locator(".slider-rail-rect").first.bounding_box()
    if grip is None or rail is None:
        return "slider grip or rail not drawn"
    to_end = before["active"] < before["steps"] - 1
    target_x = rail["x"] + rail["width"] - 2 if to_end else rail["x"] + 2
    y = grip["y"] + grip["height"] / 2
    page.mouse.move(grip["x"] + grip["width"] / 2, y)
    page.mouse.down()
    page.mouse.move(target_x, y, steps=12)
    page.mouse.up()
    try:
        page.wait_for_function(
            f"""([i, a, p]) => {{
              const s = ({SLIDER_STATE})(i);
              return s.active !== a && s.plotted !== p;
            }}""",
            arg=[index, before["active"], before["plotted"]],
            timeout=5_000,
        )
    except PlaywrightTimeout:
        after = page.evaluate(SLIDER_STATE, index)
        return (
            f"active {before['active']} -> {after['active']}, "
            f"plotted data changed: {after['plotted'] != before['plotted']}"
        )
    return None


def test_dragging_a_static_slider_changes_the_plotted_data(
    browser: Any, site: str, visits: dict[str, Visit]
) -> None:
    targets = [
        (rel, f["index"]) for rel, v in visits.items() for f in v.figures if f["sliders"] > 0
    ]
    assert targets, "no plotly figure with a slider in the book"
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    problems = {}
    try:
        loaded = None
        for rel, index in targets:
            if rel != loaded:
                page.goto(site + rel, wait_until="networkidle")
                page.wait_for_function(ALL_DRAWN, timeout=30_000)
                loaded = rel
            if problem := _drag(page, index):
                problems[f"{rel} figure {index}"] = problem
    finally:
        context.close()
    assert not problems, f"sliders that did not change their figure: {problems}"


def test_search_finds_infida(browser: Any, site: str) -> None:
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    try:
        page.goto(site + "search.html?q=INFIDA", wait_until="networkidle")
        page.wait_for_selector("ul.search li", timeout=30_000)
        hits = page.locator("ul.search li").all_inner_texts()
    finally:
        context.close()
    assert hits, "searching INFIDA found nothing"
    assert any("infida" in hit.lower() for hit in hits), hits


PLAYGROUND = "notebooks/07_playground.html"


def test_the_playground_renders(visits: dict[str, Visit]) -> None:
    visit = visits[PLAYGROUND]
    assert visit.widgets > 0, "the playground dashboard (saved widget state) did not render"
    assert any(f["sliders"] for f in visit.figures), "no static playground figure with a slider"


def test_playground_buttons_switch_the_plotted_latency(browser: Any, site: str) -> None:
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    try:
        page.goto(site + PLAYGROUND, wait_until="networkidle")
        page.wait_for_function(ALL_DRAWN, timeout=30_000)
        gd = page.locator(".plotly-graph-div").first
        gd.scroll_into_view_if_needed()
        plotted = f"() => ({PLOTTED})(document.querySelector('.plotly-graph-div'))"
        before = page.evaluate(plotted)
        buttons = gd.locator(".updatemenu-button")
        assert buttons.count() >= 2, "no latency buttons"
        buttons.nth(buttons.count() - 1).click()
        page.wait_for_function(f"p => ({plotted})() !== p", arg=before, timeout=5_000)
    finally:
        context.close()
