"""Tests of the outputs table and the running scenario."""

import numpy as np
import pytest

from idn_core.learning import OutputsTable, softmax
from idn_core.network import load_scenario, path_topology, tree_topology


def test_softmax_rows_sum_to_one_and_temperature_flattens():
    logits = np.array([[2.0, 0.0, -1.0]])

    sharp, flat = softmax(logits), softmax(logits, temperature=5.0)

    np.testing.assert_allclose(sharp.sum(-1), 1.0)
    assert flat.max() < sharp.max()


def test_table_accuracy_and_selection():
    probs = np.array([[[0.9, 0.1], [0.2, 0.8]], [[0.3, 0.7], [0.4, 0.6]]])
    table = OutputsTable.from_probs(("a", "b"), probs, np.array([0, 1]))

    assert table.accuracy() == {"a": 1.0, "b": 0.5}
    assert table.select(["b"]).models == ("b",)
    np.testing.assert_allclose(table.probs(), probs, atol=1e-9)


@pytest.mark.parametrize(
    ("probs", "match"),
    [
        (np.array([[[0.5, 0.6]]]), "sum to one"),
        (np.array([[[1.2, -0.2]]]), "negative"),
        (np.array([[[np.nan, 1.0]]]), "NaN"),
    ],
)
def test_bad_probabilities_are_rejected(probs, match):
    with pytest.raises(ValueError, match=match):
        OutputsTable.from_probs(("a",), probs, np.array([0]))


def test_shape_mismatches_are_named():
    with pytest.raises(ValueError, match="labels must have shape"):
        OutputsTable(("a",), np.zeros((1, 3, 2)), np.zeros(2, dtype=int))
    with pytest.raises(ValueError, match="2 model names for 1 models"):
        OutputsTable(("a", "b"), np.zeros((1, 3, 2)), np.zeros(3, dtype=int))
    with pytest.raises(KeyError, match="unknown model 'z'"):
        OutputsTable(("a",), np.zeros((1, 3, 2)), np.zeros(3, dtype=int)).index("z")


@pytest.fixture(scope="module")
def quick_scenario(tmp_path_factory):
    mp = pytest.MonkeyPatch()
    mp.setenv("IDN_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
    yield load_scenario(num_samples=600, epochs=1, progress=False)
    mp.undo()


def test_scenario_places_one_model_per_tier(quick_scenario):
    s = quick_scenario

    assert s.path_models == ("cnn-device", "cnn-edge", "cnn-cloud")
    assert s.val.split == "val" and s.test.split == "test"
    assert s.test.logits.shape == (3, len(s.dataset.y_test), 10)
    assert s.placement.models_on("edge-1") == ("cnn-edge",)


def test_scenario_latency_grows_up_the_path(quick_scenario):
    latencies = quick_scenario.path_latencies_ms()

    assert latencies.shape == (3,)
    assert np.all(np.diff(latencies) > 0)


def test_zoo_table_lists_costs(quick_scenario):
    table = quick_scenario.zoo.table()

    assert list(table.index) == ["cnn-device", "cnn-edge", "cnn-regional", "cnn-cloud"]
    assert table.params.is_monotonic_increasing
    assert (table.cpu_latency_ms > 0).all()


def test_scenario_on_other_generator_settings(quick_scenario):
    noisy = load_scenario(num_samples=600, epochs=1, progress=False, iid_noise_scale=0.05)

    assert noisy.dataset.config["iid_noise_scale"] == 0.05
    assert quick_scenario.dataset.config["iid_noise_scale"] == 0.02
    assert not np.allclose(noisy.dataset.x_train, quick_scenario.dataset.x_train)


@pytest.mark.parametrize(
    ("build", "match"),
    [
        (lambda: OutputsTable(("a",), np.zeros((1, 0, 3)), np.zeros(0, int)), "at least one"),
        (lambda: OutputsTable((), np.zeros((0, 2, 3)), np.zeros(2, int)), "at least one"),
        (lambda: OutputsTable(("a",), np.zeros((1, 2, 3)), np.array([0.0, 1.5])), "labels"),
    ],
)
def test_empty_tables_and_float_labels_are_named(build, match):
    # Zero samples used to fail with NumPy's "zero-size array to reduction operation".
    with pytest.raises((ValueError, TypeError), match=match):
        build()


@pytest.mark.parametrize("temps", [[1.0, np.nan, 1.0], [1.0, 0.0, 1.0], [1, -2, 1], [1, np.inf, 1]])
def test_probs_rejects_non_finite_or_non_positive_temperatures(temps):
    table = OutputsTable(("a", "b", "c"), np.zeros((3, 2, 2)), np.array([0, 1]))
    # [1, nan, 1] used to return NaN probabilities for model b.
    with pytest.raises(ValueError, match="temperatures must be 3 finite positive numbers"):
        table.probs(temperatures=temps)
    with pytest.raises(ValueError, match="temperature"):
        softmax(np.zeros((1, 2)), temperature=float(temps[1]))


def test_path_latencies_of_an_unknown_node_are_an_error(quick_scenario):
    # "device-99" used to give an empty array.
    with pytest.raises(ValueError, match="device 'device-99' is not a device of the scenario"):
        quick_scenario.path_latencies_ms("device-99")
    with pytest.raises(ValueError, match="device 'edge-0' is not a device"):
        quick_scenario.path_latencies_ms("edge-0")


def test_tier_summary_on_a_path_without_an_edge_names_the_missing_tier(quick_scenario):
    # A (device, cloud) path used to raise a bare IndexError.
    with pytest.raises(ValueError, match="no 'edge' node to serve the scenario's edge model"):
        quick_scenario.tier_summary(path_topology(("device", "cloud")))


def test_tier_summary_serves_each_model_at_its_own_tier(quick_scenario):
    s = quick_scenario
    deeper = tree_topology(n_edges=2, devices_per_edge=2, n_regional=1)

    base, what_if = s.tier_summary(), s.tier_summary(deeper)

    flops = s.zoo.flops()["cnn-cloud"]
    cloud = np.mean([deeper.serving_latency_ms(d, "cloud", flops) for d in deeper.devices])
    assert what_if.latency_ms.iloc[2] == pytest.approx(cloud)
    assert what_if.latency_ms.iloc[:2].tolist() == pytest.approx(base.latency_ms.iloc[:2].tolist())
