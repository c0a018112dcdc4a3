"""Static checks of the book's pages: notation, chapter numbers, end sections, captions, words.

Nothing here executes a notebook: each test reads ``_toc.yml``, ``book/notation.md`` and
the stored notebooks (sources only), so the conventions of issue 16 cannot quietly return.
"""

from __future__ import annotations

import ast
import inspect
import json
import re
from pathlib import Path

import pytest

from idn_core.book.toc import toc_files, toc_notebooks
from idn_core.book.yamlfile import read_yaml
from idn_core.ensembles import train_bagged, train_boosted
from idn_core.federated import reach_weights
from idn_core.network import TIER_DEFAULTS, UPLINK_LATENCY_MS
from idn_core.placement import Infida, build_instance

ROOT = Path(__file__).resolve().parents[1]
NOTATION = ROOT / "book" / "notation.md"
CHAPTERS = [nb for nb in toc_notebooks(ROOT) if re.match(r"\d\d_", nb.stem)]


def cells(stem_path: Path) -> list[dict]:
    nb = json.loads(stem_path.read_text())
    for c in nb["cells"]:
        c["text"] = "".join(c["source"]) if isinstance(c["source"], list) else c["source"]
    return nb["cells"]


def markdown(path: Path) -> str:
    return "\n".join(c["text"] for c in cells(path) if c["cell_type"] == "markdown")


def default_cell(label: str) -> str:
    """The ``default`` column of the notation row whose ``library name`` cell has ``label``."""
    for line in NOTATION.read_text().splitlines():
        parts = [p.strip() for p in line.strip().strip("|").split("|")]
        if len(parts) == 5 and label in parts[4]:
            return parts[3]
    raise AssertionError(f"no notation row names {label!r}")


def numbers(text: str) -> list[float]:
    return [float(v) for v in re.findall(r"\d+(?:\.\d+)?(?:e[-+]?\d+)?", text.split("(")[0])]


def default_of(func, name: str):
    return inspect.signature(func).parameters[name].default


LIBRARY_DEFAULTS = {
    '["memory_kb"]': [
        TIER_DEFAULTS[t]["memory_kb"] for t in ("device", "edge", "regional", "cloud")
    ],
    '["compute_gflops"]': [
        TIER_DEFAULTS[t]["compute_gflops"] for t in ("device", "edge", "regional", "cloud")
    ],
    "UPLINK_LATENCY_MS": [UPLINK_LATENCY_MS[t] for t in ("device", "edge", "regional")],
    "train_bagged(alpha=)": [default_of(train_bagged, "alpha")],
    "train_boosted(learning_rate=)": [default_of(train_boosted, "learning_rate")],
    "build_instance(alpha=)": [default_of(build_instance, "alpha")],
    "build_instance(slot_ms=)": [default_of(build_instance, "slot_ms")],
    "Infida(share=)": [default_of(Infida, "share")],
    "reach_weights(floor=)": [default_of(reach_weights, "floor")],
    "reach_weights(temperature=)": [default_of(reach_weights, "temperature")],
}


def test_toc_puts_the_notation_page_right_after_the_introduction() -> None:
    files = list(toc_files(read_yaml(ROOT / "_toc.yml")))
    assert files[:2] == ["book/intro", "book/notation"]


@pytest.mark.parametrize("label", sorted(LIBRARY_DEFAULTS))
def test_notation_defaults_match_the_library(label: str) -> None:
    assert numbers(default_cell(label)) == pytest.approx(LIBRARY_DEFAULTS[label])


def test_every_library_default_on_the_notation_page_is_checked() -> None:
    rows = [ln for ln in NOTATION.read_text().splitlines() if ln.startswith("|")]
    marked = [ln for ln in rows if "*library*" in ln]
    checked = [ln for ln in marked if any(label in ln for label in LIBRARY_DEFAULTS)]
    assert checked == marked


def test_notation_gives_each_alpha_of_the_library_its_own_symbol() -> None:
    text = NOTATION.read_text()
    for symbol in (r"$\gamma$", r"$\beta$", "$w_k$", r"$\kappa$"):
        assert symbol in text
    assert not PROSE_ALPHA.findall(prose(text)), "the notation page names alpha only as code"


@pytest.mark.parametrize("nb", CHAPTERS, ids=lambda nb: nb.stem)
def test_chapter_titles_carry_the_chapter_number(nb) -> None:
    first = cells(ROOT / nb.rel)[0]["text"].splitlines()[0]
    assert first.startswith(f"# {int(nb.stem[:2])}. "), first


@pytest.mark.parametrize("nb", CHAPTERS, ids=lambda nb: nb.stem)
def test_end_sections_are_summary_exercises_then_the_benchmark_note(nb) -> None:
    heads = re.findall(r"^## (.+)$", markdown(ROOT / nb.rel), flags=re.M)
    assert "Summary" in heads and "Exercises" in heads, heads
    tail = heads[heads.index("Summary") :]
    assert tail in (
        ["Summary", "Exercises"],
        ["Summary", "Exercises", "Closing note: the benchmark"],
    ), tail


