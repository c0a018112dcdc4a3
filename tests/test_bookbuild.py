"""Unit tests of the papermill-first book build: profiles, parameter checks, cache, writes."""

from __future__ import annotations

import copy
import json
import math
import os
from pathlib import Path
from typing import Any

import nbformat
import pytest
import yaml
from conftest import write_notebook

from idn_core import book
from idn_core.book import (
    CacheWarning,
    ParameterError,
    ProfileError,
    cache,
    downloads,
    load_profiles,
)
from idn_core.book.downloads import download_link, notebook_archive, run_commands
from idn_core.book.params import notebook_parameters, profile_parameters, validate_parameters
from idn_core.book.toc import EXECUTED_DIR

# --- profiles ----------------------------------------------------------------------------


def test_missing_profiles_file_means_only_full(tmp_path: Path) -> None:
    assert load_profiles(tmp_path / "absent.yaml") == {"full": {}}


def test_profiles_are_read_and_full_is_implicit(tmp_path: Path) -> None:
    path = tmp_path / "profiles.yaml"
    path.write_text("quick:\n  a: {n: 2}\n  b:\n")
    profiles = load_profiles(path)
    assert profiles == {"full": {}, "quick": {"a": {"n": 2}, "b": {}}}
    assert profile_parameters(profiles, "quick", ["a", "b", "c"]) == {
        "a": {"n": 2},
        "b": {},
        "c": {},
    }
    assert profile_parameters(profiles, "full", ["a"]) == {"a": {}}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("- quick\n", "expected a mapping"),
        ("quick: [a, b]\n", "must map notebook stems"),
        ("quick:\n  a: 3\n", "quick.a must be a mapping"),
        ("full:\n  a: {n: 1}\n", "notebook defaults"),
    ],
)
def test_malformed_profiles_are_errors(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "profiles.yaml"
    path.write_text(text)
    with pytest.raises(ProfileError, match=message):
        load_profiles(path)


def test_unknown_profile_and_unknown_notebook_are_errors() -> None:
    profiles = {"full": {}, "quick": {"a": {}, "typo": {"n": 1}}}
    with pytest.raises(ProfileError, match="unknown profile 'fast'.*full, quick"):
        profile_parameters(profiles, "fast", ["a"])
    with pytest.raises(ProfileError, match="not in _toc.yml: typo"):
        profile_parameters(profiles, "quick", ["a"])


# --- parameter checks --------------------------------------------------------------------


def test_parameter_types_are_inferred(fake_book) -> None:
    specs = notebook_parameters(fake_book() / "notebooks" / "a.ipynb")
    assert specs["n"].type_name == "int"
    assert specs["scale"].type_name == "float"  # from the annotation
    assert specs["name"].types == ()  # default None: anything goes


@pytest.mark.parametrize(
    ("given", "message"),
    [
        (
            {"m": 1},
            r"notebook a: unknown parameter 'm' \(the notebook's parameters: n, scale, name\)",
        ),
        ({"n": "ten"}, "notebook a: parameter 'n' expects int, given str 'ten'"),
        ({"n": 2.5}, "parameter 'n' expects int, given float 2.5"),
        ({"n": True}, "parameter 'n' expects int, given bool True"),
        ({"scale": "1e-3"}, "expects float, given str '1e-3' .YAML reads 1e-3 as a string"),
        ({"n": None}, "parameter 'n' expects int, given NoneType"),
    ],
)
def test_bad_parameters_are_clear_errors(fake_book, given: dict, message: str) -> None:
    specs = notebook_parameters(fake_book() / "notebooks" / "a.ipynb")
    with pytest.raises(ParameterError, match=message):
        validate_parameters("a", specs, given)


def test_good_parameters_pass(fake_book) -> None:
    specs = notebook_parameters(fake_book() / "notebooks" / "a.ipynb")
    validate_parameters("a", specs, {"n": 3, "scale": 2, "name": "x"})  # int accepted as float
    validate_parameters("a", specs, {"scale": 0.5, "name": None})


def test_every_problem_is_reported_at_once(fake_book) -> None:
    specs = notebook_parameters(fake_book() / "notebooks" / "a.ipynb")
    with pytest.raises(ParameterError, match="unknown parameter 'zz'.*parameter 'n' expects int"):
        validate_parameters("a", specs, {"zz": 1, "n": "x"})


def test_plan_validates_every_notebook_before_running(fake_book) -> None:
    root = fake_book(profiles="quick:\n  b: {flag: 1}\n")
    with pytest.raises(
        ParameterError, match="notebook b: parameter 'flag' expects bool, given int"
    ):
        book.plan("quick", root)
    assert not (root / EXECUTED_DIR).exists()


# --- table of contents -------------------------------------------------------------------


def test_toc_notebooks_in_book_order(fake_book) -> None:
    notebooks = book.toc_notebooks(fake_book())
    assert [(nb.stem, nb.rel) for nb in notebooks] == [
        ("a", "notebooks/a.ipynb"),
        ("b", "notebooks/b.ipynb"),
    ]


def test_repository_toc_has_the_generated_pages() -> None:
    root = book.default_root()
    files = list(book.toc_files(yaml.safe_load((root / "_toc.yml").read_text())))
    assert files[0] == "book/intro"
    assert "book/execution_stats" in files and "book/bibliography" in files
    assert book.toc_notebooks(root), "the book has at least one notebook"


def test_repository_quick_profile_is_valid() -> None:
    plan = book.plan("quick")  # raises on unknown notebooks, parameters or types
    assert [run.notebook for run in plan] == book.toc_notebooks()


# --- cache keys --------------------------------------------------------------------------


def notebook(*cells: tuple[str, str], tags: dict[int, list[str]] | None = None) -> Any:
    """An in-memory notebook of ``(kind, source)`` cells; ``tags`` by cell index."""
    make = {"markdown": nbformat.v4.new_markdown_cell, "code": nbformat.v4.new_code_cell}
    nb = nbformat.v4.new_notebook()
    nb.cells = [make[kind](source) for kind, source in cells]
    for index, cell_tags in (tags or {}).items():
        nb.cells[index].metadata["tags"] = cell_tags
    return nb


BASE_CELLS = (("markdown", "# Title"), ("code", "n = 1"), ("markdown", "Prose."), ("code", "n"))


def key_of(nb: Any, params: dict | None = None, profile: str = "quick", lib: str = "lib") -> str:
    return cache.notebook_key(cache.cache_inputs(nb, params or {"a": 1, "b": 2}, profile, lib))


def test_cache_key_depends_on_each_input_and_nothing_else() -> None:
    nb = notebook(*BASE_CELLS)
    base = key_of(nb)
    assert base == key_of(nb, {"b": 2, "a": 1})  # order-free
    assert base != key_of(nb, {"a": 1, "b": 3})
    assert base != key_of(nb, {"a": 1.0, "b": 2})
    assert base != key_of(nb, profile="full")
    assert base != key_of(nb, lib="lib2")
    assert base != key_of(notebook(*BASE_CELLS[:3], ("code", "n + 1")))
    assert base != key_of(notebook(*BASE_CELLS, tags={1: ["raises-exception"]}))


def test_cache_key_ignores_prose_outputs_ids_and_the_injected_cell() -> None:
    nb = notebook(*BASE_CELLS)
    base = key_of(nb)
    edited = notebook(("markdown", "# New title"), *BASE_CELLS[1:], ("markdown", "More."))
    assert key_of(edited) == base
    ran = copy.deepcopy(nb)
    ran.cells[3].outputs = [nbformat.v4.new_output("execute_result", {"text/plain": "1"})]
    ran.cells[3].execution_count = 1
    ran.cells[3].id = "other-id"
    injected = nbformat.v4.new_code_cell("n = 2")
    injected.metadata["tags"] = ["injected-parameters"]
    ran.cells.insert(2, injected)
    assert key_of(ran) == base


def test_library_digest_tracks_sources_and_requirements(fake_book) -> None:
    root = fake_book()
    before = cache.library_digest(root)
    (root / "notebooks" / "notes.txt").write_text("not an input")
    (root / "idn_core" / "data.csv").write_text("not python")
    (root / "idn_core" / "book").mkdir()
    (root / "idn_core" / "book" / "build.py").write_text("# the build tool\n")
    assert cache.library_digest(root) == before
    for change in (
        lambda: (root / "idn_core" / "lib.py").write_text("X = 2\n"),
        lambda: (root / "idn_core" / "sub").mkdir() or (root / "idn_core" / "sub" / "m.py").touch(),
        lambda: (root / "requirements.txt").write_text("numpy==2.1\n"),
    ):
        change()
        after = cache.library_digest(root)
        assert after != before
        before = after


def test_record_is_fresh_only_for_its_key(tmp_path: Path) -> None:
    executed = tmp_path / "x.ipynb"
    assert not cache.is_fresh(executed, "k")
    executed.write_text("{}")
    assert not cache.is_fresh(executed, "k")  # no record
    cache.write_record(executed, {"key": "k", "seconds": 1.0})
    assert cache.is_fresh(executed, "k")
    assert not cache.is_fresh(executed, "other")
    executed.write_text('{"changed": 1}')
    with pytest.warns(CacheWarning, match="does not match the checksum"):
        assert not cache.is_fresh(executed, "k")
    cache.record_path(executed).write_text("{corrupt")
    with pytest.warns(CacheWarning, match="unreadable run record"):
        assert not cache.is_fresh(executed, "k")


# --- atomic writes -----------------------------------------------------------------------


def test_atomic_write_replaces_whole_file(tmp_path: Path) -> None:
    target = tmp_path / "sub" / "out.ipynb"
    cache.atomic_write(target, b"first")
    cache.atomic_write(target, b"second")
    assert target.read_bytes() == b"second"
    assert sorted(p.name for p in target.parent.iterdir()) == ["out.ipynb"]


def test_interrupted_atomic_write_keeps_old_file(tmp_path: Path, monkeypatch) -> None:
    target = tmp_path / "out.ipynb"
    target.write_bytes(b"old")

    def interrupted(src: str, dst: str) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        cache.atomic_write(target, b"new")
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.ipynb"]


# --- execution (runs papermill on tiny notebooks) ----------------------------------------


@pytest.mark.slow
def test_execution_is_cached_until_an_input_changes(fake_book) -> None:
    root = fake_book()
    first = book.execute_all("quick", root=root)
    assert [(r.notebook.stem, r.cached) for r in first] == [("a", False), ("b", False)]
    out = first[0].path
    assert out == root / "_build/executed/quick/notebooks/a.ipynb"
    assert printed(out) == "3.0\n"  # n=2 injected, scale 1.5
    assert cache.read_record(out)["parameters"] == {"n": 2}

    second = book.execute_all("quick", root=root)
    assert [r.cached for r in second] == [True, True]
    assert second[0].seconds == first[0].seconds

    (root / "notebooks" / "profiles.yaml").write_text("quick:\n  a: {n: 4}\n")
    third = book.execute_all("quick", root=root)
    assert [r.cached for r in third] == [False, True]
    assert printed(out) == "6.0\n"

    (root / "idn_core" / "lib.py").write_text("X = 3\n")
    assert [r.cached for r in book.execute_all("quick", root=root)] == [False, False]
    leftovers = [p.name for p in out.parent.iterdir() if p.name.startswith(".")]
    assert leftovers == []


@pytest.mark.slow
def test_notebook_error_names_notebook_and_cell(fake_book) -> None:
    root = fake_book(body="x = 1\nraise ValueError('boom in chapter')")
    with pytest.raises(book.NotebookError) as info:
        book.execute_all("quick", root=root)
    message = str(info.value)
    assert "notebook a (notebooks/a.ipynb, profile quick) failed" in message
    assert "ValueError: boom in chapter" in message
    assert "raise ValueError" in message  # the cell's source
    executed = root / "_build/executed/quick/notebooks"
    assert (executed / "a.failed.ipynb").is_file()
    assert not (executed / "a.ipynb").exists()
    assert (executed / "b.ipynb").is_file()  # the other notebooks still ran


@pytest.mark.slow
def test_a_stalled_cell_is_stopped_and_the_notebook_run_again_once(
    fake_book, monkeypatch, capsys
) -> None:
    body = "import time\ntime.sleep(30)"
    root = fake_book(body=body)
    monkeypatch.setenv("IDN_BOOK_CELL_TIMEOUT", "2")
    with pytest.raises(book.NotebookError, match="notebook a .*CellTimeoutError"):
        book.execute_notebook("a", "quick", root=root)
    assert capsys.readouterr().out.count("running the notebook again once") == 1


@pytest.mark.slow
def test_output_widget_contents_are_saved_in_the_widget_state(fake_book) -> None:
    body = (
        "import ipywidgets as w\nfrom IPython.display import display\n"
        "out = w.Output()\nwith out:\n    out.clear_output(wait=True)\n"
        "    print('inside the widget')\ndisplay(out)"
    )
    root = fake_book(body=body)
    path = book.execute_notebook("a", "quick", root=root)
    state = json.loads(path.read_text())["metadata"]["widgets"]
    models = state["application/vnd.jupyter.widget-state+json"]["state"].values()
    outputs = [m["state"]["outputs"] for m in models if m["model_name"] == "OutputModel"]
    assert outputs and "inside the widget" in outputs[0][0]["text"]
    from nbclient.output_widget import OutputWidget

    assert OutputWidget.sync_state.__name__ == "sync_state"  # restored after the build


def test_cell_timeout_by_profile_and_environment(monkeypatch) -> None:
    monkeypatch.delenv("IDN_BOOK_CELL_TIMEOUT", raising=False)
    assert book.cell_timeout_s("quick") < book.cell_timeout_s("full")
    monkeypatch.setenv("IDN_BOOK_CELL_TIMEOUT", "42")
    assert book.cell_timeout_s("full") == 42
    monkeypatch.setenv("IDN_BOOK_CELL_TIMEOUT", "soon")
    with pytest.raises(ProfileError, match="IDN_BOOK_CELL_TIMEOUT"):
        book.cell_timeout_s("quick")


@pytest.mark.slow
def test_build_environment_variables_reach_the_kernel(fake_book) -> None:
    body = "import os\nprint('ENV', os.environ['IDN_BOOK_BUILD'], os.environ['IDN_BOOK_PROFILE'])"
    root = fake_book(body=body)
    path = book.execute_notebook("a", "quick", root=root)
    assert "ENV 1 quick" in path.read_text()
    assert "IDN_BOOK_BUILD" not in os.environ


# --- chapter skeleton ---------------------------------------------------------------------


@pytest.mark.parametrize("nb", book.toc_notebooks(), ids=lambda nb: nb.stem)
def test_every_chapter_has_a_summary_then_exercises(nb: book.Notebook) -> None:
    import nbformat

    notebook = nbformat.read(book.default_root() / nb.rel, as_version=4)
    headings = [
        line.lstrip("#").strip().lower()
        for cell in notebook.cells
        if cell.cell_type == "markdown"
        for line in cell.source.splitlines()
        if line.startswith("## ")
    ]
    assert "summary" in headings and "exercises" in headings, f"{nb.stem}: {headings}"
    assert headings.index("summary") < headings.index("exercises"), headings


# Each notebook records the process that runs papermill (its kernel's parent), then waits
# until both have started: only two processes running at once get past the barrier early
# (and print "met"; a notebook that waited alone until the deadline prints "alone").
BARRIER = """import os, pathlib, time
pids = pathlib.Path({root!r}) / "pids"
pids.mkdir(exist_ok=True)
(pids / "{name}").write_text(str(os.getppid()))
deadline = time.time() + 30
while len(list(pids.iterdir())) < 2 and time.time() < deadline:
    time.sleep(0.05)
print("met" if len(list(pids.iterdir())) >= 2 else "alone")
print('{name}' * k)"""


@pytest.mark.slow
def test_notebooks_after_the_first_run_in_parallel_workers(fake_book) -> None:
    root = fake_book()
    for name in ("c", "d"):
        body = BARRIER.format(root=str(root), name=name)
        write_notebook(root / "notebooks" / f"{name}.ipynb", "k = 1", body)
    toc = (root / "_toc.yml").read_text() + "  - file: notebooks/c\n  - file: notebooks/d\n"
    (root / "_toc.yml").write_text(toc)
    (root / "notebooks" / "d.ipynb").write_text(
        (root / "notebooks" / "d.ipynb").read_text().replace("print('d' * k)", "raise KeyError(k)")
    )

    with pytest.raises(book.NotebookError) as info:
        book.execute_all("quick", root=root, jobs=2)

    assert "notebook d (notebooks/d.ipynb, profile quick) failed" in str(info.value)
    parents = {p.name: int(p.read_text()) for p in (root / "pids").iterdir()}
    assert set(parents) == {"c", "d"}
    assert parents["c"] != parents["d"]  # two worker processes, at the same time
    assert os.getpid() not in parents.values()  # neither is the test's own process
    executed = root / "_build/executed/quick/notebooks"
    assert sorted(p.name for p in executed.glob("*.ipynb")) == [
        "a.ipynb", "b.ipynb", "c.ipynb", "d.failed.ipynb",
    ]  # fmt: skip
    (root / "notebooks" / "d.ipynb").unlink()
    (root / "_toc.yml").write_text(toc.replace("  - file: notebooks/d\n", ""))
    runs = book.execute_all("quick", root=root, jobs=2)
    assert [(r.notebook.stem, r.cached) for r in runs] == [("a", True), ("b", True), ("c", True)]


def flag_alongside_first(path: Path, value: object = True) -> None:
    nb = nbformat.read(path, as_version=4)
    nb.metadata["idn_book"] = {"alongside_first": value}
    nbformat.write(nb, path)


@pytest.mark.slow
def test_a_notebook_flagged_alongside_first_runs_beside_the_warm_up(fake_book) -> None:
    root = fake_book()
    for name in ("a", "b"):
        write_notebook(
            root / "notebooks" / f"{name}.ipynb",
            "n = 1\nk = 1",  # the profile sets n; the barrier prints name * k
            BARRIER.format(root=str(root), name=name),
        )
    flag_alongside_first(root / "notebooks" / "b.ipynb")

    runs = book.execute_all("quick", root=root, jobs=2)

    assert [r.notebook.stem for r in runs] == ["a", "b"]  # results keep the toc's order
    parents = {p.name: int(p.read_text()) for p in (root / "pids").iterdir()}
    assert parents["a"] == os.getpid() and parents["b"] != os.getpid()  # b in a side worker
    for run in runs:  # each waited for the other: they ran at the same time
        assert "met" in run.path.read_text(), run.notebook.stem


def test_a_malformed_scheduling_hint_is_a_clear_error(fake_book) -> None:
    root = fake_book()
    flag_alongside_first(root / "notebooks" / "b.ipynb", "yes")
    with pytest.raises(book.BookBuildError, match="alongside_first"):
        book.execute_all("quick", root=root, jobs=2)


@pytest.mark.parametrize("value", ["0", "two", "-1"])
def test_bad_job_count_is_a_clear_error(monkeypatch, value: str) -> None:
    monkeypatch.setenv("IDN_BOOK_JOBS", value)
    with pytest.raises(book.BookBuildError, match="IDN_BOOK_JOBS must be a positive integer"):
        book.default_jobs()


# --- prose merge (issue 12 item 6) ---------------------------------------------------------


def executed_copy(nb: Any, injected_after: int) -> Any:
    """What papermill makes of ``nb``: outputs on code cells, the injected cell after one."""
    ran = copy.deepcopy(nb)
    for cell in ran.cells:
        if cell.cell_type == "code":
            cell.outputs = [nbformat.v4.new_output("stream", text=f"ran {cell.source}\n")]
            cell.metadata["papermill"] = {"status": "completed"}
    injected = nbformat.v4.new_code_cell("n = 2")
    injected.metadata["tags"] = ["injected-parameters"]
    injected.outputs = []
    ran.cells.insert(injected_after + 1, injected)
    ran.metadata["papermill"] = {"parameters": {"n": 2}}
    return ran


def test_merge_keeps_outputs_and_takes_the_current_prose() -> None:
    source = notebook(*BASE_CELLS, tags={1: ["parameters"]})
    ran = executed_copy(source, injected_after=1)
    current = notebook(
        ("markdown", "# A better title"), BASE_CELLS[1], ("markdown", "A new paragraph."),
        ("markdown", "Prose, fixed."), BASE_CELLS[3], tags={1: ["parameters"]},
    )  # fmt: skip
    current.cells[4].metadata["mystnb"] = {"figure": {"caption": "new"}}
    merged = book.merge_prose(ran, current)
    kinds = [(c.cell_type, c.source) for c in merged.cells]
    assert kinds == [
        ("markdown", "# A better title"), ("code", "n = 1"), ("code", "n = 2"),
        ("markdown", "A new paragraph."), ("markdown", "Prose, fixed."), ("code", "n"),
    ]  # fmt: skip
    assert "injected-parameters" in merged.cells[2].metadata["tags"]
    assert merged.cells[5].outputs[0]["text"] == "ran n\n"
    assert merged.cells[5].metadata["mystnb"] == {"figure": {"caption": "new"}}
    assert merged.cells[5].metadata["papermill"] == {"status": "completed"}
    assert merged.metadata["papermill"] == {"parameters": {"n": 2}}
    nbformat.validate(merged)


def test_merge_refuses_a_different_code_cell() -> None:
    source = notebook(*BASE_CELLS)
    ran = executed_copy(source, injected_after=1)
    assert book.merge_prose(ran, notebook(*BASE_CELLS[:3], ("code", "n + 1"))) is None
    assert book.merge_prose(ran, notebook(*BASE_CELLS, ("code", "extra"))) is None


# --- configuration files and command line (issue 15 item 9) ---------------------------------


def test_malformed_profiles_name_the_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "profiles.yaml"
    path.write_text("quick:\n  a: {n: 2\n  b: {}\n")
    with pytest.raises(ProfileError, match=r"profiles.yaml, line 3, column \d+: ") as info:
        load_profiles(path)
    assert "Traceback" not in str(info.value) and "\n" not in str(info.value)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "quick:\n  a: {n: 2}\n  a: {n: 3}\n",
            r"line 3, column 3: duplicate key 'a' \(first on line 2\)",
        ),
        ("quick:\n  a: {n: 2, n: 3}\n", r"line 2.*duplicate key 'n'"),
        ("quick:\n  a: {}\nquick:\n  b: {}\n", r"line 3.*duplicate key 'quick'"),
    ],
)
def test_duplicate_yaml_keys_are_rejected(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "profiles.yaml"
    path.write_text(text)
    with pytest.raises(ProfileError, match=message):
        load_profiles(path)


def test_yaml_merge_keys_may_still_be_overridden(tmp_path: Path) -> None:
    path = tmp_path / "profiles.yaml"
    path.write_text("quick:\n  a: &base {n: 2, m: 1}\n  b: {<<: *base, n: 3}\n")
    assert load_profiles(path)["quick"]["b"] == {"n": 3, "m": 1}


def test_duplicate_toc_entry_key_is_rejected(fake_book) -> None:
    root = fake_book()
    (root / "_toc.yml").write_text("format: jb-book\nroot: book/intro\nroot: book/other\n")
    with pytest.raises(ProfileError, match=r"_toc.yml, line 3.*duplicate key 'root'"):
        book.toc_notebooks(root)


def test_plan_reports_the_parameter_problems_of_every_notebook(fake_book) -> None:
    root = fake_book(profiles="quick:\n  a: {n: x}\n  b: {flag: 1}\n")
    with pytest.raises(ParameterError) as info:
        book.plan("quick", root)
    assert "notebook a: parameter 'n' expects int" in str(info.value)
    assert "notebook b: parameter 'flag' expects bool" in str(info.value)


def test_only_selects_notebooks_and_rejects_unknown_names(fake_book) -> None:
    root = fake_book()
    assert [run.notebook.stem for run in book.plan("quick", root, only=["b"])] == ["b"]
    runs = book.plan("quick", root, only=["notebooks/b.ipynb", "a"])
    assert [run.notebook.stem for run in runs] == ["a", "b"]  # book order
    with pytest.raises(ProfileError, match=r"not a notebook of _toc.yml: zz .book notebooks: a, b"):
        book.plan("quick", root, only=["zz"])


def test_no_arguments_print_help_and_exit_2(capsys) -> None:
    from idn_core.book.cli import main

    assert main([]) == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: python -m idn_core.book") and "--only NAME" in err


def test_cli_list_only_and_errors(fake_book, monkeypatch, capsys) -> None:
    from idn_core.book.cli import main

    monkeypatch.setenv("IDN_BOOK_ROOT", str(fake_book()))
    assert main(["list", "--profile", "quick", "--only", "a"]) == 0
    assert capsys.readouterr().out == "a\tnotebooks/a.ipynb\t{'n': 2}\n"
    assert main(["execute", "--profile", "quick", "--only", "zz"]) == 1
    assert "ERROR: not a notebook of _toc.yml: zz" in capsys.readouterr().err
    with pytest.raises(SystemExit) as info:
        main(["compile"])
    assert info.value.code == 2


def test_command_status_shapes_help_errors_and_exit_codes(capsys) -> None:
    import argparse

    from idn_core.book import command_status

    p = argparse.ArgumentParser(prog="toy")
    p.add_argument("n", type=int)

    def run(args: argparse.Namespace) -> int:
        if args.n < 0:
            raise ValueError(f"n must be >= 0, got {args.n}")
        return args.n

    assert command_status(p, [], run, ValueError, "toy") == 2
    assert capsys.readouterr().err.startswith("usage: toy")
    assert command_status(p, ["3"], run, ValueError, "toy") == 3
    assert command_status(p, ["-5"], run, ValueError, "toy") == 1
    assert capsys.readouterr().err == "[toy] ERROR: n must be >= 0, got -5\n"
    with pytest.raises(ValueError, match="n must be"):
        command_status(p, ["-5"], run, KeyError, "toy")  # not one of the listed errors
    with pytest.raises(SystemExit):
        command_status(p, ["x"], run, ValueError, "toy")
    with pytest.raises(TypeError, match="p must be ArgumentParser"):
        command_status(None, ["3"], run, ValueError, "toy")
    with pytest.raises(TypeError, match="run must be callable"):
        command_status(p, ["3"], 3, ValueError, "toy")


def test_python_m_entry_point_prints_help() -> None:
    import subprocess
    import sys

    proc = subprocess.run(
        [sys.executable, "-m", "idn_core.book"], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 2 and "usage: python -m idn_core.book" in proc.stderr


def test_failure_report_names_every_failed_notebook() -> None:
    from idn_core.book.execute import failure_report

    runs = [book.PlannedRun(book.Notebook(s, f"nb/{s}.ipynb"), "quick", {}) for s in "abc"]
    ok = book.NotebookRun(runs[1].notebook, "quick", {}, 1.0, False, "", Path("b"))
    errors = [book.NotebookError(f"notebook {s} failed: cell 2 raised E{s}") for s in "ac"]
    report = str(failure_report(runs, [errors[0], ok, errors[1]]))
    assert report.startswith("2 of 3 notebooks failed: a, c\n")
    assert "cell 2 raised Ea" in report and "cell 2 raised Ec" in report
    assert failure_report(runs[1:2], [ok]) is None


def test_staged_toc_leaves_out_the_notebooks_not_run(fake_book) -> None:
    from idn_core.book.stage import stage_toc

    root = fake_book()
    stage = root / "stage"
    stage.mkdir()
    a, b = (
        book.NotebookRun(book.Notebook(s, f"notebooks/{s}.ipynb"), "quick", {}, 1.0, True, "", root)
        for s in "ab"
    )
    stage_toc([b], root, stage)
    toc = yaml.safe_load((stage / "_toc.yml").read_text())
    assert list(book.toc_files(toc)) == ["book/intro", "book/page", "notebooks/b.ipynb"]
    stage_toc([a, b], root, stage)  # the whole book: _toc.yml as written
    assert (stage / "_toc.yml").read_bytes() == (root / "_toc.yml").read_bytes()


# --- the cache in use (papermill on tiny notebooks) ------------------------------------------


def edit_notebook(path: Path, edit: Any) -> None:
    """Apply ``edit`` to the notebook at ``path`` and save it."""
    nb = nbformat.read(path, as_version=4)
    edit(nb)
    nbformat.write(nb, path)


def printed(path: Path) -> str:
    """What the last code cell of the notebook at ``path`` printed."""
    nb = nbformat.read(path, as_version=4)
    cell = [c for c in nb.cells if c.cell_type == "code"][-1]
    return "".join(output.get("text", "") for output in cell.outputs)


@pytest.mark.slow
def test_cache_reruns_for_code_and_library_not_for_prose_or_the_build_tool(fake_book) -> None:
    from idn_core.book.stage import stage_book

    root = fake_book()
    (root / "_config.yml").write_text("title: t\n")
    (root / ".cache/vendor/static/vendor").mkdir(parents=True)
    (root / ".cache/vendor/static/vendor/plotly-cartesian.min.js").write_text("")
    source = root / "notebooks" / "a.ipynb"

    def cached() -> bool:
        (run,) = book.execute_all("quick", root=root, only=["a"])
        return run.cached

    assert not cached()
    out = root / "_build/executed/quick/notebooks/a.ipynb"
    written = out.stat().st_mtime_ns
    assert cached() and out.stat().st_mtime_ns == written, "an unchanged copy was rewritten"

    def new_prose(nb: Any) -> None:
        nb.cells[0].source = "# A better title"
        nb.cells.append(nbformat.v4.new_markdown_cell("Closing words."))

    edit_notebook(source, new_prose)
    assert cached(), "a markdown-only edit re-executed the notebook"
    assert "A better title" in out.read_text() and "Closing words." in out.read_text()
    assert printed(out) == "3.0\n"  # the output of the run before the edit
    (run,) = book.execute_all("quick", root=root, only=["a"])
    stage = stage_book([run], "quick", root)
    staged = stage / "notebooks/a.ipynb"
    assert "A better title" in staged.read_text() and "Closing words." in staged.read_text()
    assert printed(staged) == "3.0\n"
    downloads = stage / "_extra" / "downloads"
    assert {p.name for p in downloads.iterdir()} == {
        "idn_core-0.0.1-py3-none-any.whl",
        "idn-book-notebooks.zip",
    }
    assert "Run this chapter yourself" in staged.read_text()

    (root / "idn_core" / "book").mkdir()
    (root / "idn_core" / "book" / "build.py").write_text("# the build tool, edited\n")
    assert cached(), "an edit to idn_core/book re-executed the notebook"

    out.write_bytes(out.read_bytes().replace(b'"3.0\\n"', b'"9.9\\n"'))
    assert printed(out) == "9.9\n"
    with pytest.warns(CacheWarning, match="does not match the checksum"):
        assert not cached(), "a corrupt entry was reused"
    assert printed(out) == "3.0\n"

    edit_notebook(source, lambda nb: setattr(nb.cells[2], "source", "print(n * scale * 2)"))
    assert not cached(), "a code edit did not re-execute the notebook"
    assert printed(out) == "6.0\n" and "A better title" in out.read_text()

    (root / "idn_core" / "other.py").write_text("Y = 1\n")
    assert not cached(), "an edit to another idn_core module did not re-execute"
    assert cached()


@pytest.mark.slow
def test_every_failing_notebook_is_reported_and_stale_failures_go(fake_book) -> None:
    root = fake_book()
    book.execute_all("quick", root=root, jobs=1)
    paths = {s: root / "notebooks" / f"{s}.ipynb" for s in "ab"}
    good = {s: path.read_text() for s, path in paths.items()}
    for s, line in (("a", "print(n * scale)"), ("b", "print(flag)")):
        paths[s].write_text(good[s].replace(line, f"raise RuntimeError('broken {s}')"))

    with pytest.raises(book.NotebookError) as info:
        book.execute_all("quick", root=root, jobs=1)
    message = str(info.value)
    assert message.startswith("2 of 2 notebooks failed: a, b\n")
    for s in "ab":
        assert f"notebook {s} (notebooks/{s}.ipynb, profile quick) failed: cell" in message
        assert f"RuntimeError: broken {s}" in message
        assert f"--- cell source ---\nraise RuntimeError('broken {s}')" in message
    executed = root / "_build/executed/quick/notebooks"
    assert sorted(p.name for p in executed.glob("*.ipynb")) == [
        "a.failed.ipynb", "a.ipynb", "b.failed.ipynb", "b.ipynb",
    ]  # fmt: skip

    for s, path in paths.items():
        path.write_text(good[s])  # back to the code of the good copies
    runs = book.execute_all("quick", root=root, jobs=1)
    assert [r.cached for r in runs] == [True, True]
    assert sorted(p.name for p in executed.glob("*.ipynb")) == ["a.ipynb", "b.ipynb"]


def test_unique_key_loader_refuses_repeats_at_any_depth_but_keeps_merges() -> None:
    from idn_core.book.yamlfile import DuplicateKeyError, UniqueKeyLoader

    with pytest.raises(DuplicateKeyError, match=r"duplicate key 'b' \(first on line 2\)"):
        yaml.load("a:\n  b: 1\n  b: 2\n", Loader=UniqueKeyLoader)  # noqa: S506
    merged = yaml.load("x: &x {b: 1}\ny: {<<: *x, b: 2}\n", Loader=UniqueKeyLoader)  # noqa: S506
    assert merged["y"] == {"b": 2}


# --- glued values read back (idn_core.book.glued) ------------------------------------------


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("0.5", 0.5),
        ("12", 12),
        ("'gain-aware'", "gain-aware"),
        ("[1, 2]", [1, 2]),
        ("np.float64(0.25)", 0.25),
        ("np.int64(7)", 7),
        ("np.True_", True),
        ("inf", float("inf")),
        ("-inf", float("-inf")),
        ("a / b", "a / b"),  # not a literal: the text itself
    ],
)
def test_glued_values_read_literals_numpy_scalars_and_infinities(
    tmp_path: Path, text: str, value: Any
) -> None:
    prefix = "application/papermill.record/"
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("glue(...)")
    meta = {"scrapbook": {"name": "x", "mime_prefix": prefix}}
    cell.outputs = [
        nbformat.v4.new_output("display_data", data={prefix + "text/plain": text}, metadata=meta),
        nbformat.v4.new_output(
            "display_data",
            data={prefix + "text/plain": "<Markdown>", prefix + "text/markdown": "**m**"},
            metadata={"scrapbook": {"name": "md", "mime_prefix": prefix}},
        ),
    ]
    nb.cells = [cell]
    nbformat.write(nb, tmp_path / "nb.ipynb")
    glued = book.glued_values(tmp_path / "nb.ipynb")
    assert glued == {"x": value} and type(glued["x"]) is type(value)  # markdown left out
    cell.outputs[0]["data"][prefix + "text/plain"] = "np.float64(nan)"  # nan != nan: apart
    nbformat.write(nb, tmp_path / "nan.ipynb")
    assert math.isnan(book.glued_values(tmp_path / "nan.ipynb")["x"])


