"""Tests of the zoo's architectures and their cost profiles."""

import pytest
import torch

from idn_core.learning import (
    MLP,
    CNN1d,
    ModelSpec,
    count_flops,
    count_parameters,
    profile_model,
    zoo_specs,
)


def test_logistic_regression_flops_and_params():
    model = MLP(40, 10, hidden=())

    assert count_parameters(model) == 40 * 10 + 10
    assert count_flops(model, 40) == 2 * 40 * 10


def test_cnn_flops_count_every_output_position():
    model = CNN1d(40, 10, channels=(4,), kernel_size=5)

    # conv: 4 channels x 40 positions x (1 x 5) MACs; linear: 4 x 10 MACs
    assert count_flops(model, 40) == 2 * (4 * 40 * 5) + 2 * (4 * 10)


def test_profile_reports_memory_of_weights_and_buffers():
    model = CNN1d(40, 10, channels=(4, 8))

    profile = profile_model(model, 40, repeats=5)

    n_bytes = sum(t.numel() * 4 for t in model.parameters()) + sum(
        t.numel() * t.element_size() for t in model.buffers()
    )
    assert profile.memory_kb == pytest.approx(n_bytes / 1024)
    assert profile.cpu_latency_ms > 0


@pytest.mark.parametrize("dataset", ["mnist1d", "digits"])
def test_zoo_is_graded_by_size(dataset):
    specs = zoo_specs(dataset)
    length = 40 if dataset == "mnist1d" else 64
    sizes = [count_parameters(s.build(length, 10)) for s in specs]

    assert len(specs) >= 4
    assert sizes == sorted(sizes) and len(set(sizes)) == len(sizes)
    assert [s.tier for s in specs] == ["device", "edge", "regional", "cloud"]


def test_models_map_batches_to_logits():
    for spec in zoo_specs("mnist1d", epochs=1):
        out = spec.build(40, 10)(torch.randn(3, 40))
        assert out.shape == (3, 10)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"tier": "egde"}, ValueError, "unknown tier of m 'egde'"),
        ({"lr": float("nan")}, ValueError, "lr of m"),
        ({"lr": 0.0}, ValueError, "lr of m"),
        ({"weight_decay": -1e-4}, ValueError, "weight_decay of m"),
        ({"shift_augment": -1}, ValueError, "shift_augment of m"),
        ({"arch_kwargs": [("hidden", [4])]}, TypeError, "arch_kwargs of m"),
    ],
)
def test_model_spec_validates_its_fields(kwargs, error, match):
    # tier="egde" used to be accepted, and the scenario then looked the model up by tier.
    args = {"name": "m", "tier": "edge", "arch": "mlp", **kwargs}
    with pytest.raises(error, match=match):
        ModelSpec(**args)
