"""A small disk cache keyed by the hash of everything that determines its content.

An entry is a file ``<kind>/<key>.pt`` holding a short header (the key, and the size
and sha256 of the payload) followed by the payload serialized with ``torch.save``.
Entries are written atomically (temporary file in the same folder, then
``os.replace``, see :mod:`idn_core._util.atomic`), so an interrupted run never leaves a
half-written entry under the final name. On load the checksum is verified: an entry
that is truncated, corrupted on disk (a flipped byte in a tensor would otherwise load
silently), foreign or unreadable is reported with a warning, deleted and rebuilt.

The cache never loses finished work: if an entry cannot be written (read-only
``IDN_CACHE_DIR``, full disk) or a bad one cannot be deleted, a warning says so and the
freshly built result is returned. ``IDN_CACHE_DIR`` moves the cache; ``IDN_NO_CACHE=1``
bypasses it.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import torch

from idn_core._util.atomic import atomic_write_with

T = TypeVar("T")

#: Bump when a change of code (not of inputs) changes what cached entries contain
#: (3: training pinned to one thread, see idn_core._util.threads; 4: entries start with a
#: header carrying the payload's sha256, so version-3 files would not verify).
CACHE_VERSION = "4"

#: First bytes of every entry file (format of the header that follows).
ENTRY_MAGIC = b"IDN-CACHE-ENTRY 1\n"


class _UnusableEntry(Exception):
    """An entry file that must not be used; the message says why."""


def default_cache_dir() -> Path:
    """``$IDN_CACHE_DIR`` if set, else ``.cache/idn_core`` in the project checkout (or home)."""
    env = os.environ.get("IDN_CACHE_DIR")
    if env:
        return Path(env)
    project = Path(__file__).resolve().parents[2]  # idn_core/_util/cache.py -> the checkout
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


def save_entry(path: Path, key: str, payload: Any) -> None:
    """Write ``payload`` under ``key`` to ``path`` atomically, with its size and sha256.

    Raises ``OSError`` if the file cannot be written (the caller decides what to do).
    """
    buffer = io.BytesIO()
    torch.save(payload, buffer)
    blob = buffer.getbuffer()
    header = {"key": key, "size": len(blob), "sha256": hashlib.sha256(blob).hexdigest()}

    def write(handle: Any) -> None:
        handle.write(ENTRY_MAGIC)
        handle.write(json.dumps(header).encode() + b"\n")
        handle.write(blob)

    atomic_write_with(Path(path), write)


def load_entry(path: Path, key: str) -> Any | None:
    """Return the payload stored at ``path`` under ``key``, or ``None`` if it must be built.

    ``None`` without a word if the file does not exist; otherwise an entry that does not
    verify (wrong format or key, truncated, checksum mismatch, unpicklable) is reported
    with a warning naming the file and deleted so that it gets rebuilt.
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as err:
        warnings.warn(f"cannot read cache entry {path} ({err}); rebuilding it", stacklevel=2)
        return None
    try:
        return _decode_entry(data, key)
    except _UnusableEntry as err:
        warnings.warn(f"cache entry {path} {err}; deleting and rebuilding it", stacklevel=2)
        _discard(path)
        return None


def _decode_entry(data: bytes, key: str) -> Any:
    """The payload of an entry file's bytes; raises :class:`_UnusableEntry` saying why not."""
    if not data.startswith(ENTRY_MAGIC):
        raise _UnusableEntry("is not a cache entry of this format (foreign or older file)")
    end = data.find(b"\n", len(ENTRY_MAGIC))
    if end < 0:
        raise _UnusableEntry("is truncated (inside its header)")
    try:
        header = json.loads(data[len(ENTRY_MAGIC) : end])
        stored_key, size, digest = header["key"], int(header["size"]), str(header["sha256"])
    except (ValueError, TypeError, KeyError) as err:
        raise _UnusableEntry(f"has an unreadable header ({err!r})") from None
    if stored_key != key:
        raise _UnusableEntry(f"holds key {stored_key!r}, not {key!r}")
    blob = memoryview(data)[end + 1 :]
    if len(blob) != size:
        raise _UnusableEntry(f"is truncated ({len(blob)} of {size} payload bytes)")
    if hashlib.sha256(blob).hexdigest() != digest:
        raise _UnusableEntry("fails its sha256 checksum (corrupted on disk)")
    try:
        return torch.load(io.BytesIO(blob), map_location="cpu", weights_only=False)
    except Exception as err:  # verified bytes that still do not unpickle (e.g. a moved class)
        raise _UnusableEntry(f"cannot be unpickled ({err!r})") from None


def _discard(path: Path) -> None:
    """Delete a bad entry; in a read-only cache, warn instead of failing."""
    try:
        path.unlink(missing_ok=True)
    except OSError as err:
        warnings.warn(
            f"cannot delete bad cache entry {path} ({err}); it will be rebuilt in memory "
            "on every run until it is removed",
            stacklevel=3,
        )


def cached(kind: str, key: str, build: Callable[[], T], cache_dir: Path | None = None) -> T:
    """Return the entry ``kind/key`` from the cache, building and storing it if absent.

    Set ``IDN_NO_CACHE=1`` to always rebuild (nothing read or written). If the entry
    cannot be stored (read-only cache, full disk), a warning says so and the built
    result is returned anyway.
    """
    for name, value in (("kind", kind), ("key", key)):
        if not isinstance(value, str) or not value or "/" in value or value.startswith("."):
            raise ValueError(f"{name} must be a non-empty file name, got {value!r}")
    if not callable(build):
        raise TypeError(f"build must be callable, got {type(build).__name__}")
    if os.environ.get("IDN_NO_CACHE") == "1":
        return build()
    path = Path(cache_dir or default_cache_dir()) / kind / f"{key}.pt"
    payload = load_entry(path, key)
    if payload is None:
        payload = build()
        _store(path, key, payload)
    return payload


def _store(path: Path, key: str, payload: Any) -> None:
    """Save an entry; if the cache cannot be written, warn and keep the result in memory."""
    try:
        save_entry(path, key, payload)
    except OSError as err:
        warnings.warn(
            f"cannot write cache entry {path} ({err}); using the result without caching it "
            "(make IDN_CACHE_DIR writable, point it elsewhere, or set IDN_NO_CACHE=1)",
            stacklevel=3,
        )