# --- scheduling: warm-up training jobs, longest first ---------------------------------------


def test_longest_first_orders_by_last_recorded_run(tmp_path: Path) -> None:
    from idn_core.book import execute
    from idn_core.book.records import Notebook, PlannedRun

    runs = [PlannedRun(Notebook(s, f"notebooks/{s}.ipynb"), "quick", {}) for s in "abcd"]
    for stem, seconds in (("a", 5.0), ("b", 50.0), ("d", 20.0)):  # c never ran
        out = execute.executed_path(runs["abcd".index(stem)].notebook, "quick", tmp_path)
        out.parent.mkdir(parents=True, exist_ok=True)
        cache.record_path(out).write_text(json.dumps({"seconds": seconds}))

    assert execute.last_seconds(runs[2], tmp_path) is None
    assert execute.last_seconds(runs[1], tmp_path) == 50.0
    assert [runs[i].notebook.stem for i in execute.longest_first(runs, tmp_path)] == [
        "c", "b", "d", "a",
    ]  # fmt: skip


def test_warm_up_lets_the_first_notebook_train_in_parallel(monkeypatch) -> None:
    from idn_core.book import execute

    monkeypatch.delenv("IDN_TRAIN_JOBS", raising=False)
    seen = []
    monkeypatch.setattr(
        execute, "run_or_error", lambda *a: seen.append(os.environ.get("IDN_TRAIN_JOBS"))
    )
    execute.warm_up(None, Path("."), False, 2)
    assert seen == ["2"] and "IDN_TRAIN_JOBS" not in os.environ

    monkeypatch.setenv("IDN_TRAIN_JOBS", "1")  # the caller's choice wins
    execute.warm_up(None, Path("."), False, 2)
    assert seen == ["2", "1"] and os.environ["IDN_TRAIN_JOBS"] == "1"


