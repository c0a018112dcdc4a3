"""The executed-notebook cache of the book build: what a key is made of, and reuse.

An executed notebook (``_build/executed/<profile>/<path>.ipynb``) is reused when its key
is unchanged. The key hashes what can change the notebook's *outputs*, and nothing else:

- ``code``: every code cell's source and tags, in order (not outputs, execution counts,
  ids or other metadata; papermill's injected-parameters cell is left out);
- ``parameters`` and ``profile``: the values papermill injects, and the profile's name;
- ``library``: the path and bytes of every ``idn_core/**/*.py`` except the build tool
  itself (``idn_core/book/``), which notebooks never import, and of ``requirements.txt``;
- ``version``: :data:`KEY_VERSION`, raised when the key's recipe changes.

Markdown is not in the key: a prose-only edit reuses the executed outputs, and
:func:`merge_prose` lays the current notebook's markdown (and cell metadata) over them, in
the manner of jupyter-cache's ``merge_match_into_notebook``: the current notebook is the
skeleton and each of its code cells is replaced, in order, by the executed one.

Each entry has a run record beside it (``<stem>.run.json``, written atomically) holding
the key, the inputs it was made of and a SHA-256 of the executed notebook's bytes; an
entry whose bytes do not match is executed again with a :class:`CacheWarning`.
"""

from __future__ import annotations

import copy
import hashlib
import json
import warnings
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat
from nbformat.corpus.words import generate_corpus_id as random_cell_id

from idn_core._util.atomic import atomic_write_with
from idn_core.book.records import CacheWarning

KEY_VERSION = 2
LIBRARY_GLOB = "idn_core/**/*.py"
BUILD_TOOL = ("idn_core", "book")  # path parts of the build tool, left out of the key
EXTRA_INPUTS = ("requirements.txt",)
INJECTED_TAG = "injected-parameters"
# Metadata written by the execution, kept from the executed copy when prose is merged.
RUN_CELL_METADATA = ("papermill", "execution")
RUN_NOTEBOOK_METADATA = ("papermill", "kernelspec", "language_info", "widgets")


@dataclass(frozen=True)
class Entry:
    """A verified cache entry: the run record and the executed notebook's bytes."""

    record: dict[str, Any]
    data: bytes


# --- the key -----------------------------------------------------------------------------


def sha256(data: bytes) -> str:
    """Hex SHA-256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


def is_build_tool(path: Path, root: Path) -> bool:
    """True for a file of ``idn_core/book/``, which cannot change a notebook's outputs."""
    return path.relative_to(root).parts[: len(BUILD_TOOL)] == BUILD_TOOL


def library_digest(root: Path) -> str:
    """Hash the library sources (minus the build tool) and ``requirements.txt`` under ``root``."""
    digest = hashlib.sha256()
    files = sorted(root.glob(LIBRARY_GLOB)) + [root / name for name in EXTRA_INPUTS]
    for path in files:
        if "__pycache__" in path.parts or not path.is_file() or is_build_tool(path, root):
            continue
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def is_injected(cell: nbformat.NotebookNode) -> bool:
    """True for the cell papermill inserts with the profile's parameters."""
    return INJECTED_TAG in cell.get("metadata", {}).get("tags", [])


def code_cells(nb: nbformat.NotebookNode) -> list[dict[str, Any]]:
    """Source and tags of each code cell in order: what the key knows of the notebook."""
    return [
        {"source": cell.source, "tags": sorted(cell.get("metadata", {}).get("tags", []))}
        for cell in nb.cells
        if cell.cell_type == "code" and not is_injected(cell)
    ]


def cache_inputs(
    nb: nbformat.NotebookNode, parameters: dict[str, Any], profile: str, library: str
) -> dict[str, Any]:
    """Return the named inputs a key is made of (see the module's docstring)."""
    code = json.dumps(code_cells(nb), sort_keys=True, ensure_ascii=False)
    return {
        "version": KEY_VERSION,
        "code": sha256(code.encode()),
        "parameters": json.dumps(parameters, sort_keys=True, default=repr),
        "profile": profile,
        "library": library,
    }


def notebook_key(inputs: dict[str, Any]) -> str:
    """Hash the inputs of :func:`cache_inputs` into one key."""
    return sha256(json.dumps(inputs, sort_keys=True).encode())


def changed_inputs(record: dict[str, Any] | None, inputs: dict[str, Any]) -> list[str]:
    """Names of the inputs that differ from those a record was made of (all if unknown)."""
    old = (record or {}).get("inputs")
    if not isinstance(old, dict):
        return ["no earlier run"] if record is None else ["key recipe"]
    return [name for name, value in inputs.items() if old.get(name) != value]


# --- records and entries -----------------------------------------------------------------


