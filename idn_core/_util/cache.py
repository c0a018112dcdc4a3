"""A small disk cache keyed by the hash of everything that determines its content.

Entries are written atomically (temporary file in the same folder, then
``os.replace``), so an interrupted run never leaves a half-written entry under the
final name; an unreadable entry (e.g. truncated by a full disk) is detected on
load, deleted and rebuilt.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import torch

from idn_core._util.atomic import atomic_write_with

T = TypeVar("T")

#: Bump when a change of code (not of inputs) changes what cached entries contain
#: (3: training pinned to one thread, see idn_core._util.threads).
CACHE_VERSION = "3"


def default_cache_dir() -> Path:
    """``$IDN_CACHE_DIR`` if set, else ``.cache/idn_core`` in the project checkout (or home)."""
    env = os.environ.get("IDN_CACHE_DIR")
    if env:
        return Path(env)
    project = Path(__file__).resolve().parent.parent
    if (project / "pyproject.toml").exists():
        return project / ".cache" / "idn_core"
    return Path.home() / ".cache" / "idn_core"


def cache_key(*parts: Any) -> str:
    """Stable hex digest of JSON-serialisable ``parts`` (dict keys sorted)."""
    payload = json.dumps([CACHE_VERSION, torch.__version__, *parts], sort_keys=True, default=str)
    return hashlib.sha256(payload.encode()).hexdigest()[:24]


def atomic_save(obj: Any, path: Path) -> None:
    """``torch.save`` ``obj`` to ``path`` through a temporary file and an atomic rename."""
    atomic_write_with(Path(path), lambda handle: torch.save(obj, handle))


def load_entry(path: Path, key: str) -> Any | None:
    """Return the payload stored at ``path`` under ``key``, or ``None`` if missing or unreadable.

    An unreadable or mismatching file is deleted so that it gets rebuilt.
    """
    path = Path(path)
    if not path.exists():
        return None
    try:
        entry = torch.load(path, map_location="cpu", weights_only=False)
        if not isinstance(entry, dict) or entry.get("key") != key:
            raise ValueError("key mismatch")
        return entry["payload"]
    except Exception:  # truncated zip, unpickling error, foreign file: rebuild it
        path.unlink(missing_ok=True)
        return None


def cached(kind: str, key: str, build: Callable[[], T], cache_dir: Path | None = None) -> T:
    """Return the entry ``kind/key`` from the cache, building and storing it if absent.

    Pass ``cache_dir=False``-like behaviour by setting ``IDN_NO_CACHE=1`` to always rebuild.
    """
    if os.environ.get("IDN_NO_CACHE") == "1":
        return build()
    path = Path(cache_dir or default_cache_dir()) / kind / f"{key}.pt"
    payload = load_entry(path, key)
    if payload is None:
        payload = build()
        atomic_save({"key": key, "payload": payload}, path)
    return payload
