"""Benchmark of the book build: build times, page weight and plotly.js copies per page.

Builds the book in a scratch copy of the repository (so the repository's own ``_build`` is
left alone), through the same command as ``make book``:

1. ``quick_build_s``: a quick-profile build from an empty ``_build`` (every notebook is
   executed by papermill, then Sphinx renders the book); the trained models come from the
   shared disk cache (``.cache/idn_core``), as on any machine that built the book once;
2. ``rebuild_unchanged_s``: the same build again with nothing changed (no notebook is
   re-executed; the baseline it is compared with is the cold build of step 1);
3. ``full_build_s``: a full-profile build from an empty ``_build`` (skipped with ``--quick``);
4. ``max_page_mb``: the largest HTML page (figure data are inlined in the page), and
   ``plotly_js_copies_max``: the most copies of plotly.js one page loads or embeds, over
   every page of every build. The baseline printed beside them is what plotly's offline
   ``notebook`` renderer would give: one embedded 4.8 MB plotly.js per figure;
5. ``max_page_transfer_mb``: what a reader's browser downloads to show one page, cold (empty
   cache): Debian's Chromium loads every page of the quick build from a local HTTP server
   (no compression, as from ``file://``), waits until its figures are drawn, and the bytes
   of every file it fetched are added up; the largest page is reported (and the pages of
   the full build too, unless ``--quick``). ``max_page_transfer_scrolled_mb`` adds what
   scrolling to every saved dashboard fetches (the widget manager, loaded on demand).

Run: ``.venv/bin/python benchmarks/book.py [--quick] [--exclude STEM ...]``, or
``benchmarks/book.py --html _build/html`` to measure an existing build's pages only (no
build, build times null). The last line printed is one JSON object. Targets: quick <= 180 s,
full <= 900 s, unchanged rebuild <= 60 s, page <= 5 MB, plotly.js copies <= 1, page
transfer <= 8 MB.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path

from measure import reference

REPO = Path(__file__).resolve().parents[1]
IGNORE = shutil.ignore_patterns(
    ".venv", "_build", ".cache", ".git", "__pycache__", ".pytest_cache", ".ruff_cache",
    ".hypothesis", "*.failed.ipynb",
)  # fmt: skip
SCRIPT_SRC = re.compile(r"<script\b[^>]*\bsrc=\"([^\"]+)\"", re.IGNORECASE)
# Each embedded plotly.js bundle starts with its licence banner.
EMBEDDED_PLOTLY = re.compile(r"\*\s*plotly\.js v\d")
FIGURE = "Plotly.newPlot"


def scratch_copy(workdir: Path, exclude: tuple[str, ...] = ()) -> Path:
    """Copy the repository's sources into ``workdir``; share the caches (models, vendor).

    ``exclude`` names notebook stems dropped from the copy's ``_toc.yml`` and profiles
    (to measure the book while a chapter under construction does not build).
    """
    import yaml

    root = workdir / "book"
    shutil.copytree(REPO, root, ignore=IGNORE, symlinks=True)
    (root / ".cache").symlink_to(REPO / ".cache", target_is_directory=True)
    if exclude:
        toc = root / "_toc.yml"
        lines = toc.read_text(encoding="utf-8").splitlines(keepends=True)
        toc.write_text("".join(ln for ln in lines if not any(s in ln for s in exclude)))
        profiles = root / "notebooks" / "profiles.yaml"
        data = yaml.safe_load(profiles.read_text(encoding="utf-8"))
        for params in data.values():
            for stem in exclude:
                params.pop(stem, None)
        profiles.write_text(yaml.safe_dump(data), encoding="utf-8")
    return root


def build(root: Path, profile: str) -> float:
    """Run ``python -m idn_core.book build --profile P`` in ``root``; return seconds."""
    # The notebooks' kernels import the copy's idn_core (not the repository's editable one),
    # so a library change made meanwhile in the repository cannot leak into the build.
    path = os.pathsep.join(filter(None, [str(root), os.environ.get("PYTHONPATH")]))
    env = {**os.environ, "IDN_BOOK_ROOT": str(root), "PYTHONPATH": path}
    cmd = [sys.executable, "-m", "idn_core.book", "build", "--profile", profile]
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=root, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        sys.stdout.write(proc.stdout[-5000:] + proc.stderr[-5000:])
        raise SystemExit(f"{profile} build failed ({proc.returncode}) after {seconds:.1f} s")
    executed = proc.stdout.count(": executed (")
    print(f"  {profile} build: {seconds:.1f} s, {executed} notebook(s) executed", flush=True)
    return seconds


def page_stats(html: Path) -> list[dict]:
    """Size, figures and plotly.js copies (loaded or embedded) of every page."""
    import plotly

    full_bundle = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
    plotly_js_mb = full_bundle.stat().st_size / 1e6
    rows = []
    for page in sorted(html.rglob("*.html")):
        if "_static" in page.parts:
            continue
        text = page.read_text(encoding="utf-8")
        loaded = [s for s in SCRIPT_SRC.findall(text) if "plotly" in s.lower()]
        figures = text.count(FIGURE)
        mb = page.stat().st_size / 1e6
        rows.append(
            {
                "page": page.relative_to(html).as_posix(),
                "mb": mb,
                "figures": figures,
                "plotly_js_copies": len(loaded) + len(EMBEDDED_PLOTLY.findall(text)),
                "baseline_mb": mb + figures * plotly_js_mb,
            }
        )
    return rows


def page_transfer(html: Path) -> tuple[dict[str, float], dict[str, float]]:
    """MB fetched by a cold Chromium to show each page of ``html``: once loaded (figures
    drawn), and after scrolling to every saved dashboard (whose widget manager is fetched
    only when one nears the screen) until its widgets are drawn."""
    support = reference("browser_support")
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    from playwright.sync_api import sync_playwright

    pages = sorted(p.relative_to(html).as_posix() for p in html.rglob("*.html")
                   if not {"_static", "_sources"} & set(p.relative_to(html).parts))  # fmt: skip
    loaded: dict[str, float] = {}
    scrolled: dict[str, float] = {}
    with support.serve(html) as site, sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=support.require_chromium(), args=support.BROWSER_ARGS
        )
        try:
            for rel in pages:
                context = browser.new_context(viewport={"width": 1280, "height": 900})
                page = context.new_page()
                fetched: set[str] = set()
                page.on("requestfinished", lambda r, seen=fetched: seen.add(r.url))
                page.goto(site + rel, wait_until="networkidle")
                try:
                    page.wait_for_function(support.ALL_DRAWN, timeout=90_000)
                except PlaywrightTimeout:
                    print(f"  {rel}: figures not drawn within 90 s", flush=True)
                page.wait_for_timeout(2_000)  # lets the last responses' events arrive
                loaded[rel] = sum(served_bytes(html, site, url) for url in fetched) / 1e6
                notices = page.locator(".idn-static-widget")
                for i in range(notices.count()):
                    notices.nth(i).scroll_into_view_if_needed()
                try:
                    if notices.count():
                        page.wait_for_function(support.WIDGETS_DRAWN, timeout=90_000)
                except PlaywrightTimeout:
                    print(f"  {rel}: saved widgets not drawn within 90 s", flush=True)
                page.wait_for_timeout(2_000)  # lets the last responses' events arrive
                scrolled[rel] = sum(served_bytes(html, site, url) for url in fetched) / 1e6
                context.close()
        finally:
            browser.close()
    return loaded, scrolled


def served_bytes(html: Path, site: str, url: str) -> int:
    """Size of the file behind ``url`` (served from ``html``); 0 for anything else."""
    if not url.startswith(site):
        return 0
    rel = urllib.parse.unquote(urllib.parse.urlsplit(url).path).lstrip("/")
    path = html / rel
    if path.is_dir():
        path = path / "index.html"
    return path.stat().st_size if path.is_file() else 0


def report_transfer(name: str, loaded: dict[str, float], scrolled: dict[str, float]) -> None:
    print(f"  {name}: cold transfer per page (MB), loaded / scrolled to every dashboard")
    for rel, mb in sorted(loaded.items(), key=lambda item: -item[1]):
        print(f"    {rel:<40} {mb:6.2f} / {scrolled[rel]:6.2f}")


def report(name: str, rows: list[dict]) -> None:
    print(f"  {name}: {len(rows)} pages")
    for r in sorted(rows, key=lambda r: -r["mb"])[:6]:
        print(
            f"    {r['page']:<40} {r['mb']:6.2f} MB  {r['figures']:3d} figures  "
            f"plotly.js x{r['plotly_js_copies']}  (notebook renderer: {r['baseline_mb']:.1f} MB,"
            f" x{r['figures']})"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="skip the full-profile build")
    parser.add_argument("--exclude", nargs="*", default=[], help="notebook stems left out")
    parser.add_argument("--html", type=Path, help="measure the pages of this built book only")
    args = parser.parse_args()
    if args.html:
        measure_only(args.html.resolve())
        return
    final: dict[str, float | int | None | bool | str | list] = {}
    transfer: dict[str, float] = {}
    transfer_scrolled: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="idn-book-bench-") as tmp:
        root = scratch_copy(Path(tmp), tuple(args.exclude))
        print(f"scratch copy: {root}", flush=True)
        final["quick_build_s"] = round(build(root, "quick"), 1)
        final["rebuild_unchanged_s"] = round(build(root, "quick"), 1)
        rows = page_stats(root / "_build" / "html")
        report("quick", rows)
        loaded, scrolled = page_transfer(root / "_build" / "html")
        report_transfer("quick", loaded, scrolled)
        transfer = {f"quick/{k}": v for k, v in loaded.items()}
        transfer_scrolled = {f"quick/{k}": v for k, v in scrolled.items()}
        if not args.quick:
            shutil.rmtree(root / "_build")
            final["full_build_s"] = round(build(root, "full"), 1)
            full_rows = page_stats(root / "_build" / "html")
            report("full", full_rows)
            rows += full_rows
            loaded, scrolled = page_transfer(root / "_build" / "html")
            report_transfer("full", loaded, scrolled)
            transfer |= {f"full/{k}": v for k, v in loaded.items()}
            transfer_scrolled |= {f"full/{k}": v for k, v in scrolled.items()}
        else:
            final["full_build_s"] = None
    final["max_page_mb"] = round(max(r["mb"] for r in rows), 3)
    final["plotly_js_copies_max"] = max(r["plotly_js_copies"] for r in rows)
    final["baseline_max_page_mb"] = round(max(r["baseline_mb"] for r in rows), 1)
    final["baseline_plotly_js_copies_max"] = max(r["figures"] for r in rows)
    final["max_page_transfer_mb"] = round(max(transfer.values()), 2)
    final["max_page_transfer_page"] = max(transfer, key=transfer.__getitem__)
    final["max_page_transfer_scrolled_mb"] = round(max(transfer_scrolled.values()), 2)
    final["pages"] = len(rows)
    final["quick_only"] = args.quick
    final["excluded"] = args.exclude
    final["targets_met"] = targets_met(final)
    print(json.dumps(final))


TARGETS = {"quick_build_s": 180, "full_build_s": 900, "rebuild_unchanged_s": 60,
           "max_page_mb": 5, "plotly_js_copies_max": 1, "max_page_transfer_mb": 8}  # fmt: skip


def targets_met(final: dict) -> bool:
    """True when every measured figure of ``final`` is within its target (None: not measured)."""
    return all(final.get(k) is None or final[k] <= limit for k, limit in TARGETS.items())


def measure_only(html: Path) -> None:
    """Page figures of an existing build (``--html``): sizes, plotly.js copies, transfer."""
    rows = page_stats(html)
    report(str(html), rows)
    transfer, scrolled = page_transfer(html)
    report_transfer(str(html), transfer, scrolled)
    final = {
        "quick_build_s": None, "rebuild_unchanged_s": None, "full_build_s": None,
        "max_page_mb": round(max(r["mb"] for r in rows), 3),
        "plotly_js_copies_max": max(r["plotly_js_copies"] for r in rows),
        "max_page_transfer_mb": round(max(transfer.values()), 2),
        "max_page_transfer_page": max(transfer, key=transfer.__getitem__),
        "max_page_transfer_scrolled_mb": round(max(scrolled.values()), 2),
        "pages": len(rows), "html": str(html),
    }  # fmt: skip
    final["targets_met"] = targets_met(final)
    print(json.dumps(final))


if __name__ == "__main__":
    main()