def atomic_write(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (see :mod:`idn_core._util.atomic`)."""
    atomic_write_with(path, lambda handle: handle.write(data))


def record_path(executed: Path) -> Path:
    """Path of the run record stored beside an executed notebook."""
    return executed.with_name(executed.stem + ".run.json")


def read_record(executed: Path) -> dict[str, Any] | None:
    """Return the run record of an executed notebook, or None if absent or unreadable."""
    try:
        record = json.loads(record_path(executed).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) else None


def write_record(executed: Path, record: dict[str, Any]) -> dict[str, Any]:
    """Store ``record`` with the checksum of the executed notebook now on disk; return it."""
    record = {**record, "sha256": sha256(executed.read_bytes())}
    atomic_write(record_path(executed), json.dumps(record, indent=1, sort_keys=True).encode())
    return record


def corrupt(executed: Path, why: str) -> None:
    """Warn that the entry at ``executed`` cannot be trusted and will be executed again."""
    message = f"{executed}: cached notebook {why}; executing it again"
    warnings.warn(message, CacheWarning, stacklevel=3)
    print(f"[book] WARNING: {message}", flush=True)


def load_executed(executed: Path, key: str) -> Entry | None:
    """Return the verified entry made with ``key``, or None (warning when it is corrupt)."""
    record = read_record(executed)
    if not executed.is_file():
        return None
    if record is None:
        if record_path(executed).exists():
            corrupt(executed, "has an unreadable run record")
        return None
    if record.get("key") != key:
        return None
    data = executed.read_bytes()
    if record.get("sha256") != sha256(data):
        corrupt(executed, "does not match the checksum of its run record")
        return None
    return Entry(record, data)


def is_fresh(executed: Path, key: str) -> bool:
    """True when ``executed`` exists, was produced with ``key`` and is intact."""
    return load_executed(executed, key) is not None


def store_executed(executed: Path, data: bytes, record: dict[str, Any]) -> dict[str, Any]:
    """Store an executed notebook made elsewhere (``data``) with its run ``record``; return it.

    The old record goes first, so new bytes are never paired with an old checksum; the
    record's checksum is computed again from the bytes written.
    """
    record_path(executed).unlink(missing_ok=True)
    executed.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(executed, data)
    return write_record(executed, without(record, ("sha256",)))


# --- prose merge -------------------------------------------------------------------------


def without(mapping: dict[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
    """A copy of ``mapping`` without ``keys``."""
    return {k: v for k, v in mapping.items() if k not in keys}


def cell_metadata(cell: nbformat.NotebookNode) -> dict[str, Any]:
    """A cell's own metadata: without what a run writes, nor the empty tags papermill adds."""
    metadata = without(cell.get("metadata", {}), RUN_CELL_METADATA)
    return metadata if metadata.get("tags") else without(metadata, ("tags",))


def presentation(nb: nbformat.NotebookNode) -> list[Any]:
    """What a reader sees that is not an output: prose, cell and notebook metadata."""
    cells = [
        (cell.cell_type, None if cell.cell_type == "code" else cell.source, cell_metadata(cell))
        for cell in nb.cells
        if not is_injected(cell)
    ]
    return [cells, without(nb.metadata, RUN_NOTEBOOK_METADATA)]


def executed_cell(ran: nbformat.NotebookNode, current: nbformat.NotebookNode) -> Any:
    """The executed code cell ``ran`` with the current cell's id and metadata."""
    cell = copy.deepcopy(ran)
    cell.metadata = nbformat.from_dict(
        {**current.get("metadata", {}), **{k: v for k, v in ran.metadata.items()
                                           if k in RUN_CELL_METADATA}}
    )  # fmt: skip
    if "id" in current:
        cell.id = current.id
    return cell


def normalise_ids(nb: nbformat.NotebookNode) -> None:
    """Give every cell an id if the notebook's format has them (4.5+), else drop them."""
    for cell in nb.cells:
        if nb.nbformat_minor < 5:
            cell.pop("id", None)
        elif "id" not in cell:
            cell.id = random_cell_id()


def merge_prose(
    executed: nbformat.NotebookNode, current: nbformat.NotebookNode
) -> nbformat.NotebookNode | None:
    """Return ``current`` with the outputs of ``executed``, or None if their code differs.

    The current notebook is the skeleton: its markdown and raw cells are kept as they are
    (so prose cells may be added, removed or edited), and its code cells are replaced in
    order by the executed ones, keeping the current metadata except what the run wrote.
    Papermill's injected-parameters cell is kept right after the cell it followed.
    """
    if code_cells(executed) != code_cells(current):
        return None
    queue = deque(cell for cell in executed.cells if cell.cell_type == "code")
    cells: list[Any] = []

    def take_injected() -> None:
        while queue and is_injected(queue[0]):
            cells.append(queue.popleft())

    take_injected()
    for cell in current.cells:
        if cell.cell_type == "code":
            cells.append(executed_cell(queue.popleft(), cell))
            take_injected()
        else:
            cells.append(copy.deepcopy(cell))
    merged = copy.deepcopy(executed)
    merged.cells = cells
    kept = {k: v for k, v in executed.metadata.items() if k in RUN_NOTEBOOK_METADATA}
    merged.metadata = nbformat.from_dict({**copy.deepcopy(current.metadata), **kept})
    normalise_ids(merged)
    return merged


def reuse(executed: Path, key: str, current: nbformat.NotebookNode) -> dict[str, Any] | None:
    """Return the run record of a reusable entry, its prose brought up to date; else None.

    When ``current`` differs from the executed copy only in prose or metadata, the merged
    notebook replaces the executed copy (atomically) and the record's checksum follows.
    """
    entry = load_executed(executed, key)
    if entry is None:
        return None
    try:
        ran = nbformat.reads(entry.data.decode("utf-8"), as_version=4)
    except Exception as exc:  # nbformat raises several types for a bad file
        corrupt(executed, f"cannot be read ({type(exc).__name__})")
        return None
    if presentation(ran) == presentation(current):
        return entry.record
    merged = merge_prose(ran, current)
    if merged is None:
        return None
    return store_executed(executed, nbformat.writes(merged).encode(), entry.record)
