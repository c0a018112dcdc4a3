"""Build the book (quick profile) from the executed notebooks and check the pages."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from browser_support import BROWSER_ARGS, require_chromium

from idn_core import book

pytestmark = pytest.mark.slow

PLOTLY_BUNDLE = "_static/vendor/plotly-cartesian.min.js"
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
            assert len(plotly) == 1 and PLOTLY_BUNDLE in plotly[0], page.name
            assert text.index(PLOTLY_BUNDLE) < text.index("Plotly.newPlot")
        else:
            assert not plotly, f"{page.name} loads plotly.js without a figure"
    assert with_figure >= 1, "no page has a plotly figure"


def test_offline_assets_are_served_by_the_book(html: Path) -> None:
    vendor = html / "_static" / "vendor"
    for rel in (
        "plotly-cartesian.min.js",
        "require.js",
        "widgets/embed-amd.js",
        "mathjax/tex-mml-chtml.js",
    ):
        assert (vendor / rel).is_file(), rel
    assert (html / "_static" / "favicon.svg").is_file()


def test_the_plotly_bundle_is_the_version_the_plotly_package_writes_for(html: Path) -> None:
    import plotly.offline

    banner = (html / PLOTLY_BUNDLE).read_text(encoding="utf-8")[:200]
    version = plotly.offline.get_plotlyjs_version()
    assert re.search(r"plotly\.js \(cartesian - minified\) v" + re.escape(version), banner), banner


def test_no_page_loads_the_themes_fontawesome_js(html: Path) -> None:
    for page in pages(html):
        assert "fontawesome.js" not in page.read_text(encoding="utf-8"), page.name


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
    for name in ("pyproject.toml", "README.md", "requirements.txt"):
        shutil.copy(repo / name, root)
    (root / "idn_core").symlink_to(repo / "idn_core", target_is_directory=True)
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
    for name in ("_static/idn_widgets.js", "vendor/mathjax/"):
        assert any(name in src for src in sources), name
    for name in ("vendor/require.js", "embed-amd.js"):  # fetched by idn_widgets.js on demand
        assert not any(name in src for src in sources), name
    assert not [src for src in sources if "://" in src or src.startswith("//")]
    assert text.index("var require = {paths") < text.index("idn_widgets.js")
    loader = (widget_book / "_static" / "idn_widgets.js").read_text(encoding="utf-8")
    assert '["vendor/require.js", "vendor/widgets/embed-amd.js"]' in loader


def test_only_pages_with_saved_widgets_load_the_widget_loader(html: Path) -> None:
    with_widgets = 0
    for page in pages(html):
        text = page.read_text(encoding="utf-8")
        sources = " ".join(SCRIPT_SRC.findall(text))
        has_state = "application/vnd.jupyter.widget-state+json" in text
        with_widgets += has_state
        assert ("idn_widgets.js" in sources) == has_state, page.name
        assert "embed-amd.js" not in sources and "require.js" not in sources, page.name
    assert with_widgets, "no page with saved widgets"


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


def test_every_notebook_page_has_its_download_button_and_no_dead_button(html: Path) -> None:
    """With ``repository.url`` empty (no public home yet), no repository, Binder or Colab
    button may point at a placeholder; the page's own notebook download stays."""
    config = yaml.safe_load((book.default_root() / "_config.yml").read_text("utf-8"))
    assert not config["repository"]["url"], "a repository URL is set: test its buttons instead"
    for stem, text in notebook_pages(html).items():
        source = re.search(r'href="([^"]*_sources/[^"]*' + stem + r'\.ipynb)"', text)
        assert source, f"{stem}: no notebook download button"
        assert (html / "_sources" / "notebooks" / f"{stem}.ipynb").is_file(), stem
        for dead in ("mybinder.org", "colab.research.google.com", "github.com/idn-book"):
            assert dead not in text, f"{stem}: a button points at {dead}"
        assert "fa-github" not in text, f"{stem}: a repository button"


DOWNLOAD_HREF = re.compile(r'<a class="idn-download" href="([^"]+)"')


def test_the_introduction_and_every_chapter_link_the_wheel_and_the_notebooks(html: Path) -> None:
    wheels = sorted((html / "downloads").glob("idn_core-*-py3-none-any.whl"))
    assert len(wheels) == 1, wheels
    expected = {wheels[0].name, "idn-book-notebooks.zip"}
    texts = {"intro": (html / "book" / "intro.html").read_text("utf-8"), **notebook_pages(html)}
    for name, text in texts.items():
        hrefs = DOWNLOAD_HREF.findall(text)
        assert {Path(h).name for h in hrefs} == expected, f"{name}: {hrefs}"
        folder = html / "book" if name == "intro" else html / "notebooks"
        for href in hrefs:
            assert (folder / href).resolve().is_file(), f"{name}: {href} leads nowhere"
        if name != "intro":
            assert f"jupyter lab idn-book/notebooks/{name}.ipynb" in re.sub(r"<[^>]+>", "", text)