def test_the_later_notebooks_may_train_in_parallel_too(monkeypatch, tmp_path) -> None:
    from idn_core.book import execute

    monkeypatch.delenv("IDN_TRAIN_JOBS", raising=False)
    monkeypatch.setattr(execute, "plan", lambda *a: ["first", "second", "third"])
    monkeypatch.setattr(
        execute, "run_or_error", lambda run, *a: (run, os.environ.get("IDN_TRAIN_JOBS"))
    )
    monkeypatch.setattr(execute, "failure_report", lambda runs, results: None)
    monkeypatch.setattr(execute, "runs_alongside_first", lambda run, root: False)
    monkeypatch.setattr(
        execute,
        "run_in_workers",
        lambda runs, *a: [execute.run_or_error(r) for r in runs],
    )
    monkeypatch.setattr(execute, "NotebookRun", tuple)  # the fakes above return tuples
    seen = execute.execute_all("quick", root=tmp_path, jobs=2)
    assert seen == [("first", "2"), ("second", "2"), ("third", "2")]
    assert "IDN_TRAIN_JOBS" not in os.environ


# --- what a reader gets: downloads, run notes, widget notices, buttons -----------------------


def run_of(root: Path, stem: str, path: Path) -> book.NotebookRun:
    return book.NotebookRun(
        book.Notebook(stem, f"notebooks/{stem}.ipynb"), "quick", {"n": 2}, 1.0, True, "", path
    )


