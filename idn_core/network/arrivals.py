"""Seeded arrival processes per device and the merged, timed request stream.

Times are in **seconds** and rates in **requests per second** throughout. Each process
draws the arrival times of one device on ``[0, duration_s)``:

* :class:`PoissonArrivals`: a homogeneous Poisson process (exponential gaps);
* :class:`OnOffArrivals`: bursty, a Poisson process whose rate switches between an "on"
  and an "off" rate after exponentially distributed periods (Markov-modulated Poisson);
* :class:`BatchArrivals`: bursty, batches arriving as a Poisson process, each holding a
  geometric number of requests (all with the batch's arrival time);
* :class:`DiurnalArrivals`: a non-homogeneous Poisson process whose rate follows a day,
  ``mean * (1 + amplitude * cos(2 pi (t - peak_s) / period_s))``, drawn by thinning
  (:func:`thinned_arrivals` does the same for any rate profile).

:func:`timed_requests` merges the devices' streams into one arrival-ordered stream and
attaches a test sample to every request: a :class:`TimedRequests`. It has the fields of
``idn_core.delivery.evaluate.RequestStream`` (``sample``, ``device``, ``devices``, ``n_samples``,
``flat``, ``counts``) and so can be passed wherever a ``RequestStream`` is expected (e.g.
to ``evaluate``), without this layer importing the delivery layer.

Examples
--------
>>> timed = timed_requests(PoissonArrivals(100.0), ("d0", "d1"), 50, 10.0, seed=0)
>>> bool((np.diff(timed.arrival_s) >= 0).all()), timed.devices
(True, ('d0', 'd1'))
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from idn_core._util.validation import (
    check_fraction,
    check_non_negative,
    check_positive,
    check_positive_int,
    check_type,
)
from idn_core.network.requests import RequestStream

Seed = int | np.random.SeedSequence | np.random.Generator | None

__all__ = [
    "ArrivalProcess",
    "BatchArrivals",
    "DiurnalArrivals",
    "OnOffArrivals",
    "PoissonArrivals",
    "TimedRequests",
    "poisson_times",
    "thinned_arrivals",
    "timed_requests",
]


class ArrivalProcess(Protocol):
    """What :func:`timed_requests` needs of an arrival process."""

    @property
    def mean_rate_per_s(self) -> float: ...

    def times(self, duration_s: float, seed: Seed = 0) -> np.ndarray: ...


def poisson_times(rate_per_s: float, duration_s: float, rng: np.random.Generator) -> np.ndarray:
    """Sorted arrival times (s) of a Poisson process of ``rate_per_s`` on ``[0, duration_s)``.

    Cumulative sums of exponential gaps, drawn in blocks until the horizon is passed.
    """
    rate = check_non_negative("rate_per_s", rate_per_s)
    duration = check_non_negative("duration_s", duration_s)
    if rate == 0 or duration == 0:
        return np.empty(0)
    chunks, last = [], 0.0
    block = int(rate * duration + 6 * np.sqrt(rate * duration) + 16)
    while last < duration:
        t = last + np.cumsum(rng.exponential(1.0 / rate, size=block))
        chunks.append(t)
        last = float(t[-1])
    times = np.concatenate(chunks)
    return times[: np.searchsorted(times, duration, side="left")]


@dataclass(frozen=True)
class PoissonArrivals:
    """A homogeneous Poisson process of ``rate_per_s`` requests per second."""

    rate_per_s: float

    def __post_init__(self) -> None:
        check_non_negative("rate_per_s", self.rate_per_s)

    @property
    def mean_rate_per_s(self) -> float:
        return float(self.rate_per_s)

    def times(self, duration_s: float, seed: Seed = 0) -> np.ndarray:
        """Sorted arrival times (s) on ``[0, duration_s)``."""
        return poisson_times(self.rate_per_s, duration_s, np.random.default_rng(seed))


@dataclass(frozen=True)
class OnOffArrivals:
    """Markov-modulated Poisson: rate ``rate_on_per_s`` during "on" periods, else ``rate_off_per_s``.

    Period lengths are exponential with means ``mean_on_s`` and ``mean_off_s``; the first
    period is "on" with its stationary probability ``mean_on / (mean_on + mean_off)``.
    """

    rate_on_per_s: float
    mean_on_s: float
    mean_off_s: float
    rate_off_per_s: float = 0.0

    def __post_init__(self) -> None:
        check_non_negative("rate_on_per_s", self.rate_on_per_s)
        check_non_negative("rate_off_per_s", self.rate_off_per_s)
        check_positive("mean_on_s", self.mean_on_s)
        check_positive("mean_off_s", self.mean_off_s)

    @property
    def mean_rate_per_s(self) -> float:
        on, off = self.mean_on_s, self.mean_off_s
        return (self.rate_on_per_s * on + self.rate_off_per_s * off) / (on + off)

    def _period_starts(self, duration_s: float, rng: np.random.Generator) -> np.ndarray:
        """Start times of alternating on, off, on, ... periods until ``duration_s`` is passed."""
        means = np.array([self.mean_on_s, self.mean_off_s])
        n = 2 * (int(duration_s / means.sum()) + 4)  # even: every block starts "on"
        starts = [0.0]
        while starts[-1] < duration_s:
            gaps = rng.exponential(1.0, n) * np.resize(means, n)
            starts.extend((starts[-1] + np.cumsum(gaps)).tolist())
        return np.asarray(starts)

    def times(self, duration_s: float, seed: Seed = 0) -> np.ndarray:
        """Sorted arrival times (s) on ``[0, duration_s)``."""
        duration = check_non_negative("duration_s", duration_s)
        rng = np.random.default_rng(seed)
        first_on = rng.random() < self.mean_on_s / (self.mean_on_s + self.mean_off_s)
        # Draw with "on" first; when the first period is "off", swap the two means.
        swapped = (
            self
            if first_on
            else OnOffArrivals(
                self.rate_off_per_s, self.mean_off_s, self.mean_on_s, self.rate_on_per_s
            )
        )
        starts = np.minimum(swapped._period_starts(duration, rng), duration)
        rates = np.resize([swapped.rate_on_per_s, swapped.rate_off_per_s], len(starts) - 1)
        lengths = np.diff(starts)
        counts = rng.poisson(rates * lengths)
        offsets = rng.random(counts.sum()) * np.repeat(lengths, counts)
        times = np.repeat(starts[:-1], counts) + offsets
        return np.sort(times[times < duration])


@dataclass(frozen=True)
class BatchArrivals:
    """Batches arrive as a Poisson process of ``batch_rate_per_s``; each holds a geometric
    number of requests on ``{1, 2, ...}`` with mean ``mean_batch_size`` (same arrival time)."""

    batch_rate_per_s: float
    mean_batch_size: float

    def __post_init__(self) -> None:
        check_non_negative("batch_rate_per_s", self.batch_rate_per_s)
        if check_positive("mean_batch_size", self.mean_batch_size) < 1:
            raise ValueError(f"mean_batch_size must be >= 1, got {self.mean_batch_size!r}")

    @property
    def mean_rate_per_s(self) -> float:
        return float(self.batch_rate_per_s * self.mean_batch_size)

    def times(self, duration_s: float, seed: Seed = 0) -> np.ndarray:
        """Sorted arrival times (s) on ``[0, duration_s)``; a batch's requests share one time."""
        rng = np.random.default_rng(seed)
        batches = poisson_times(self.batch_rate_per_s, duration_s, rng)
        sizes = rng.geometric(1.0 / self.mean_batch_size, size=len(batches))
        return np.repeat(batches, sizes)