def test_footer_copyright_is_2026(html: Path) -> None:
    assert "Copyright 2026" in (html / "book" / "intro.html").read_text(encoding="utf-8")


def test_chapter_one_numbers_its_figures_and_refers_to_them(html: Path) -> None:
    text = (html / "notebooks" / "01_anatomy.html").read_text(encoding="utf-8")
    captions = re.findall(r'class="caption-number">Fig\. (\d+)', text)
    assert captions and captions == [str(i) for i in range(1, len(captions) + 1)], captions
    assert re.search(r'std-numref">Fig\. \d+', text), "no figure is referred to from the prose"


# --- a reader runs a chapter from the downloads ------------------------------------------

READER_CHAPTER = "01_anatomy"  # the cheapest chapter with the quick profile


def reader_env(venv: Path) -> dict[str, str]:
    """The environment of a reader's shell: the fresh venv first, no repository on the path."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "IDN_BOOK_BUILD")}
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    env["VIRTUAL_ENV"] = str(venv)
    return env


def fresh_venv(path: Path) -> Path:
    """A new virtual environment that sees the book's installed packages but not idn_core.

    Nothing is downloaded: the third-party packages (torch, papermill, myst-nb...) come from
    this environment's site-packages through a ``.pth`` line, which adds that folder to
    ``sys.path`` without running its own ``.pth`` files (so the repository's editable
    idn_core install is not seen); idn_core itself must come from the wheel.
    """
    import sysconfig

    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(path)], check=True)
    python = path / "bin" / "python"
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True, capture_output=True, text=True,
    ).stdout.strip()  # fmt: skip
    Path(site, "book_env.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return python


def test_the_downloaded_wheel_and_notebooks_run_a_chapter(html: Path, tmp_path: Path) -> None:
    import zipfile

    import nbformat

    (wheel,) = (html / "downloads").glob("idn_core-*.whl")
    work = tmp_path / "reader"
    work.mkdir()
    shutil.copy(wheel, work)
    shutil.copy(html / "downloads" / "idn-book-notebooks.zip", work)
    python = fresh_venv(tmp_path / "venv")
    env = reader_env(tmp_path / "venv")

    def run(*args: str) -> str:
        proc = subprocess.run(args, cwd=work, env=env, capture_output=True, text=True)
        assert proc.returncode == 0, (
            f"{' '.join(args)}:\n{proc.stdout[-3000:]}{proc.stderr[-3000:]}"
        )
        return proc.stdout

    before = run(str(python), "-c", "import importlib.util as u; print(u.find_spec('idn_core'))")
    assert before.strip() == "None", f"idn_core visible before installing the wheel: {before}"
    run(str(python), "-m", "pip", "install", "--no-index", "--no-deps", "--quiet", wheel.name)
    where = run(str(python), "-c", "import idn_core; print(idn_core.__file__)").strip()
    assert where.startswith(str(tmp_path / "venv")), f"idn_core imported from {where}"
    with zipfile.ZipFile(work / "idn-book-notebooks.zip") as archive:
        archive.extractall(work)
    chapters = work / "idn-book" / "notebooks"
    quick = yaml.safe_load((chapters / "profiles.yaml").read_text())["quick"][READER_CHAPTER]
    run(str(python), "-m", "ipykernel", "install", "--sys-prefix", "--name", "reader")
    out = work / "out.ipynb"
    run(
        str(python), "-m", "papermill", str(chapters / f"{READER_CHAPTER}.ipynb"), str(out),
        "-k", "reader", "-y", json.dumps(quick), "--cwd", str(chapters),
    )  # fmt: skip
    # "reader" exists only in the venv (papermill fails on an unknown kernel): its python ran.
    spec = json.loads((tmp_path / "venv/share/jupyter/kernels/reader/kernel.json").read_text())
    assert Path(spec["argv"][0]).parent == python.parent, spec["argv"]
    nb = nbformat.read(out, as_version=4)
    assert not nb.metadata["papermill"]["exception"]
    errors = [o for c in nb.cells for o in c.get("outputs", []) if o.output_type == "error"]
    assert not errors, errors
    glued = [o for c in nb.cells for o in c.get("outputs", []) if "scrapbook" in o.metadata]
    assert glued, "the chapter glued no value"
