"""The configuration of a federated early-exit run: one frozen record, checked when built.

Every field is validated in ``__post_init__``, so a bad value is refused where it is
written, not several rounds later by whichever step first uses it.
"""

from __future__ import annotations

from dataclasses import dataclass

from idn_core._util.validation import (
    as_float_array,
    check_choice,
    check_fraction,
    check_positive,
    check_positive_int,
    check_shares,
)
from idn_core.federated.early_exit.weights import EXIT_WEIGHTINGS, check_serving_split

#: Each node trains only its deepest exit.
DEEPEST_ONLY = ((1.0, 0.0, 0.0), (0.0, 1.0, 0.0), (0.0, 0.0, 1.0))
#: Edges also train exit 1 with probability 0.4, the cloud exits 1-2 with probability 0.8.
LOWER_EXITS = ((1.0, 0.0, 0.0), (0.4, 1.0, 0.0), (0.8, 0.8, 1.0))


@dataclass(frozen=True)
class EarlyExitConfig:
    """One federated early-exit experiment (defaults: the 7-node tree, split 80-15-5).

    Attributes
    ----------
    serving_split : share of requests answered at depth (device, edge, cloud); sums to one.
    weighting : lambda-tilde rule, one of :data:`idn_core.federated.early_exit.weights.EXIT_WEIGHTINGS`.
    data_split : share of the training data at each depth, spread evenly over its nodes.
    label_skew_alpha : Dirichlet label skew across nodes (random sizes); ``None`` = IID.
    participation : per depth, the probability of training each exit in a round.
    rounds, local_steps, batch_size, lr, momentum : rounds, SGD steps per node and exit
        per round (the same for every node: local epochs rescaled by data size), minibatch
        size, learning rate and momentum (reset every round).
    server_lr : scale of the aggregated update.
    channels : widths of the three blocks.
    """

    serving_split: tuple[float, ...] = (0.8, 0.15, 0.05)
    weighting: str = "serving"
    data_split: tuple[float, ...] = (4 / 7, 2 / 7, 1 / 7)
    label_skew_alpha: float | None = None
    participation: tuple[tuple[float, ...], ...] = DEEPEST_ONLY
    rounds: int = 30
    local_steps: int = 20
    batch_size: int = 32
    lr: float = 0.1
    momentum: float = 0.9
    server_lr: float = 1.0
    channels: tuple[int, ...] = (8, 16, 32)

    def __post_init__(self) -> None:
        self._check_channels()
        n_exits = len(self.channels)
        check_serving_split(self.serving_split, n_exits)
        check_choice("weighting", self.weighting, EXIT_WEIGHTINGS)
        check_shares("data_split", self.data_split, n_exits)
        if self.label_skew_alpha is not None:
            check_positive("label_skew_alpha", self.label_skew_alpha)
        self._check_participation()
        check_positive_int("rounds", self.rounds)
        check_positive_int("local_steps", self.local_steps, minimum=2)
        check_positive_int("batch_size", self.batch_size)
        check_positive("lr", self.lr)
        check_fraction("momentum", self.momentum, open_high=True)
        check_positive("server_lr", self.server_lr)

    def _check_channels(self) -> None:
        """``channels``: a non-empty tuple of positive block widths."""
        if isinstance(self.channels, str) or not isinstance(self.channels, tuple | list):
            raise TypeError(f"channels must be a tuple of block widths, got {self.channels!r}")
        if not self.channels:
            raise ValueError("channels: an early-exit network needs at least one block")
        for width in self.channels:
            check_positive_int("channels (block width)", width)

    def _check_participation(self) -> None:
        """``participation``: one row of per-exit probabilities in [0, 1] per depth."""
        n = len(self.channels)
        rows = as_float_array("participation", self.participation)
        if rows.shape != (n, n):
            raise ValueError(
                f"participation must be {n} rows (depths) of {n} per-exit probabilities, "
                f"got shape {rows.shape}"
            )
        for d, row in enumerate(rows):
            for e, q in enumerate(row):
                check_fraction(f"participation[{d}][{e}] (depth {d}, exit {e + 1})", float(q))

    def label(self) -> str:
        """Short description for tables and legends."""
        split = "-".join(f"{100 * s:.0f}" for s in self.serving_split)
        return f"{self.weighting} @ {split}"
