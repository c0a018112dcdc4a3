"""The model cache verifies what it loads, cleans up after killed writers, follows the
umask and never loses finished work when it cannot write (issue 15)."""

from __future__ import annotations

import os
import pathlib
import time
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch

from idn_core._util import atomic, cache, cached, load_entry
from idn_core.learning import ModelSpec, load_dataset, training

SPEC = ModelSpec("tiny", "device", "cnn1d", {"channels": [4, 8]}, epochs=1)


class Builder:
    """A build function that counts its calls and returns a 4,000-float tensor."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self) -> dict:
        self.calls += 1
        return {"w": torch.arange(4000, dtype=torch.float32)}


def entry_path(root: Path) -> Path:
    (path,) = (root / "things").glob("*.pt")
    return path


def no_warnings_load(root: Path, build: Builder) -> dict:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return cached("things", "k", build, root)


def flip_middle(path: Path, n: int = 400) -> None:
    data = bytearray(path.read_bytes())
    mid = len(data) // 2
    data[mid - n // 2 : mid + n // 2] = bytes(b ^ 0xFF for b in data[mid - n // 2 : mid + n // 2])
    path.write_bytes(bytes(data))


def test_a_verified_entry_loads_without_a_word(tmp_path):
    build = Builder()
    first = cached("things", "k", build, tmp_path)

    again = no_warnings_load(tmp_path, build)

    assert build.calls == 1
    torch.testing.assert_close(again["w"], first["w"])


@pytest.mark.parametrize(
    "damage, reason",
    [
        (flip_middle, "sha256"),
        (lambda p: p.write_bytes(p.read_bytes()[:-100]), "truncated"),
        (lambda p: torch.save({"key": "k", "payload": 1}, p), "not a cache entry"),
        (lambda p: p.write_bytes(p.read_bytes().replace(b'"k"', b'"j"', 1)), "holds key"),
    ],
    ids=["flipped-bytes", "truncated", "foreign-or-old-format", "other-key"],
)
def test_a_damaged_entry_is_reported_and_rebuilt(tmp_path, damage, reason):
    build = Builder()
    cached("things", "k", build, tmp_path)
    path = entry_path(tmp_path)
    damage(path)

    with pytest.warns(UserWarning, match=f"{path.name}.*{reason}"):
        value = cached("things", "k", build, tmp_path)

    assert build.calls == 2  # rebuilt, not loaded
    torch.testing.assert_close(value["w"], torch.arange(4000, dtype=torch.float32))
    assert no_warnings_load(tmp_path, build) is not None and build.calls == 2


def test_a_flipped_tensor_in_a_cached_model_is_retrained(tmp_path, monkeypatch):
    monkeypatch.setenv("IDN_CACHE_DIR", str(tmp_path))
    data = load_dataset("mnist1d", num_samples=600, seed=0)
    first = training.train_model(SPEC, data, seed=0, progress=False)
    (path,) = (tmp_path / "models").glob("*.pt")
    flip_middle(path)

    with pytest.warns(UserWarning, match="sha256"):
        second = training.train_model(SPEC, data, seed=0, progress=False)

    for a, b in zip(
        first.module.state_dict().values(), second.module.state_dict().values(), strict=True
    ):
        torch.testing.assert_close(a, b, rtol=0, atol=0)


def test_stale_temporaries_are_removed_and_live_ones_kept(tmp_path):
    folder = tmp_path / "things"
    folder.mkdir()
    orphan = folder / ".abc.pt.x1y2.tmp"  # left by a writer killed an hour ago
    live = folder / ".abc.pt.z3w4.tmp"  # a concurrent writer, busy now
    orphan.write_bytes(b"half")
    live.write_bytes(b"half")
    hour_ago = time.time() - 3600
    os.utime(orphan, (hour_ago, hour_ago))

    cached("things", "k", Builder(), tmp_path)

    assert not orphan.exists()
    assert live.exists()


def test_remove_stale_temporaries_checks_its_age():
    with pytest.raises(ValueError, match="max_age_s"):
        atomic.remove_stale_temporaries(Path("."), max_age_s=0)


@pytest.mark.parametrize("umask, mode", [(0o002, 0o664), (0o022, 0o644), (0o077, 0o600)])
def test_entries_follow_the_umask(tmp_path, umask, mode):
    previous = os.umask(umask)
    try:
        cached("things", "k", Builder(), tmp_path)
    finally:
        os.umask(previous)

    assert entry_path(tmp_path).stat().st_mode & 0o777 == mode


def read_only(monkeypatch) -> None:
    """Simulate a read-only cache (tests run as root, where chmod does not stop writes)."""

    def refuse(path, write):
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(cache, "atomic_write_with", refuse)


def test_a_read_only_cache_returns_the_trained_model(tmp_path, monkeypatch):
    monkeypatch.setenv("IDN_CACHE_DIR", str(tmp_path))
    data = load_dataset("mnist1d", num_samples=600, seed=0)
    read_only(monkeypatch)

    with pytest.warns(UserWarning, match="cannot write cache entry .*models.*Permission denied"):
        model = training.train_model(SPEC, data, seed=0, progress=False)

    assert model.val_accuracy > 0
    assert not (tmp_path / "models").exists()


def test_a_bad_entry_in_a_read_only_cache_is_rebuilt_in_memory(tmp_path, monkeypatch):
    build = Builder()
    cached("things", "k", build, tmp_path)
    path = entry_path(tmp_path)
    path.write_bytes(path.read_bytes()[:100])
    read_only(monkeypatch)

    def cannot_unlink(self, missing_ok=False):
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(pathlib.Path, "unlink", cannot_unlink)

    with pytest.warns(UserWarning) as record:
        value = cached("things", "k", build, tmp_path)

    messages = " | ".join(str(w.message) for w in record)
    assert "cannot delete bad cache entry" in messages
    assert "cannot write cache entry" in messages
    assert build.calls == 2
    np.testing.assert_array_equal(value["w"].numpy(), np.arange(4000, dtype=np.float32))


@pytest.mark.parametrize("kind, key", [("", "k"), ("things", "a/b"), ("things", ".."), (3, "k")])
def test_cached_rejects_bad_names(tmp_path, kind, key):
    with pytest.raises(ValueError, match="kind|key"):
        cached(kind, key, Builder(), tmp_path)


def test_load_entry_of_a_missing_file_is_silent(tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert load_entry(tmp_path / "absent.pt", "k") is None


def test_the_default_cache_lives_in_the_checkout(monkeypatch):
    """Without ``IDN_CACHE_DIR`` a checkout keeps its cache in ``.cache/idn_core`` beside its
    ``pyproject.toml`` (the README's promise), never silently in the home folder."""
    monkeypatch.delenv("IDN_CACHE_DIR", raising=False)
    checkout = Path(__file__).resolve().parents[2]
    assert (checkout / "pyproject.toml").exists()

    assert cache.default_cache_dir() == checkout / ".cache" / "idn_core"
    monkeypatch.setenv("IDN_CACHE_DIR", "/somewhere/else")
    assert cache.default_cache_dir() == Path("/somewhere/else")
