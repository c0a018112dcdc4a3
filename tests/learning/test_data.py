"""Tests of idn_core.learning.data: offline datasets, seeded splits and partitions."""

import numpy as np
import pytest

from idn_core.learning import (
    load_dataset,
    partition_by_shares,
    partition_dirichlet,
    partition_iid,
    partition_quantity,
)


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("IDN_CACHE_DIR", str(tmp_path))


def test_mnist1d_splits_are_disjoint_and_sized():
    ds = load_dataset("mnist1d", num_samples=1000, seed=3)

    sizes = ds.summary()

    assert (sizes["train"], sizes["val"], sizes["test"]) == (600, 200, 200)
    assert ds.x_train.shape == (600, 40) and ds.x_train.dtype == np.float32
    rows = {r.tobytes() for r in ds.x_train} | {r.tobytes() for r in ds.x_val}
    assert not any(r.tobytes() in rows for r in ds.x_test)


def test_same_seed_same_data_other_seed_other_split():
    a = load_dataset("mnist1d", num_samples=500, seed=1)
    b = load_dataset("mnist1d", num_samples=500, seed=1)
    c = load_dataset("mnist1d", num_samples=500, seed=2)

    np.testing.assert_array_equal(a.x_train, b.x_train)
    assert not np.array_equal(a.x_train, c.x_train)


def test_generator_noise_parameter_changes_the_data():
    easy = load_dataset("mnist1d", num_samples=500, seed=0, corr_noise_scale=0.1)
    hard = load_dataset("mnist1d", num_samples=500, seed=0, corr_noise_scale=0.6)

    assert easy.config["corr_noise_scale"] == 0.1
    assert not np.allclose(easy.x_train, hard.x_train)


def test_cache_key_follows_the_scenario_defaults(monkeypatch):
    # A cached dataset must not outlive a change of the scenario's generator settings.
    import idn_core.learning.data as data

    before = load_dataset("mnist1d", num_samples=300, seed=0)
    monkeypatch.setitem(data.MNIST1D_SCENARIO, "corr_noise_scale", 0.6)
    after = load_dataset("mnist1d", num_samples=300, seed=0)

    assert after.config["corr_noise_scale"] == 0.6
    assert not np.allclose(before.x_train, after.x_train)


def test_generation_leaves_global_numpy_state_alone():
    # The MNIST-1D generator reseeds numpy's legacy global state; callers must not notice.
    np.random.seed(123)  # noqa: NPY002
    expected = np.random.rand()  # noqa: NPY002
    np.random.seed(123)  # noqa: NPY002

    load_dataset("mnist1d", num_samples=300, seed=0, corr_noise_scale=0.2)

    assert np.random.rand() == expected  # noqa: NPY002


def test_digits_loads_from_scikit_learn():
    ds = load_dataset("digits", seed=0)

    assert ds.input_length == 64 and ds.n_classes == 10
    assert ds.summary()["train"] + ds.summary()["val"] + ds.summary()["test"] == 1797
    assert ds.x_train.min() >= 0.0 and ds.x_train.max() <= 1.0


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"name": "imagenet"}, ValueError, "unknown dataset"),
        ({"name": "digits", "num_samples": 5000}, ValueError, "only 1797"),
        ({"name": "mnist1d", "num_samples": "100"}, TypeError, "num_samples"),
        ({"name": "mnist1d", "num_samples": 1000, "bogus_noise": 1.0}, TypeError, "bogus_noise"),
        (
            {"name": "mnist1d", "num_samples": 1000, "val_fraction": 0.6, "test_fraction": 0.5},
            ValueError,
            "< 1",
        ),
        ({"name": "mnist1d", "seed": 1.5}, TypeError, "seed"),
    ],
)
def test_bad_dataset_arguments_are_named(kwargs, error, match):
    name = kwargs.pop("name")
    with pytest.raises(error, match=match):
        load_dataset(name, **kwargs)


def test_iid_partition_covers_everything_once():
    parts = partition_iid(103, 4, seed=0)

    joined = np.concatenate(parts)
    assert sorted(joined.tolist()) == list(range(103))
    assert max(map(len, parts)) - min(map(len, parts)) <= 1


def test_dirichlet_small_alpha_skews_labels_more_than_large_alpha():
    labels = np.repeat(np.arange(10), 200)

    def mean_classes_per_part(alpha):
        parts = partition_dirichlet(labels, 10, alpha, seed=0)
        assert sorted(np.concatenate(parts).tolist()) == list(range(len(labels)))
        dominant = [np.bincount(labels[p], minlength=10).max() / len(p) for p in parts]
        return float(np.mean(dominant))

    assert mean_classes_per_part(0.1) > mean_classes_per_part(100.0) + 0.3


def test_quantity_partition_is_uneven_but_complete():
    parts = partition_quantity(1000, 5, concentration=0.3, seed=1, min_size=10)

    sizes = [len(p) for p in parts]
    assert sum(sizes) == 1000 and min(sizes) >= 10
    assert max(sizes) > 2 * min(sizes)


def test_partition_by_shares_follows_shares():
    parts = partition_by_shares(1000, np.array([0.5, 0.3, 0.2]), seed=0)

    assert [len(p) for p in parts] == [500, 300, 200]
    with pytest.raises(ValueError, match="sum to one"):
        partition_by_shares(1000, np.array([0.5, 0.3]))


def test_partition_errors_name_the_problem():
    with pytest.raises(ValueError, match="alpha"):
        partition_dirichlet(np.zeros(10, int), 2, alpha=-1.0)
    with pytest.raises(ValueError, match="cannot fill"):
        partition_iid(3, 5)


@pytest.mark.parametrize(
    "shares",
    [[np.nan, 1.0], [-0.5, 1.5], [0.0, 0.0], [np.inf, 1.0], [[0.5, 0.5]], []],
)
def test_partition_by_shares_rejects_garbage_shares(shares):
    # [nan, 1.0] used to return an empty part: NaN passed both the sign and the sum check.
    with pytest.raises(ValueError, match="shares"):
        partition_by_shares(100, shares)


@pytest.mark.parametrize(
    ("seed", "error"), [(-1, ValueError), ("0", TypeError), (1.5, TypeError), (True, TypeError)]
)
def test_bad_seeds_are_named(seed, error):
    for call in (
        lambda: partition_iid(100, 2, seed=seed),
        lambda: partition_by_shares(100, [0.5, 0.5], seed=seed),
        lambda: partition_quantity(100, 2, 1.0, seed=seed),
        lambda: partition_dirichlet(np.arange(100) % 3, 2, 1.0, seed=seed),
        lambda: load_dataset("digits", seed=seed),
    ):
        with pytest.raises(error, match="seed"):
            call()
