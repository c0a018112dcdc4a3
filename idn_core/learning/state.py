"""Model weights as plain arrays: what federated training ships between nodes.

A *state* is an ordered ``dict`` from parameter (or buffer) name to a numpy array, as
:meth:`torch.nn.Module.state_dict` holds them, detached. FedAvg, the early-exit rounds and
the Flower backend all move weights in this one form.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

State = dict[str, np.ndarray]
"""Model weights: parameter (and buffer) name -> array, in the module's order."""


def module_state(module: nn.Module) -> State:
    """Copy ``module``'s weights and buffers into a :data:`State` of numpy arrays."""
    if not isinstance(module, nn.Module):
        raise TypeError(f"module must be a torch.nn.Module, got {type(module).__name__}")
    return {k: v.detach().cpu().numpy().copy() for k, v in module.state_dict().items()}


def load_state(module: nn.Module, state: State) -> nn.Module:
    """Load ``state`` into ``module`` (in place, strict names and shapes); returns it."""
    if not isinstance(module, nn.Module):
        raise TypeError(f"module must be a torch.nn.Module, got {type(module).__name__}")
    if not isinstance(state, dict):
        raise TypeError(f"state must be a dict of name -> array, got {type(state).__name__}")
    module.load_state_dict({k: torch.as_tensor(np.asarray(v)) for k, v in state.items()})
    return module