@pytest.mark.parametrize("nb", CHAPTERS, ids=lambda nb: nb.stem)
def test_exercises_say_whether_they_need_a_live_notebook(nb) -> None:
    text = markdown(ROOT / nb.rel)
    exercises = text.split("## Exercises", 1)[1].split("\n## ", 1)[0]
    assert "live notebook" in exercises, nb.stem


def glued_figures(path: Path) -> list[str]:
    names = []
    for c in cells(path):
        if c["cell_type"] == "code":
            names += re.findall(r"glue_figure\(\s*[\"']([\w-]+)[\"']", c["text"])
    return names


def shown_figures(path: Path) -> list[str]:
    """Code cells that display a figure without a caption (``show(...)``)."""
    bad = []
    for c in cells(path):
        if c["cell_type"] != "code":
            continue
        tree = ast.parse(re.sub(r"^[%!].*$", "", c["text"], flags=re.M))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "show":
                bad.append(c["text"].splitlines()[0])
    return bad


@pytest.mark.parametrize("nb", CHAPTERS, ids=lambda nb: nb.stem)
def test_every_figure_is_numbered_captioned_and_cited(nb) -> None:
    assert not shown_figures(ROOT / nb.rel), (
        "figures go through glue_figure and a captioned directive"
    )
    text = markdown(ROOT / nb.rel)
    for name in glued_figures(ROOT / nb.rel):
        directive = re.search(
            rf"```{{glue:figure}} {name}\n:name: {name}\n\n(.+?)\n```", text, re.S
        )
        assert directive and directive.group(1).strip(), f"{name} has no caption"
        assert f"{{numref}}`{name}`" in text, f"{name} is never cited by number"


PROSE_ALPHA = re.compile(r"(?<![`\w{-])alpha(?![`\w}-])")


def prose(text: str) -> str:
    """Markdown without code spans, code blocks and glue roles."""
    text = re.sub(r"```.*?```", "", text, flags=re.S)
    return re.sub(r"`[^`]*`", "", text)


@pytest.mark.parametrize("nb", CHAPTERS, ids=lambda nb: nb.stem)
def test_prose_never_says_a_bare_alpha(nb) -> None:
    hits = PROSE_ALPHA.findall(prose(markdown(ROOT / nb.rel)))
    assert not hits, f"{nb.stem}: 'alpha' in prose; use the notation page's symbols"


def label_strings() -> list[str]:
    """Strings the views pass as titles, axis labels, names and widget descriptions."""
    keys = {"title_text", "description", "name", "prefix", "text", "title", "xaxis_title"}
    found = []
    for path in sorted((ROOT / "idn_core" / "views").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.keyword) and node.arg in keys:
                for sub in ast.walk(node.value):
                    if isinstance(sub, ast.Constant) and isinstance(sub.value, str):
                        found.append(f"{path.name}: {sub.value}")
            if isinstance(node, ast.Dict):
                for k, v in zip(node.keys, node.values, strict=True):
                    if isinstance(k, ast.Constant) and k.value in keys:
                        for sub in ast.walk(v):
                            if isinstance(sub, ast.Constant) and isinstance(sub.value, str):
                                found.append(f"{path.name}: {sub.value}")
    return found


def test_view_labels_use_the_books_symbols_not_alpha() -> None:
    labels = label_strings()
    assert labels, "the scan found no labels at all"
    assert not [s for s in labels if re.search(r"\balpha\b", s, re.I)]


def test_bibliography_labels_follow_the_in_text_author_year_style() -> None:
    import sys

    from pybtex.database import parse_file
    from pybtex.plugin import find_plugin

    sys.path.insert(0, str(ROOT / "book" / "_bib"))
    import idn_bib

    config = read_yaml(ROOT / "_config.yml")["sphinx"]
    assert config["local_extensions"]["idn_bib"] == "book/_bib"
    assert config["config"]["bibtex_default_style"] == idn_bib.STYLE_NAME
    assert config["config"]["bibtex_reference_style"] == "author_year"
    bib = parse_file(str(ROOT / "book" / "references.bib"))
    style = find_plugin("pybtex.style.formatting", idn_bib.STYLE_NAME)()
    labels = {e.key: e.label for e in style.format_bibliography(bib)}
    assert labels["sisalem2024infida"] == "Si Salem et al., 2024"
    assert labels["mienye2022survey"] == "Mienye and Sun, 2022"
    assert labels["greydanus2020mnist1d"] == "Greydanus, 2020"
    assert labels["kairouz2021advances"] == "Kairouz et al., 2021"
    assert len(set(labels.values())) == len(labels), "labels must be unique"
