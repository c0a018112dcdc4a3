"""Cache keys, run records and atomic writes for :mod:`idn_core.bookbuild`.

An executed notebook is reused when its key is unchanged. The key hashes everything that
can change its outputs: the notebook's bytes, its parameters, the profile, the bytes of
every ``idn_core/**/*.py`` and ``requirements.txt``. The key is stored in a small JSON
record beside the executed copy (``<stem>.run.json``).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from idn_core._atomic import atomic_write_with

LIBRARY_GLOB = "idn_core/**/*.py"
EXTRA_INPUTS = ("requirements.txt",)


def library_digest(root: Path) -> str:
    """Hash the library sources and pinned requirements under ``root`` (paths and bytes)."""
    digest = hashlib.sha256()
    files = sorted(root.glob(LIBRARY_GLOB)) + [root / name for name in EXTRA_INPUTS]
    for path in files:
        if "__pycache__" in path.parts or not path.is_file():
            continue
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def cache_key(notebook: bytes, parameters: dict[str, Any], profile: str, library: str) -> str:
    """Return the cache key of one notebook execution.

    Parameters
    ----------
    notebook : bytes
        The source notebook file's bytes.
    parameters : dict
        The parameters injected by papermill (JSON-serialisable).
    profile : str
        The build profile.
    library : str
        :func:`library_digest` of the repository.
    """
    digest = hashlib.sha256()
    for part in (
        hashlib.sha256(notebook).hexdigest(),
        json.dumps(parameters, sort_keys=True, default=repr),
        profile,
        library,
    ):
        digest.update(part.encode() + b"\0")
    return digest.hexdigest()


def atomic_write(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (see :mod:`idn_core._atomic`)."""
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


def write_record(executed: Path, record: dict[str, Any]) -> None:
    """Store the run record beside an executed notebook (atomically)."""
    atomic_write(record_path(executed), json.dumps(record, indent=1, sort_keys=True).encode())


def is_fresh(executed: Path, key: str) -> bool:
    """True when ``executed`` exists and was produced with ``key``."""
    record = read_record(executed)
    return executed.is_file() and record is not None and record.get("key") == key
