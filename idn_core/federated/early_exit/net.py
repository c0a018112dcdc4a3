"""A nested early-exit 1-D CNN and one node's local training of one exit.

The network is a chain of blocks with a classifier (an *exit*) after each block. Exit
``e`` (0-based) uses blocks ``0..e`` and its own head, so a device holding only exit 0
holds a prefix of the edge's model, which is a prefix of the cloud's (Teerapittayanon et
al. 2016; Kaplan et al. 2024). Training exit ``e`` changes only blocks ``0..e`` and head
``e``: :func:`exit_parameter_names` lists those layers, :func:`local_exit_update` returns
their change and the gradient standard deviation measured along the way (which the
variance-adjusted weighting of :mod:`idn_core.federated.early_exit.weights` needs).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from idn_core._util.threads import single_threaded
from idn_core._util.validation import check_positive, check_positive_int, check_seed
from idn_core.learning.models import count_flops
from idn_core.learning.state import State, load_state, module_state


class EarlyExitNet(nn.Module):
    """1-D CNN with one exit after each conv block (no batch norm: plain weights only).

    Parameters
    ----------
    input_length, n_classes : input samples per signal and number of classes.
    channels : width of each block; block 0 keeps the length, later blocks halve it.
    kernel_size : convolution width.
    """

    def __init__(
        self,
        input_length: int,
        n_classes: int,
        channels: tuple[int, ...] = (8, 16, 32),
        kernel_size: int = 5,
    ) -> None:
        super().__init__()
        check_positive_int("input_length", input_length)
        if len(channels) < 1:
            raise ValueError("an early-exit network needs at least one block")
        blocks, heads = [], []
        in_ch, length = 1, input_length
        for i, ch in enumerate(channels):
            stride = 1 if i == 0 else 2
            layers: list[nn.Module] = [
                nn.Conv1d(in_ch, ch, kernel_size, stride=stride, padding=kernel_size // 2),
                nn.ReLU(),
            ]
            if i == len(channels) - 1 and i > 0:  # the deepest block gets a second conv
                layers += [nn.Conv1d(ch, ch, 3, padding=1), nn.ReLU()]
            blocks.append(nn.Sequential(*layers))
            length = (length + 2 * (kernel_size // 2) - kernel_size) // stride + 1
            heads.append(nn.Sequential(nn.Flatten(), nn.Linear(ch * length, n_classes)))
            in_ch = ch
        self.blocks = nn.ModuleList(blocks)
        self.exits = nn.ModuleList(heads)
        self.input_length = input_length

    @property
    def n_exits(self) -> int:
        return len(self.blocks)

    def forward(self, x: torch.Tensor, upto: int | None = None) -> list[torch.Tensor]:
        """Logits of exits ``0..upto`` (all by default), each ``(batch, n_classes)``."""
        last = self.n_exits - 1 if upto is None else upto
        h, outs = x.unsqueeze(1), []
        for e in range(last + 1):
            h = self.blocks[e](h)
            outs.append(self.exits[e](h))
        return outs


class _ExitView(nn.Module):
    """The network truncated at one exit (for FLOP counting)."""

    def __init__(self, net: EarlyExitNet, exit_: int) -> None:
        super().__init__()
        self.net, self.exit_ = net, exit_

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = x.unsqueeze(1)
        for e in range(self.exit_ + 1):
            h = self.net.blocks[e](h)
        return self.net.exits[self.exit_](h)


def exit_flops(net: EarlyExitNet) -> np.ndarray:
    """FLOPs ``(E,)`` of one forward pass up to each exit (blocks ``0..e`` and head ``e``)."""
    return np.array([count_flops(_ExitView(net, e), net.input_length) for e in range(net.n_exits)])


def exit_parameter_names(net: EarlyExitNet, exit_: int) -> list[str]:
    """Names of the parameters that training exit ``exit_`` changes: blocks ``0..e``, head ``e``."""
    if not 0 <= exit_ < net.n_exits:
        raise ValueError(f"exit {exit_} does not exist; the network has exits 0..{net.n_exits - 1}")
    prefixes = [f"blocks.{i}." for i in range(exit_ + 1)] + [f"exits.{exit_}."]
    return [n for n, _ in net.named_parameters() if n.startswith(tuple(prefixes))]


@single_threaded
def exit_logits(net: EarlyExitNet, x: np.ndarray, batch_size: int = 4096) -> np.ndarray:
    """Logits of every exit on ``x``: float32 ``(E, N, C)``."""
    net.eval()
    chunks = []
    with torch.inference_mode():
        for start in range(0, len(x), batch_size):
            outs = net(torch.as_tensor(x[start : start + batch_size]))
            chunks.append(np.stack([o.numpy() for o in outs]))
    return np.concatenate(chunks, axis=1).astype(np.float32)


@dataclass(frozen=True)
class ExitUpdate:
    """One node's result for one exit: layer changes, data size and gradient std.

    ``delta`` maps the names of :func:`exit_parameter_names` to ``new - old`` arrays;
    ``grad_sigma`` is the root mean per-coordinate variance of the minibatch gradients
    seen during the local steps (the ``sigma_e`` of the variance-adjusted weighting).
    """

    node: int
    exit: int
    delta: State
    n_samples: int
    grad_sigma: float


@single_threaded
def local_exit_update(
    net: EarlyExitNet,
    global_state: State,
    x: np.ndarray,
    y: np.ndarray,
    *,
    node: int,
    exit_: int,
    steps: int,
    batch_size: int,
    lr: float,
    seed: int,
    momentum: float = 0.9,
) -> ExitUpdate:
    """Run ``steps`` of SGD (with ``momentum``, reset every round) on exit ``exit_``'s cross-entropy from ``global_state``.

    ``net`` is a scratch module (overwritten with ``global_state``). Only the layers up to
    the exit get gradients; the gradient variance is accumulated with a running sum of
    squares over the steps.
    """
    check_seed(seed)
    if len(y) == 0:
        raise ValueError(f"node {node} has no data and cannot train exit {exit_ + 1}")
    check_positive_int("steps (at least 2 to measure a gradient variance)", steps, minimum=2)
    check_positive_int("batch_size", batch_size)
    check_positive("lr", lr)
    load_state(net, global_state)
    names = exit_parameter_names(net, exit_)
    params = dict(net.named_parameters())
    trained = [params[n] for n in names]
    opt = torch.optim.SGD(trained, lr=lr, momentum=momentum)
    rng = np.random.default_rng(seed)
    torch.manual_seed(seed)
    xt, yt = torch.as_tensor(x), torch.as_tensor(y)
    total = torch.zeros(sum(p.numel() for p in trained), dtype=torch.float64)
    total_sq = torch.zeros_like(total)
    net.train()
    for _ in range(steps):
        idx = torch.as_tensor(rng.choice(len(y), size=min(batch_size, len(y)), replace=False))
        loss = nn.functional.cross_entropy(net(xt[idx], upto=exit_)[exit_], yt[idx])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        g = torch.cat([p.grad.reshape(-1) for p in trained]).double()
        total += g
        total_sq += g * g
        opt.step()
    mean = total / steps
    var = (total_sq / steps - mean * mean).clamp_min(0.0).mean().item()
    new = module_state(net)
    delta = {n: new[n] - np.asarray(global_state[n]) for n in names}
    return ExitUpdate(node, exit_, delta, len(y), float(np.sqrt(var)))
