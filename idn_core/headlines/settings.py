"""The suite-sized settings of the per-scenario headlines (the "Across scenarios" chapter).

One frozen record holds every knob the headlines read, with the chapter's defaults
(suite-sized: small enough that the whole suite fits in a few minutes of the book's
build) and a :meth:`SuiteSettings.quick` preset equal to the chapter's quick profile
(``notebooks/profiles.yaml``).
"""

from __future__ import annotations

from dataclasses import dataclass

from idn_core._util.validation import (
    check_fraction,
    check_positive,
    check_positive_int,
)

__all__ = ["SuiteSettings"]

#: Fields that count something (>= 1), and ``epochs`` (>= 0, 0 keeps each model's recipe).
_COUNTS = (
    "num_samples",
    "n_requests",
    "n_grid",
    "n_tasks",
    "horizon",
    "seeds",
    "rounds",
    "local_steps",
    "load_grid_steps",
)
#: Fields that are strictly positive real quantities.
_POSITIVE = ("load_factor", "load_duration_s", "deadline_ms")


@dataclass(frozen=True)
class SuiteSettings:
    """What every per-scenario headline is computed with.

    Attributes
    ----------
    num_samples : MNIST-1D signals per scenario (digits uses all its images).
    epochs : 0 keeps every model's training recipe; a positive value caps the epochs
        (quick previews).
    n_requests : test requests of the delivery set-up (serve-or-forward, load, evidence).
    n_grid : thresholds per hop of the threshold searches (families and carried evidence).
    tolerance : accuracy the chosen policies may give up against cloud-only (a fraction,
        0.005 = 0.5 pp).
    n_tasks, horizon : placement tasks and time slots (shifting demand).
    seeds, rounds, local_steps : federated early-exit runs: paired seeds, training rounds,
        SGD steps per node and round.
    load_factor : arrival rate over the reference rate at which fixed thresholds fill the
        busiest node exactly (1.2 = 20 % overload).
    load_duration_s : seconds of Poisson requests of the load comparison (test and
        validation streams each).
    load_grid_steps : device thresholds tried by the best static search under load.
    deadline_ms : every request's deadline under load (ms, from arrival at its device).
    """

    num_samples: int = 3000
    epochs: int = 0
    n_requests: int = 100_000
    n_grid: int = 30
    tolerance: float = 0.005
    n_tasks: int = 4
    horizon: int = 150
    seeds: int = 3
    rounds: int = 6
    local_steps: int = 8
    load_factor: float = 1.2
    load_duration_s: float = 2.0
    load_grid_steps: int = 12
    deadline_ms: float = 50.0

    def __post_init__(self) -> None:
        for name in _COUNTS:
            check_positive_int(name, getattr(self, name))
        check_positive_int("epochs", self.epochs, minimum=0)
        for name in _POSITIVE:
            check_positive(name, getattr(self, name))
        check_fraction("tolerance", self.tolerance, open_low=True, open_high=True)

    @classmethod
    def quick(cls) -> SuiteSettings:
        """The chapter's quick (CI) profile: tiny zoos and short runs, for previews only."""
        return cls(
            num_samples=2000,
            epochs=3,
            n_requests=20_000,
            n_grid=15,
            n_tasks=2,
            horizon=60,
            seeds=2,
            rounds=2,
            local_steps=4,
            load_duration_s=1.0,
            load_grid_steps=5,
        )