def test_run_commands_install_unpack_and_open_the_chapter() -> None:
    commands = run_commands("idn_core-0.1.0-py3-none-any.whl", "07_playground")
    assert commands == [
        "python -m pip install idn_core-0.1.0-py3-none-any.whl myst-nb jupyterlab",
        "python -m zipfile -e idn-book-notebooks.zip .",
        "jupyter lab idn-book/notebooks/07_playground.ipynb",
    ]
    with pytest.raises(ValueError, match="wheel_name"):
        run_commands("idn_core.tar.gz", "07_playground")
    with pytest.raises(ValueError, match="notebook_stem"):
        run_commands("a-1-py3-none-any.whl", "")


def test_download_links_are_relative_to_the_page() -> None:
    assert download_link("notebooks/a.ipynb", "x.zip") == "../downloads/x.zip"
    assert download_link("book/intro.md", "x.zip") == "../downloads/x.zip"
    assert download_link("index.md", "x.zip") == "downloads/x.zip"


def test_notebook_archive_holds_the_chapters_profiles_and_readme(fake_book) -> None:
    import io
    import zipfile

    root = fake_book()
    notebooks = book.toc_notebooks(root)
    data = notebook_archive(root, notebooks, "idn_core-0.0.1-py3-none-any.whl")
    assert data == notebook_archive(root, notebooks, "idn_core-0.0.1-py3-none-any.whl")
    archive = zipfile.ZipFile(io.BytesIO(data))
    assert archive.testzip() is None
    assert sorted(archive.namelist()) == [
        "idn-book/README.md",
        "idn-book/notebooks/a.ipynb",
        "idn-book/notebooks/b.ipynb",
        "idn-book/notebooks/profiles.yaml",
        "idn-book/requirements.txt",
    ]
    assert archive.read("idn-book/notebooks/a.ipynb") == (root / "notebooks/a.ipynb").read_bytes()
    readme = archive.read("idn-book/README.md").decode()
    assert "python -m pip install idn_core-0.0.1-py3-none-any.whl" in readme
    with pytest.raises(book.BookBuildError, match="no notebook"):
        notebook_archive(root, [], "w-1-py3-none-any.whl")


