"""Tests of the disk cache and cached, seeded training."""

import numpy as np
import pytest
import torch

from idn_core._util import atomic_save, cache_key, cached, load_entry
from idn_core.learning import ModelSpec, load_dataset, training


@pytest.fixture
def cache_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("IDN_CACHE_DIR", str(tmp_path))
    return tmp_path


@pytest.fixture
def small_data(cache_dir):
    return load_dataset("mnist1d", num_samples=600, seed=0)


SPEC = ModelSpec("tiny", "device", "cnn1d", {"channels": [4, 8]}, epochs=2)


def test_cache_key_is_stable_and_sensitive():
    assert cache_key({"a": 1, "b": 2}) == cache_key({"b": 2, "a": 1})
    assert cache_key({"a": 1}) != cache_key({"a": 2})


def test_second_load_does_not_retrain(small_data, monkeypatch):
    first = training.train_model(SPEC, small_data, seed=0, progress=False)
    calls = []
    monkeypatch.setattr(training, "fit", lambda *a, **k: calls.append(1))

    second = training.train_model(SPEC, small_data, seed=0, progress=False)

    assert calls == []
    for a, b in zip(
        first.module.state_dict().values(), second.module.state_dict().values(), strict=True
    ):
        torch.testing.assert_close(a, b)


def test_same_seed_same_weights_without_cache(small_data, monkeypatch):
    monkeypatch.setenv("IDN_NO_CACHE", "1")

    a = training.train_model(SPEC, small_data, seed=5, progress=False)
    b = training.train_model(SPEC, small_data, seed=5, progress=False)
    c = training.train_model(SPEC, small_data, seed=6, progress=False)

    x = small_data.x_test
    np.testing.assert_array_equal(a.predict_logits(x), b.predict_logits(x))
    assert not np.array_equal(a.predict_logits(x), c.predict_logits(x))


def test_truncated_cache_file_is_rebuilt(small_data, cache_dir, monkeypatch):
    training.train_model(SPEC, small_data, seed=0, progress=False)
    (entry,) = (cache_dir / "models").glob("*.pt")
    entry.write_bytes(entry.read_bytes()[:100])

    with pytest.warns(UserWarning, match=f"{entry.name}.*truncated"):
        model = training.train_model(SPEC, small_data, seed=0, progress=False)

    # the rebuilt entry holds the weights of the model returned, which are the weights a
    # fresh training gives (training is seeded)
    stored = load_entry(entry, entry.stem)["state"]
    for name, tensor in model.module.state_dict().items():
        torch.testing.assert_close(stored[name], tensor, rtol=0, atol=0)
    monkeypatch.setenv("IDN_NO_CACHE", "1")
    fresh = training.train_model(SPEC, small_data, seed=0, progress=False)
    x = small_data.x_test
    np.testing.assert_array_equal(model.predict_logits(x), fresh.predict_logits(x))


def test_interrupted_write_leaves_no_entry(tmp_path):
    class Boom:
        def __reduce__(self):
            raise RuntimeError("interrupted")

    target = tmp_path / "x" / "entry.pt"
    with pytest.raises(RuntimeError, match="interrupted"):
        atomic_save({"key": "k", "payload": Boom()}, target)

    assert not target.exists()
    assert list(target.parent.iterdir()) == []


def test_cached_builds_once(tmp_path):
    calls = []

    def build():
        calls.append(1)
        return {"value": 42}

    assert cached("things", "abc", build, tmp_path) == {"value": 42}
    assert cached("things", "abc", build, tmp_path) == {"value": 42}
    assert len(calls) == 1


def test_sample_weights_and_subsets_change_the_cache_key(small_data, cache_dir):
    training.train_model(SPEC, small_data, seed=0, progress=False)
    training.train_model(SPEC, small_data, seed=0, train_indices=np.arange(200), progress=False)
    weights = np.ones(len(small_data.y_train))
    weights[:10] = 5.0
    training.train_model(SPEC, small_data, seed=0, sample_weight=weights, progress=False)

    assert len(list((cache_dir / "models").glob("*.pt"))) == 3


