"""Build the book (quick profile) from the executed notebooks and check the pages."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
import yaml
from browser_support import BROWSER_ARGS, require_chromium

from idn_core import book

pytestmark = pytest.mark.slow

SCRIPT_SRC = re.compile(r"<script\b[^>]*\bsrc=\"([^\"]+)\"", re.IGNORECASE)
DRAWN = """() => {
  const divs = [...document.querySelectorAll('.plotly-graph-div')];
  return divs.length > 0 && divs.every(gd => gd._fullLayout && gd.querySelector('.main-svg'));
}"""


@pytest.fixture(scope="module")
def html(quick_book: Path) -> Path:
    """The book's HTML folder (quick profile); the build fails on any Sphinx warning."""
    return quick_book


def pages(html: Path) -> list[Path]:
    return sorted(p for p in html.rglob("*.html") if "_static" not in p.parts)


def test_a_page_for_every_toc_entry(html: Path) -> None:
    root = book.default_root()
    toc = yaml.safe_load((root / "_toc.yml").read_text(encoding="utf-8"))
    for entry in book.toc_files(toc):
        page = html / (entry.removesuffix(".ipynb").removesuffix(".md") + ".html")
        assert page.is_file(), f"no page for toc entry {entry}"


def test_no_script_from_a_cdn_or_the_network(html: Path) -> None:
    for page in pages(html):
        for src in SCRIPT_SRC.findall(page.read_text(encoding="utf-8")):
            assert "://" not in src and not src.startswith("//"), f"{page.name} loads {src}"
            assert "cdn." not in src, f"{page.name} loads {src}"


def test_plotly_js_at_most_once_and_only_where_a_figure_is(html: Path) -> None:
    with_figure = 0
    for page in pages(html):
        text = page.read_text(encoding="utf-8")
        plotly = [s for s in SCRIPT_SRC.findall(text) if "plotly" in s.lower()]
        assert len(plotly) <= 1, f"{page.name} loads plotly.js {len(plotly)} times"
        assert "cdn.plot.ly" not in text and "application/vnd.plotly.v1+json" not in text
        if "Plotly.newPlot" in text:
            with_figure += 1
            assert len(plotly) == 1 and "_static/vendor/plotly.min.js" in plotly[0], page.name
            assert text.index("plotly.min.js") < text.index("Plotly.newPlot")
        else:
            assert not plotly, f"{page.name} loads plotly.js without a figure"
    assert with_figure >= 1, "no page has a plotly figure"


def test_offline_assets_are_served_by_the_book(html: Path) -> None:
    vendor = html / "_static" / "vendor"
    for rel in ("plotly.min.js", "require.js", "widgets/embed-amd.js", "mathjax/tex-mml-chtml.js"):
        assert (vendor / rel).is_file(), rel
    assert (html / "_static" / "favicon.svg").is_file()


def test_execution_stats_page_lists_every_notebook(html: Path) -> None:
    text = (html / "book" / "execution_stats.html").read_text(encoding="utf-8")
    assert "quick" in text
    for nb in book.toc_notebooks():
        assert nb.stem in text


WIDGET_NOTEBOOK_CELLS = [
    (
        "markdown",
        "# Widgets and maths\n\nInline $a^2$ and\n\n$$\\sum_i x_i$$\n\nSee {numref}`fig-glued`.",
    ),
    (
        "code",
        "import ipywidgets as w\nfrom IPython.display import display\n\ndisplay(w.IntSlider(3))",
    ),
    (
        "code",
        "import plotly.graph_objects as go\n\nfrom idn_core.views.display import glue_figure\n\n"
        "glue_figure('glued', go.Figure(go.Bar(x=[1, 2], y=[3, 1])))",
    ),
    ("markdown", "```{glue:figure} glued\n:name: fig-glued\n\nA glued figure.\n```"),
]