def test_wheel_sources_must_exist(tmp_path: Path) -> None:
    with pytest.raises(book.BookBuildError, match="pyproject.toml, README.md, idn_core/ missing"):
        downloads.source_files(tmp_path)
    (tmp_path / "idn_core").mkdir()
    (tmp_path / "idn_core" / "lib.py").write_text("X = 1\n")
    with pytest.raises(book.BookBuildError, match="wheel: pyproject.toml, README.md missing"):
        downloads.source_files(tmp_path)


def widget_output() -> Any:
    view = {"model_id": "m1", "version_major": 2, "version_minor": 0}
    return nbformat.v4.new_output(
        "display_data",
        data={"application/vnd.jupyter.widget-view+json": view, "text/plain": "W"},
    )


def test_a_notice_goes_right_above_every_shown_widget_and_nowhere_else() -> None:
    from idn_core.book.stage import add_widget_notices

    nb = notebook(("markdown", "# T"), ("code", "w"), ("code", "print(1)"), ("code", "glue"))
    nb.cells[1].outputs = [nbformat.v4.new_output("stream", text="x\n"), widget_output()]
    nb.cells[2].outputs = [nbformat.v4.new_output("stream", text="1\n")]
    glued = widget_output()
    glued.metadata = {"scrapbook": {"name": "w", "mime_prefix": ""}}
    nb.cells[3].outputs = [glued]
    assert add_widget_notices(nb, "run-this-chapter-a") == 1
    outputs = nb.cells[1].outputs
    assert [o.output_type for o in outputs] == ["stream", "display_data", "display_data"]
    notice = outputs[1].data["text/html"]
    assert "idn-static-widget" in notice and 'href="#run-this-chapter-a"' in notice
    assert "changes nothing" in notice
    assert "application/vnd.jupyter.widget-view+json" in outputs[2].data
    assert len(nb.cells[2].outputs) == 1 and len(nb.cells[3].outputs) == 1