def thinned_arrivals(
    rate_fn: Callable[[np.ndarray], np.ndarray],
    rate_max_per_s: float,
    duration_s: float,
    seed: Seed = 0,
) -> np.ndarray:
    """Sorted arrival times (s) of a non-homogeneous Poisson process, by thinning.

    Parameters
    ----------
    rate_fn : vectorised rate profile, times (s) ``(n,)`` -> rates (1/s) ``(n,)``.
    rate_max_per_s : an upper bound of ``rate_fn`` on ``[0, duration_s)``; a candidate
        where the profile exceeds it (or is negative or NaN) raises ``ValueError``.
    duration_s : horizon.
    seed : seeds the candidates and the thinning.
    """
    rng = np.random.default_rng(seed)
    bound = check_non_negative("rate_max_per_s", rate_max_per_s)
    cand = poisson_times(bound, duration_s, rng)
    rate = np.asarray(rate_fn(cand), dtype=float)
    if rate.shape != cand.shape:
        raise ValueError(f"rate_fn must return shape {cand.shape}, got {rate.shape}")
    if not (np.isfinite(rate).all() and (rate >= 0).all() and (rate <= bound).all()):
        n_nan = int(np.isnan(rate).sum())
        finite = rate[np.isfinite(rate)]
        span = f"[{finite.min()}, {finite.max()}]" if finite.size else "none finite"
        raise ValueError(
            f"rate_fn must be finite and within [0, rate_max_per_s={bound}]; its finite "
            f"values span {span}, {n_nan} NaN"
        )
    keep = rng.random(len(cand)) * bound < rate
    return cand[keep]


@dataclass(frozen=True)
class DiurnalArrivals:
    """A day-shaped rate ``mean_rate_per_s * (1 + amplitude * cos(2 pi (t - peak_s) / period_s))``.

    ``amplitude`` in ``[0, 1]`` (0: Poisson, 1: the rate touches zero at the trough).
    """

    mean_rate_per_s: float
    amplitude: float = 0.5
    period_s: float = 86_400.0
    peak_s: float = 50_400.0

    def __post_init__(self) -> None:
        check_non_negative("mean_rate_per_s", self.mean_rate_per_s)
        check_fraction("amplitude", self.amplitude)
        check_positive("period_s", self.period_s)
        check_non_negative("peak_s", self.peak_s)

    def rate(self, t_s: np.ndarray) -> np.ndarray:
        """Rate (1/s) at times ``t_s`` (s)."""
        phase = 2 * np.pi * (np.asarray(t_s, dtype=float) - self.peak_s) / self.period_s
        return self.mean_rate_per_s * (1 + self.amplitude * np.cos(phase))

    def times(self, duration_s: float, seed: Seed = 0) -> np.ndarray:
        """Sorted arrival times (s) on ``[0, duration_s)``."""
        bound = self.mean_rate_per_s * (1 + self.amplitude)
        return thinned_arrivals(self.rate, bound, duration_s, seed)


