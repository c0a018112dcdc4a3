"""Seeded request demand for the placement problem, and the per-slot simulation.

Loads are integer requests per slot and request type, shape ``(T, R)``, drawn as Poisson
counts around expected rates ``rate * p(task) * p(device)``, where task and device
popularities are Zipf laws over a random ranking:

* ``"stationary"``: fixed popularities;
* ``"shifting"``: the task ranking is redrawn at the start of each of ``n_phases`` phases;
* ``"diurnal"``: the volume follows ``1 + amplitude * sin(2 pi t / day)`` and every task
  peaks at its own hour (phase ``2 pi i / n_tasks``), so the mix changes over the day.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from idn_core._util.validation import (
    check_choice,
    check_fraction,
    check_non_negative,
    check_positive,
    check_positive_int,
    check_seed,
)
from idn_core.placement.instance import PlacementInstance, gain

DEMAND_KINDS = ("stationary", "shifting", "diurnal")


def zipf_popularity(n: int, exponent: float, rng: np.random.Generator) -> np.ndarray:
    """Zipf probabilities ``~ 1 / rank^exponent`` over ``n`` items in a random order, ``(n,)``."""
    check_positive_int("n", n)
    check_non_negative("exponent", exponent)
    p = 1.0 / np.arange(1, n + 1) ** exponent
    return (p / p.sum())[rng.permutation(n)]


def expected_rates(
    inst: PlacementInstance,
    horizon: int,
    *,
    kind: str = "stationary",
    rate: float = 1000.0,
    task_exponent: float = 1.0,
    device_exponent: float = 0.8,
    n_phases: int = 4,
    day: int = 200,
    amplitude: float = 0.6,
    seed: int = 0,
) -> np.ndarray:
    """Expected requests per slot ``(T, R)`` (see the module docstring for ``kind``).

    ``rate`` is the mean total requests per slot over all types.
    """
    check_seed(seed)
    check_choice("demand kind", kind, DEMAND_KINDS)
    T = check_positive_int("horizon", horizon)
    check_positive("rate", rate)
    check_positive_int("n_phases", n_phases)
    check_positive_int("day", day)
    check_fraction("amplitude", amplitude)
    rng = np.random.default_rng(seed)
    tasks = list(dict.fromkeys(t for t, _ in inst.types))
    devices = list(dict.fromkeys(d for _, d in inst.types))
    ti = np.array([tasks.index(t) for t, _ in inst.types])
    di = np.array([devices.index(d) for _, d in inst.types])
    p_dev = zipf_popularity(len(devices), device_exponent, rng)
    if kind == "shifting":
        phase = np.minimum(np.arange(T) * n_phases // T, n_phases - 1)
        p_tasks = np.stack(
            [zipf_popularity(len(tasks), task_exponent, rng) for _ in range(n_phases)]
        )
        p_task_t = p_tasks[phase]  # (T, n_tasks)
    else:
        p_task_t = np.broadcast_to(zipf_popularity(len(tasks), task_exponent, rng), (T, len(tasks)))
    lam = rate * p_task_t[:, ti] * p_dev[None, di]
    if kind == "diurnal":
        t = np.arange(T)[:, None]
        shift = 2 * np.pi * ti[None, :] / len(tasks)
        lam = lam * (1 + amplitude * np.sin(2 * np.pi * t / day + shift))
    return lam


def sample_loads(rates: np.ndarray, seed: int = 0) -> np.ndarray:
    """Poisson requests per slot around ``rates`` ``(T, R)``; float array of counts."""
    check_seed(seed)
    rates = np.asarray(rates, dtype=float)
    if not np.isfinite(rates).all() or (rates < 0).any():
        raise ValueError("rates must be finite and >= 0")
    return np.random.default_rng(seed).poisson(rates).astype(float)


def make_loads(
    inst: PlacementInstance, horizon: int, *, seed: int = 0, **kwargs: object
) -> np.ndarray:
    """:func:`expected_rates` then :func:`sample_loads` with the same ``seed``: ``(T, R)``."""
    check_seed(seed)
    return sample_loads(expected_rates(inst, horizon, seed=seed, **kwargs), seed=seed + 1)


class PlacementPolicy(Protocol):
    """What :func:`simulate_slots` needs from a policy."""

    name: str

    def allocation(self) -> np.ndarray: ...

    def observe(self, loads: np.ndarray) -> None: ...


@dataclass
class SimulationResult:
    """Per-slot gains (ms saved per slot) of each policy, ``(T,)`` each.

    ``fractional`` holds the relaxed gain of the fractional state for policies that have one;
    ``update_ms`` the mean wall-clock time of a policy's ``observe`` (its update).
    """

    gains: dict[str, np.ndarray] = field(default_factory=dict)
    fractional: dict[str, np.ndarray] = field(default_factory=dict)
    update_ms: dict[str, float] = field(default_factory=dict)

    def time_averaged(self, start: int = 0) -> dict[str, float]:
        """Mean gain per slot of each policy from slot ``start`` on."""
        return {k: float(v[start:].mean()) for k, v in self.gains.items()}


def simulate_slots(
    inst: PlacementInstance, loads: np.ndarray, policies: list[PlacementPolicy]
) -> SimulationResult:
    """Run every policy on ``loads`` ``(T, R)``: allocate, collect the slot's gain, observe."""
    loads = np.asarray(loads, dtype=float)
    if loads.ndim != 2:
        raise ValueError(f"loads must be (T, R), got shape {loads.shape}")
    names = [p.name for p in policies]
    if len(set(names)) != len(names):
        raise ValueError(f"policy names must be unique, got {names}")
    out = SimulationResult()
    for p in policies:
        g = np.empty(len(loads))
        fr = np.empty(len(loads)) if hasattr(p, "fractional") else None
        spent = 0.0
        for t, r in enumerate(loads):
            g[t] = gain(inst, p.allocation(), r)
            if fr is not None:
                fr[t] = gain(inst, p.fractional(), r)
            start = time.perf_counter()
            p.observe(r)
            spent += time.perf_counter() - start
        out.gains[p.name] = g
        if fr is not None:
            out.fractional[p.name] = fr
        out.update_ms[p.name] = 1e3 * spent / max(len(loads), 1)
    return out


def regret_over_time(gains: np.ndarray, best_static_gains: np.ndarray) -> np.ndarray:
    """``(T,)`` cumulative regret divided by ``t``: ``sum_{s<=t} (opt_s - gain_s) / t``."""
    diff = np.asarray(best_static_gains, float) - np.asarray(gains, float)
    return np.cumsum(diff) / np.arange(1, len(diff) + 1)