def test_staged_chapter_has_the_run_box_after_its_title_and_notices(tmp_path: Path) -> None:
    from idn_core.book.stage import staged_notebook

    nb = notebook(("markdown", "# Title\n\nIntro."), ("code", "n = 1"), ("code", "w"))
    nb.cells[1].metadata["tags"] = ["parameters"]
    nb.cells[2].outputs = [widget_output()]
    path = tmp_path / "a.ipynb"
    nbformat.write(nb, path)
    staged = nbformat.reads(
        staged_notebook(run_of(tmp_path, "a_b", path), "w-1-py3-none-any.whl").decode(),
        as_version=4,
    )
    assert staged.cells[0].source.startswith("# Title")
    box = staged.cells[1].source
    assert box.startswith("````{admonition} Run this chapter yourself")
    assert ":name: run-this-chapter-a_b" in box
    assert 'href="../downloads/w-1-py3-none-any.whl"' in box
    assert 'href="../downloads/idn-book-notebooks.zip"' in box
    assert "jupyter lab idn-book/notebooks/a_b.ipynb" in box
    notice = staged.cells[3].outputs[0].data["text/html"]
    assert 'href="#run-this-chapter-a-b"' in notice  # docutils' id of the box's name


def test_download_marker_is_replaced_in_markdown_pages(tmp_path: Path) -> None:
    from idn_core.book.stage import DOWNLOADS_MARKER, fill_download_markers

    (tmp_path / "book").mkdir()
    page = tmp_path / "book" / "intro.md"
    page.write_text(f"# Intro\n\n{DOWNLOADS_MARKER}\n\nMore.\n")
    (tmp_path / "book" / "other.md").write_text("# Other\n")
    assert fill_download_markers(tmp_path, "w-1-py3-none-any.whl", "01_x") == [page]
    text = page.read_text()
    assert DOWNLOADS_MARKER not in text and text.endswith("\n\nMore.\n")
    assert 'href="../downloads/idn-book-notebooks.zip"' in text
    assert "jupyter lab idn-book/notebooks/01_x.ipynb" in text


