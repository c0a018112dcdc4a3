"""Graded-size torch classifiers and their measured cost profiles.

The zoo spans what an IDN's tiers can afford: a sub-1k-parameter CNN fits a
microcontroller-class device, a ~200k-parameter CNN lives in the cloud. Every
model gets a :class:`ModelProfile` (parameters, FLOPs, memory, measured CPU latency).
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn

from idn_core._util.threads import single_threaded
from idn_core._util.validation import (
    check_choice,
    check_non_negative,
    check_positive,
    check_positive_int,
    check_type,
)

#: The tiers of an IDN, from the device up: a model is built for one of them.
TIERS = ("device", "edge", "regional", "cloud")

ARCHITECTURES = ("cnn1d", "mlp")


class CNN1d(nn.Module):
    """1-D CNN: conv blocks (conv, batch norm, ReLU, optional stride) then global pooling.

    ``channels[i]`` is the width of block ``i``; blocks after the first use stride 2
    so that deeper models see longer-range shapes. ``hidden`` adds a dense layer
    before the classifier.
    """

    def __init__(
        self,
        input_length: int,
        n_classes: int,
        channels: tuple[int, ...] = (8, 12, 12),
        kernel_size: int = 5,
        hidden: int = 0,
    ) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        in_ch = 1
        for i, out_ch in enumerate(channels):
            stride = 1 if i == 0 else 2
            layers += [
                nn.Conv1d(
                    in_ch, out_ch, kernel_size, stride=stride, padding=kernel_size // 2, bias=False
                ),
                nn.BatchNorm1d(out_ch),
                nn.ReLU(),
            ]
            in_ch = out_ch
        self.features = nn.Sequential(*layers)
        head: list[nn.Module] = [nn.AdaptiveAvgPool1d(1), nn.Flatten()]
        if hidden:
            head += [nn.Linear(in_ch, hidden), nn.ReLU()]
            in_ch = hidden
        head.append(nn.Linear(in_ch, n_classes))
        self.head = nn.Sequential(*head)
        self.input_length = input_length

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits of shape ``(batch, n_classes)`` for inputs ``(batch, length)``."""
        return self.head(self.features(x.unsqueeze(1)))


class MLP(nn.Module):
    """Fully connected classifier; ``hidden=()`` is multinomial logistic regression."""

    def __init__(self, input_length: int, n_classes: int, hidden: tuple[int, ...] = (64,)) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        width = input_length
        for h in hidden:
            layers += [nn.Linear(width, h), nn.ReLU()]
            width = h
        layers.append(nn.Linear(width, n_classes))
        self.net = nn.Sequential(*layers)
        self.input_length = input_length

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits of shape ``(batch, n_classes)``."""
        return self.net(x)


@dataclass(frozen=True)
class ModelSpec:
    """Everything that determines a trained model: architecture and training recipe.

    Two specs with equal fields train to identical weights (given the data and seed),
    which is what the disk cache relies on.
    """

    name: str
    tier: str
    arch: str
    arch_kwargs: dict[str, Any] = field(default_factory=dict)
    epochs: int = 30
    batch_size: int = 128
    lr: float = 3e-3
    weight_decay: float = 1e-4
    shift_augment: int = 0

    def __post_init__(self) -> None:
        check_type("name", self.name, str)
        check_choice(f"tier of {self.name}", self.tier, TIERS)
        check_choice("architecture", self.arch, ARCHITECTURES)
        check_positive_int(f"epochs of {self.name}", self.epochs)
        check_positive_int(f"batch_size of {self.name}", self.batch_size)
        check_positive(f"lr of {self.name}", self.lr)
        check_non_negative(f"weight_decay of {self.name}", self.weight_decay)
        check_positive_int(f"shift_augment of {self.name}", self.shift_augment, minimum=0)
        check_type(f"arch_kwargs of {self.name}", self.arch_kwargs, dict)

    def build(self, input_length: int, n_classes: int) -> nn.Module:
        """Instantiate the untrained network."""
        kwargs = {k: tuple(v) if isinstance(v, list) else v for k, v in self.arch_kwargs.items()}
        cls = CNN1d if self.arch == "cnn1d" else MLP
        return cls(input_length, n_classes, **kwargs)

    def to_dict(self) -> dict[str, Any]:
        """Plain-data form, used for cache keys and tables."""
        return asdict(self)


@dataclass(frozen=True)
class ModelProfile:
    """Cost of one model: parameters, FLOPs and memory per sample, measured CPU latency."""

    params: int
    flops: int
    memory_kb: float
    cpu_latency_ms: float


def count_parameters(model: nn.Module) -> int:
    """Number of trainable parameters."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def count_flops(model: nn.Module, input_length: int) -> int:
    """Floating-point operations of one forward pass on one sample (2 per multiply-add).

    Counts convolutions and linear layers, which dominate; batch norm, ReLU and
    pooling add a few percent and are left out, as is customary.
    """
    total = 0

    def conv_hook(module: nn.Conv1d, _inputs: Any, output: torch.Tensor) -> None:
        nonlocal total
        per_output = module.in_channels // module.groups * module.kernel_size[0]
        total += 2 * per_output * output.shape[1] * output.shape[2]

    def linear_hook(module: nn.Linear, _inputs: Any, output: torch.Tensor) -> None:
        nonlocal total
        total += 2 * module.in_features * module.out_features

    handles = []
    for m in model.modules():
        if isinstance(m, nn.Conv1d):
            handles.append(m.register_forward_hook(conv_hook))
        elif isinstance(m, nn.Linear):
            handles.append(m.register_forward_hook(linear_hook))
    was_training = model.training
    model.eval()
    with torch.no_grad():
        model(torch.zeros(1, input_length))
    model.train(was_training)
    for h in handles:
        h.remove()
    return int(total)


def measure_cpu_latency_ms(model: nn.Module, input_length: int, repeats: int = 200) -> float:
    """Median wall-clock time of a batch-1 forward pass on this CPU, in milliseconds."""
    check_positive_int("repeats", repeats)
    model.eval()
    x = torch.randn(1, input_length)
    times = []
    with torch.inference_mode():
        for _ in range(10):
            model(x)
        for _ in range(repeats):
            start = time.perf_counter()
            model(x)
            times.append(time.perf_counter() - start)
    return float(np.median(times) * 1e3)


@single_threaded
def profile_model(model: nn.Module, input_length: int, repeats: int = 200) -> ModelProfile:
    """Parameters, FLOPs, memory (float32 weights and buffers) and CPU latency of ``model``."""
    n_bytes = sum(t.numel() * t.element_size() for t in [*model.parameters(), *model.buffers()])
    return ModelProfile(
        params=count_parameters(model),
        flops=count_flops(model, input_length),
        memory_kb=n_bytes / 1024,
        cpu_latency_ms=measure_cpu_latency_ms(model, input_length, repeats),
    )