@pytest.fixture(scope="module")
def widget_book(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A scratch book with the real configuration and one page of widgets, maths and a glue."""
    import nbformat

    repo = book.default_root()
    root = tmp_path_factory.mktemp("widget-book")
    shutil.copy(repo / "_config.yml", root)
    shutil.copytree(repo / "book", root / "book", ignore=shutil.ignore_patterns("__pycache__"))
    (root / ".cache").mkdir()
    (root / ".cache" / "vendor").symlink_to(repo / ".cache" / "vendor")
    (root / "_toc.yml").write_text(
        "format: jb-book\nroot: book/intro\nchapters:\n  - file: notebooks/widgets\n"
        "  - file: book/execution_stats\n  - file: book/bibliography\n"
    )
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    make = {"markdown": nbformat.v4.new_markdown_cell, "code": nbformat.v4.new_code_cell}
    nb.cells = [make[kind](source) for kind, source in WIDGET_NOTEBOOK_CELLS]
    (root / "notebooks").mkdir()
    nbformat.write(nb, root / "notebooks" / "widgets.ipynb")
    return book.build_book("full", root=root)


def test_widget_page_uses_local_assets(widget_book: Path) -> None:
    text = (widget_book / "notebooks" / "widgets.html").read_text(encoding="utf-8")
    sources = SCRIPT_SRC.findall(text)
    for name in ("vendor/require.js", "vendor/widgets/embed-amd.js", "vendor/mathjax/"):
        assert any(name in src for src in sources), name
    assert not [src for src in sources if "://" in src or src.startswith("//")]
    assert text.index("var require = {paths") < text.index("vendor/require.js")


def test_widgets_maths_and_glued_figure_render_offline(widget_book: Path) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=require_chromium(), args=BROWSER_ARGS)
        try:
            page = browser.new_page()
            failed: list[str] = []
            errors: list[str] = []
            page.on("requestfailed", lambda request: failed.append(request.url))
            page.on("request", lambda r: failed.append(r.url) if r.url.startswith("http") else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto((widget_book / "notebooks" / "widgets.html").as_uri())
            page.wait_for_function(DRAWN, timeout=30_000)
            page.wait_for_selector(".widget-slider", timeout=30_000)
            page.wait_for_selector("mjx-container", timeout=30_000)
            page.wait_for_load_state("load")
            assert not failed, failed
            assert not [e for e in errors if "THEBE_JS_URL" not in e], errors
        finally:
            browser.close()


# --- book features ---------------------------------------------------------------------


def notebook_pages(html: Path) -> dict[str, str]:
    """Text of each notebook chapter's page, by notebook stem."""
    return {
        nb.stem: (html / nb.rel.removesuffix(".ipynb")).with_suffix(".html").read_text("utf-8")
        for nb in book.toc_notebooks()
    }


def test_execution_stats_give_each_papermill_run_time_and_profile(html: Path) -> None:
    text = (html / "book" / "execution_stats.html").read_text(encoding="utf-8")
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", text, flags=re.S)
    cells = [re.findall(r"<td[^>]*>(.*?)</td>", row, flags=re.S) for row in rows]
    cells = [[re.sub(r"<[^>]+>", "", c).strip() for c in row] for row in cells if row]
    by_stem = {re.search(r"\((\w+)\)", row[0]).group(1): row for row in cells}
    for nb in book.toc_notebooks():
        row = by_stem[nb.stem]
        assert row[1] == "quick", row
        assert float(row[2]) > 0, f"{nb.stem}: no papermill run time in {row}"


def test_bibliography_lists_the_cited_works(html: Path) -> None:
    text = (html / "book" / "bibliography.html").read_text(encoding="utf-8")
    assert 'class="citation"' in text and "Salem" in text, "no entry in the bibliography"
    intro = (html / "book" / "intro.html").read_text(encoding="utf-8")
    assert "bibliography.html#" in intro, "citations in the introduction do not link the list"


def test_every_notebook_page_has_download_and_launch_buttons(html: Path) -> None:
    config = yaml.safe_load((book.default_root() / "_config.yml").read_text("utf-8"))
    binder = config["launch_buttons"]["binderhub_url"].rstrip("/")
    colab = config["launch_buttons"]["colab_url"].rstrip("/")
    for stem, text in notebook_pages(html).items():
        source = re.search(r'href="([^"]*_sources/[^"]*' + stem + r'\.ipynb)"', text)
        assert source, f"{stem}: no notebook download button"
        assert (html / "_sources" / "notebooks" / f"{stem}.ipynb").is_file(), stem
        assert f'href="{binder}/v2/' in text, f"{stem}: no Binder launch button"
        assert f'href="{colab}/github/' in text, f"{stem}: no Colab launch button"


def test_footer_copyright_is_2026(html: Path) -> None:
    assert "Copyright 2026" in (html / "book" / "intro.html").read_text(encoding="utf-8")


def test_chapter_one_numbers_its_figures_and_refers_to_them(html: Path) -> None:
    text = (html / "notebooks" / "01_anatomy.html").read_text(encoding="utf-8")
    captions = re.findall(r'class="caption-number">Fig\. (\d+)', text)
    assert captions and captions == [str(i) for i in range(1, len(captions) + 1)], captions
    assert re.search(r'std-numref">Fig\. \d+', text), "no figure is referred to from the prose"