def test_training_errors_name_the_problem(small_data):
    with pytest.raises(ValueError, match="without data"):
        training.train_model(SPEC, small_data, train_indices=np.array([], dtype=int))
    with pytest.raises(ValueError, match="sample_weight"):
        training.train_model(SPEC, small_data, sample_weight=np.ones(3))
    with pytest.raises(ValueError, match="unknown architecture"):
        ModelSpec("x", "device", "transformer")


def test_shift_augmentation_shifts_each_row_independently():
    x = torch.arange(2000, dtype=torch.float32).reshape(200, 10)  # distinct values
    rng = np.random.default_rng(0)

    shifted = training.random_circular_shift(x, 3, rng)

    offsets = []
    for row, out in zip(x.numpy(), shifted.numpy(), strict=True):
        # each row is its own circular shift by an offset in [-3, 3], the same row's values
        matches = [s for s in range(-3, 4) if np.array_equal(out, np.roll(row, s))]
        assert len(matches) == 1, (row, out)
        offsets.append(matches[0])
    # every offset in the range occurs, drawn per row (200 rows)
    assert sorted(set(offsets)) == list(range(-3, 4))


def test_weights_do_not_depend_on_the_callers_thread_count(small_data, monkeypatch):
    monkeypatch.setenv("IDN_NO_CACHE", "1")
    spec = ModelSpec("wide", "cloud", "cnn1d", {"channels": [32, 64]}, epochs=1)
    previous = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        one = training.train_model(spec, small_data, seed=3, progress=False)
        torch.set_num_threads(2)
        two = training.train_model(spec, small_data, seed=3, progress=False)
    finally:
        torch.set_num_threads(previous)

    assert torch.get_num_threads() == previous
    for a, b in zip(
        one.module.state_dict().values(), two.module.state_dict().values(), strict=True
    ):
        torch.testing.assert_close(a, b, rtol=0, atol=0)


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, True),
        ({"IDN_PROGRESS": "0"}, False),
        ({"IDN_BOOK_BUILD": "1"}, False),
        ({"IDN_BOOK_BUILD": "0"}, True),
        ({"IDN_PROGRESS": "1", "IDN_BOOK_BUILD": "1"}, False),
    ],
)
def test_progress_bars_are_off_in_the_book_build(monkeypatch, env, expected) -> None:
    for name in ("IDN_PROGRESS", "IDN_BOOK_BUILD"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert training.progress_enabled() is expected


def test_training_in_the_book_build_prints_no_progress_bar(monkeypatch, capsys, small_data) -> None:
    monkeypatch.setenv("IDN_BOOK_BUILD", "1")
    monkeypatch.delenv("IDN_PROGRESS", raising=False)
    training.train_model(SPEC, small_data, seed=3)
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""


def test_parallel_training_gives_the_sequential_weights(small_data, tmp_path, monkeypatch):
    monkeypatch.setattr(training, "PARALLEL_MIN_COST", 0.0)
    specs = [SPEC, ModelSpec("wider", "edge", "cnn1d", {"channels": [8, 8]}, epochs=1)]

    parallel = training.train_models(
        specs, small_data, seed=2, jobs=2, cache_dir=tmp_path / "a", progress=False
    )
    sequential = training.train_models(
        specs, small_data, seed=2, jobs=1, cache_dir=tmp_path / "b", progress=False
    )

    assert list(parallel) == ["tiny", "wider"]
    assert len(list((tmp_path / "a" / "models").glob("*.pt"))) == 2
    for name in parallel:
        for a, b in zip(
            parallel[name].module.state_dict().values(),
            sequential[name].module.state_dict().values(),
            strict=True,
        ):
            torch.testing.assert_close(a, b, rtol=0, atol=0)


def test_training_jobs_reads_the_environment(monkeypatch):
    monkeypatch.delenv(training.TRAIN_JOBS_ENV, raising=False)
    assert training.training_jobs() == 1
    monkeypatch.setenv(training.TRAIN_JOBS_ENV, "2")
    assert training.training_jobs() == 2
    monkeypatch.setenv(training.TRAIN_JOBS_ENV, "two")
    with pytest.raises(ValueError, match=training.TRAIN_JOBS_ENV):
        training.training_jobs()


def test_train_models_rejects_duplicate_names(small_data):
    with pytest.raises(ValueError, match="unique"):
        training.train_models([SPEC, SPEC], small_data, jobs=1, progress=False)