def test_repository_intro_has_the_download_marker() -> None:
    from idn_core.book.stage import DOWNLOADS_MARKER

    intro = book.default_root() / "book" / "intro.md"
    assert DOWNLOADS_MARKER in intro.read_text(encoding="utf-8")


CONFIG = {
    "title": "t",
    "repository": {"url": "", "branch": "main"},
    "launch_buttons": {
        "notebook_interface": "jupyterlab",
        "binderhub_url": "https://mybinder.org",
        "colab_url": "https://colab.research.google.com",
    },
    "html": {"use_repository_button": True},
}


def test_no_repository_url_means_no_repository_or_launch_button() -> None:
    from idn_core.book.stage import staged_config

    staged = staged_config(CONFIG)
    assert "repository" not in staged
    assert staged["html"]["use_repository_button"] is False
    assert staged["launch_buttons"] == {"notebook_interface": "jupyterlab"}
    assert CONFIG["launch_buttons"]["binderhub_url"], "the input was changed"


def test_a_real_repository_url_keeps_the_configured_buttons() -> None:
    from idn_core.book.stage import staged_config

    config = copy.deepcopy(CONFIG)
    config["repository"]["url"] = "https://github.com/owner/idn-book"
    assert staged_config(config) == config
    for bad in ("github.com/owner/name", "http://example.org/x", "https://", "placeholder"):
        config["repository"]["url"] = bad
        with pytest.raises(book.BookBuildError, match="repository.url must be an https://"):
            staged_config(config)


def test_repository_config_has_no_placeholder_url() -> None:
    config = yaml.safe_load((book.default_root() / "_config.yml").read_text(encoding="utf-8"))
    url = config["repository"]["url"]
    assert url == "" or (url.startswith("https://") and "placeholder" not in url), url
