"""Model weights as plain arrays: a round trip is exact and copies are independent."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from idn_core.learning import ModelSpec, load_state, module_state


def small_module() -> torch.nn.Module:
    torch.manual_seed(0)
    return ModelSpec("mlp", "edge", "mlp", {"hidden": [8]}).build(40, 10)


def test_round_trip_is_exact_and_keeps_names_in_order() -> None:
    source, target = small_module(), small_module()
    with torch.no_grad():
        for p in target.parameters():
            p.add_(1.0)
    state = module_state(source)
    load_state(target, state)
    back = module_state(target)
    assert list(back) == list(source.state_dict())
    for name, array in state.items():
        np.testing.assert_array_equal(back[name], array)
        assert back[name].dtype == array.dtype


def test_state_is_a_copy_not_a_view() -> None:
    module = small_module()
    state = module_state(module)
    name = next(iter(state))
    before = state[name].copy()
    with torch.no_grad():
        next(iter(module.parameters())).add_(5.0)
    np.testing.assert_array_equal(state[name], before)


def test_bad_arguments_name_themselves() -> None:
    with pytest.raises(TypeError, match="module"):
        module_state({"w": np.zeros(2)})
    with pytest.raises(TypeError, match="state"):
        load_state(small_module(), [np.zeros(2)])
    with pytest.raises(RuntimeError):  # strict names: a foreign state does not load
        load_state(small_module(), {"w": np.zeros(2)})