@dataclass(frozen=True)
class TimedRequests(RequestStream):
    """A :class:`~idn_core.network.requests.RequestStream` with arrival times, in arrival order.

    Attributes
    ----------
    sample, device, devices, n_samples : as in ``RequestStream`` (checked the same way).
    arrival_s : float ``(R,)``, arrival time (s) at the device, non-decreasing.
    """

    arrival_s: np.ndarray

    def __post_init__(self) -> None:
        super().__post_init__()
        arr = check_arrivals("arrival_s", self.arrival_s)
        if arr.shape != np.shape(self.sample):
            raise ValueError(
                f"arrival_s must have one entry per request: {np.shape(self.sample)[0]} "
                f"requests, got shape {arr.shape}"
            )

    @classmethod
    def from_stream(cls, stream: RequestStream, arrival_s: np.ndarray) -> TimedRequests:
        """Attach arrival times (s, non-decreasing) to ``stream``."""
        check_type("stream", stream, RequestStream)
        return cls(
            np.asarray(stream.sample, dtype=np.intp),
            np.asarray(stream.device, dtype=np.intp),
            tuple(stream.devices),
            int(stream.n_samples),
            np.asarray(arrival_s, dtype=float),
        )

    def head(self, n: int) -> TimedRequests:
        """The first ``n`` requests (a Poisson stream cut at its n-th arrival stays Poisson)."""
        check_positive_int("n", n)
        s = slice(0, n)
        return TimedRequests(
            self.sample[s], self.device[s], self.devices, self.n_samples, self.arrival_s[s]
        )


def check_arrivals(name: str, arrival_s: np.ndarray) -> np.ndarray:
    """Return ``arrival_s`` as float ``(R,)``; ``ValueError`` naming ``name`` unless it is
    finite, non-negative and sorted in non-decreasing order."""
    arr = np.asarray(arrival_s, dtype=float)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {arr.shape}")
    if not np.isfinite(arr).all():
        raise ValueError(f"{name} must be finite (no NaN or infinity)")
    if arr.size and arr[0] < 0:
        raise ValueError(f"{name} must be >= 0, got {arr[0]!r}")
    if arr.size > 1:
        drop = np.flatnonzero(arr[1:] < arr[:-1])
        if drop.size:
            i = int(drop[0]) + 1
            raise ValueError(
                f"{name} must be sorted in non-decreasing order; element {i} ({arr[i]!r}) "
                f"comes before element {i - 1} ({arr[i - 1]!r})"
            )
    return arr


def timed_requests(
    processes: ArrivalProcess | Sequence[ArrivalProcess],
    devices: Sequence[str],
    n_samples: int,
    duration_s: float,
    seed: Seed = 0,
) -> TimedRequests:
    """Merge per-device arrival streams on ``[0, duration_s)`` and attach test samples.

    Parameters
    ----------
    processes : one process for every device, or one shared by all (each device still
        draws its own independent stream).
    devices : device names ``(D,)``.
    n_samples : split size; every request draws a sample uniformly with replacement.
    duration_s : horizon (s).
    seed : device ``d`` uses child ``d`` of ``SeedSequence(seed)``, samples child ``D``.

    Ties in time are ordered by device index, then by order within the device.
    """
    devices = tuple(devices)
    if not devices:
        raise ValueError("devices must name at least one device")
    procs = list(processes) if isinstance(processes, Sequence) else [processes] * len(devices)
    if len(procs) != len(devices):
        raise ValueError(
            f"processes must be one or {len(devices)} (one per device), got {len(procs)}"
        )
    check_positive_int("n_samples", n_samples)
    check_non_negative("duration_s", duration_s)
    if isinstance(seed, np.random.Generator):
        raise TypeError("seed must be an int or SeedSequence here (devices get child seeds)")
    children = np.random.SeedSequence(seed).spawn(len(devices) + 1)
    times = [p.times(duration_s, c) for p, c in zip(procs, children, strict=False)]
    device = np.repeat(np.arange(len(devices), dtype=np.intp), [len(t) for t in times])
    all_times = np.concatenate(times) if times else np.empty(0)
    order = np.argsort(all_times, kind="stable")
    rng = np.random.default_rng(children[-1])
    sample = rng.integers(0, n_samples, size=len(order), dtype=np.intp)
    return TimedRequests(sample, device[order], devices, n_samples, all_times[order])
