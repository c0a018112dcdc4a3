"""Atomic file writes: a temporary file in the same folder, fsync, then ``os.replace``.

A reader, or a run interrupted half-way, sees either the old file or the complete new
one, never a truncated file under the final name. Used by the model cache and the book
build's executed-notebook cache.

Two details make the folder safe to share and to leave alone for months:

* the new file gets the permissions an ordinary ``open`` would give it (``0o666`` minus
  the umask), not ``mkstemp``'s private ``0o600``, so a cache shared by a group (umask
  ``002``) stays readable and replaceable by the group;
* a process killed between ``mkstemp`` and ``os.replace`` (``SIGKILL``, power loss)
  leaves its ``.<name>.<random>.tmp`` behind; every write removes such temporaries once
  they are older than :data:`STALE_TEMPORARY_S`.
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

#: Age (seconds since the last modification) after which a temporary is an orphan. A live
#: writer creates its temporary only once the content is ready and writes it at disk
#: speed (seconds for this project's entries), so its modification time stays recent;
#: only a writer stalled for this long mid-write could lose its temporary.
STALE_TEMPORARY_S = 15 * 60.0

_TEMPORARY_GLOB = ".*.tmp"


def atomic_write_with(path: Path, write: Callable[[BinaryIO], None]) -> None:
    """Create or replace ``path`` with what ``write`` puts into a binary file handle.

    The file is created with mode ``0o666 & ~umask``; stale temporaries of killed
    writers in the same folder are removed first (:func:`remove_stale_temporaries`).
    Raises ``OSError`` (e.g. ``PermissionError`` in a read-only folder) untouched.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(path.parent)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            os.chmod(tmp, 0o666 & ~current_umask())
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def remove_stale_temporaries(
    folder: Path, max_age_s: float = STALE_TEMPORARY_S, now: float | None = None
) -> list[Path]:
    """Delete ``folder``'s ``.*.tmp`` files not modified for ``max_age_s`` seconds.

    Returns the removed paths. Files that vanish meanwhile (another process cleaning up
    or finishing its write) or cannot be removed (read-only folder) are left alone.
    """
    if not isinstance(max_age_s, (int, float)) or not max_age_s > 0:
        raise ValueError(f"max_age_s must be a positive number of seconds, got {max_age_s!r}")
    now = time.time() if now is None else now
    removed = []
    for tmp in Path(folder).glob(_TEMPORARY_GLOB):
        try:
            if now - tmp.stat().st_mtime > max_age_s:
                tmp.unlink()
                removed.append(tmp)
        except OSError:
            continue
    return removed


def current_umask() -> int:
    """The process's umask, read without changing it where the OS allows (Linux)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)  # elsewhere: set and restore (not thread-safe, but brief)
    os.umask(mask)
    return mask
