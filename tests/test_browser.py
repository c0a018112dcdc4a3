"""The built book (quick profile) as readers meet it, in Debian's Chromium, offline.

``_build/html`` is built once per session (``quick_book`` in conftest.py) and served on
127.0.0.1. Every page is visited once on a laptop-sized screen (``visits``, 1280x900) and
once on a phone (``phone_visits``, 390x844): console errors and requests are recorded,
plotly figures and saved widgets are waited for, and each chapter is photographed into
``_build/screenshots/`` (``<page>.png``, ``<page>__phone.png``). Separate tests then assert
on those records (no console error, figures drawn with the trace types of the partial
plotly bundle, a notice at every saved widget, no sideways scrolling and legends below the
plots on a phone), drag every static plotly slider, download the notebook archive, and
search the book.
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
    WIDGETS_DRAWN,
    require_chromium,
    serve,
)
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from idn_core import book

pytestmark = pytest.mark.slow

VIEWPORT = {"width": 1280, "height": 900}
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
WIDGET_MARKER = "application/vnd.jupyter.widget-view+json"
# Trace types of every figure, and those the loaded plotly.js bundle knows.
TRACE_TYPES = """() => window.Plotly ? {
  known: Object.keys(Plotly.PlotSchema.get().traces),
  used: [...document.querySelectorAll('.plotly-graph-div')].flatMap(
    gd => (gd.data || []).map(t => t.type || 'scatter')),
} : {known: [], used: []}"""
# Each saved widget view: is a visible notice right above what the widget manager drew?
WIDGET_NOTICES = """() => [...document.querySelectorAll(
    'script[type="application/vnd.jupyter.widget-view+json"]')].map(view => {
  const drawn = view.previousElementSibling;
  const notice = view.parentElement.querySelector('.idn-static-widget');
  const box = notice ? notice.getBoundingClientRect() : null;
  const area = drawn ? drawn.getBoundingClientRect() : null;
  return {
    drawn: !!drawn && drawn.classList.contains('widget-subarea'),
    notice: !!box && box.height > 0,
    above: !!box && !!area && box.bottom <= area.top + 1,
    text: notice ? notice.innerText : '',
  };
})"""
FIRST_NOTICE_TOP = """() => {
  const notice = document.querySelector('.idn-static-widget');
  return notice ? notice.getBoundingClientRect().top + window.scrollY : 0;
}"""
# Horizontal overflow of the page (not of a box that scrolls by itself), and the legend of
# every figure that shows one.
PAGE_LAYOUT = """() => ({
  scrollWidth: document.scrollingElement.scrollWidth,
  clientWidth: document.scrollingElement.clientWidth,
  legends: [...document.querySelectorAll('.plotly-graph-div')]
    .filter(gd => gd._fullLayout && gd._fullLayout.showlegend)
    .map(gd => ({id: gd.id, orientation: gd._fullLayout.legend.orientation})),
})"""
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
    trace_types: dict[str, list[str]] = field(default_factory=dict)
    widget_notices: list[dict[str, Any]] = field(default_factory=list)
    layout: dict[str, Any] = field(default_factory=dict)
    requested: list[str] = field(default_factory=list)
    fetched_before_scroll: list[str] = field(default_factory=list)
    first_notice_top: float = 0.0


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


def visit_every_page(
    browser: Any, site: str, html: Path, context_args: dict[str, Any], suffix: str
) -> dict[str, Visit]:
    """Load every page once in a fresh context; photograph each chapter from the top."""
    shots = book.default_root() / "_build" / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    chapters = set(chapter_pages())
    context = browser.new_context(**context_args)
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
        current[-1].requested.append(request.url)
        if not request.url.startswith((site, "data:", "blob:", "about:")):
            current[-1].remote.append(request.url)

    page.on("console", on_console)
    page.on("pageerror", on_pageerror)
    page.on("response", on_response)
    page.on("request", on_request)
    result: dict[str, Visit] = {}
    try:
        for rel in book_pages(html):
            visit = Visit(rel)
            current.append(visit)
            visit.has_widget_state = WIDGET_MARKER in (html / rel).read_text("utf-8")
            page.goto(site + rel, wait_until="networkidle")
            with contextlib.suppress(PlaywrightTimeout):  # the figure test reports it
                page.wait_for_function(ALL_DRAWN, timeout=30_000)
            if visit.has_widget_state:
                # The widget manager is fetched when a dashboard nears the screen.
                visit.fetched_before_scroll = list(visit.requested)
                visit.first_notice_top = page.evaluate(FIRST_NOTICE_TOP)
                with contextlib.suppress(PlaywrightTimeout):  # the widget test reports it
                    page.locator(".idn-static-widget").first.scroll_into_view_if_needed()
                    page.wait_for_function(WIDGETS_DRAWN, timeout=30_000)
            visit.figures = page.evaluate(FIGURE_STATE)
            visit.widgets = page.locator(".jupyter-widgets").count()
            visit.widget_notices = page.evaluate(WIDGET_NOTICES)
            visit.layout = page.evaluate(PAGE_LAYOUT)
            if visit.figures:
                visit.trace_types = page.evaluate(TRACE_TYPES)
            if rel in chapters:
                page.evaluate("window.scrollTo(0, 0)")
                page.wait_for_timeout(200)
                name = rel.removesuffix(".html").replace("/", "__") + suffix + ".png"
                visit.screenshot = shots / name
                page.screenshot(path=str(visit.screenshot))
            result[rel] = visit
    finally:
        context.close()
    return result


@pytest.fixture(scope="module")
def visits(browser: Any, site: str, quick_book: Path) -> dict[str, Visit]:
    """Every page on a laptop-sized screen."""
    shutil.rmtree(book.default_root() / "_build" / "screenshots", ignore_errors=True)
    return visit_every_page(browser, site, quick_book, {"viewport": VIEWPORT}, "")


@pytest.fixture(scope="module")
def phone_visits(browser: Any, site: str, quick_book: Path) -> dict[str, Visit]:
    """Every page on a phone (390x844, mobile viewport, touch)."""
    return visit_every_page(browser, site, quick_book, PHONE, "__phone")


def test_every_page_was_visited(visits: dict[str, Visit]) -> None:
    missing = [rel for rel in chapter_pages() if rel not in visits]
    assert not missing, f"toc pages not built: {missing}"
    assert "search.html" in visits and "genindex.html" in visits


def test_no_console_errors(visits: dict[str, Visit]) -> None:
    bad = {rel: v.errors for rel, v in visits.items() if v.errors}
    assert not bad, f"console errors: {bad}"


def test_every_trace_type_is_in_the_partial_plotly_bundle(visits: dict[str, Visit]) -> None:
    pages = {rel: v.trace_types for rel, v in visits.items() if v.figures}
    assert pages, "no page with a figure"
    bad = {rel: sorted(set(t["used"]) - set(t["known"])) for rel, t in pages.items()}
    bad = {rel: types for rel, types in bad.items() if types}
    assert not bad, f"trace types missing from the plotly bundle (vendor a larger one): {bad}"


def test_every_saved_widget_has_a_notice_right_above_it(visits: dict[str, Visit]) -> None:
    pages = {rel: v.widget_notices for rel, v in visits.items() if v.has_widget_state}
    assert pages, "no page with a saved widget"
    for rel, views in pages.items():
        assert views, f"{rel}: widget state but no widget view"
        for view in views:
            assert view["drawn"], f"{rel}: a saved widget view was not drawn"
            assert view["notice"] and view["above"], f"{rel}: no visible notice above {view}"
            assert "changes nothing" in view["text"], view["text"]


def test_the_widget_manager_waits_until_a_dashboard_nears_the_screen(
    visits: dict[str, Visit],
) -> None:
    far = {
        rel: v
        for rel, v in visits.items()
        if v.has_widget_state and v.first_notice_top > 2.5 * VIEWPORT["height"]
    }
    assert far, "no page whose dashboard starts below the first screens"
    early = {
        rel: [u for u in v.fetched_before_scroll if "embed-amd.js" in u or "require.js" in u]
        for rel, v in far.items()
    }
    early = {rel: urls for rel, urls in early.items() if urls}
    assert not early, f"widget manager fetched before a dashboard came near: {early}"
    assert all(v.widgets for v in far.values()), "a dashboard was not drawn after scrolling"


def test_no_page_scrolls_sideways_on_a_phone(phone_visits: dict[str, Visit]) -> None:
    wide = {
        rel: f"{v.layout['scrollWidth']} px wide in {v.layout['clientWidth']} px"
        for rel, v in phone_visits.items()
        if v.layout["scrollWidth"] > v.layout["clientWidth"]
    }
    assert not wide, f"pages that scroll sideways at 390 px: {wide}"


def test_phone_pages_draw_and_log_no_error(phone_visits: dict[str, Visit]) -> None:
    bad = {rel: v.errors for rel, v in phone_visits.items() if v.errors}
    assert not bad, f"console errors at 390 px: {bad}"
    undrawn = [
        (rel, f["index"])
        for rel, v in phone_visits.items()
        for f in v.figures
        if not (f["drawn"] and f["traces"] and f["marks"])
    ]
    assert not undrawn, f"figures not drawn at 390 px: {undrawn}"
    assert all(v.widgets for v in phone_visits.values() if v.has_widget_state)


def test_legends_are_below_the_plots_on_a_phone(
    phone_visits: dict[str, Visit], visits: dict[str, Visit]
) -> None:
    legends = [(rel, lg) for rel, v in phone_visits.items() for lg in v.layout["legends"]]
    assert legends, "no figure with a legend"
    side = [(rel, lg["id"]) for rel, lg in legends if lg["orientation"] != "h"]
    assert not side, f"side legends at 390 px: {side}"
    wide = [lg["orientation"] for v in visits.values() for lg in v.layout["legends"]]
    assert "v" in wide, "no side legend on a laptop screen: the phone check proves nothing"


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


def draw_dashboards(page: Any) -> None:
    """Bring the page's saved dashboards near the screen and wait until they are drawn, so
    that the widget manager (fetched on demand) does not run in the middle of a gesture."""
    notices = page.locator(".idn-static-widget")
    if notices.count():
        notices.first.scroll_into_view_if_needed()
        page.wait_for_function(WIDGETS_DRAWN, timeout=30_000)


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
                draw_dashboards(page)
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
        draw_dashboards(page)
        gd = page.locator(".plotly-graph-div").first
        gd.scroll_into_view_if_needed()
        plotted = f"() => ({PLOTTED})(document.querySelector('.plotly-graph-div'))"
        before = page.evaluate(plotted)
        buttons = gd.locator(".updatemenu-button")
        assert buttons.count() >= 2, "no latency buttons"
        buttons.nth(buttons.count() - 1).click()
        page.wait_for_function(f"p => ({plotted})() !== p", arg=before, timeout=10_000)
    finally:
        context.close()


def test_the_notebook_archive_downloads_from_the_introduction(
    browser: Any, site: str, tmp_path: Path
) -> None:
    import zipfile

    import nbformat

    context = browser.new_context(viewport=VIEWPORT, accept_downloads=True)
    page = context.new_page()
    try:
        page.goto(site + "book/intro.html", wait_until="networkidle")
        link = page.locator('a.idn-download[href$="idn-book-notebooks.zip"]')
        assert link.count() == 1, "no archive link in the introduction"
        with page.expect_download(timeout=30_000) as info:
            link.click()
        saved = tmp_path / info.value.suggested_filename
        info.value.save_as(saved)
    finally:
        context.close()
    assert saved.name == "idn-book-notebooks.zip"
    with zipfile.ZipFile(saved) as archive:
        assert archive.testzip() is None
        names = set(archive.namelist())
        assert "idn-book/notebooks/profiles.yaml" in names
        for nb in book.toc_notebooks():
            member = f"idn-book/notebooks/{nb.stem}.ipynb"
            assert member in names, member
            cells = nbformat.reads(archive.read(member).decode(), as_version=4).cells
            assert not [c for c in cells if c.get("outputs")], f"{member} has outputs"


def test_the_notice_at_a_widget_opens_the_run_box(browser: Any, site: str) -> None:
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    try:
        page.goto(site + PLAYGROUND, wait_until="networkidle")
        draw_dashboards(page)
        box = page.locator("#run-this-chapter-07-playground")
        page.wait_for_function(
            "() => document.querySelector('#run-this-chapter-07-playground.toggle-hidden')",
            timeout=10_000,
        )
        page.locator(".idn-static-widget a").first.click()
        page.wait_for_function(
            "() => !document.querySelector('#run-this-chapter-07-playground.toggle-hidden')",
            timeout=5_000,
        )
        assert "jupyter lab idn-book/notebooks/07_playground.ipynb" in box.inner_text()
    finally:
        context.close()
