"""Benchmark of the book build's hot paths: each new path against the old one, in the same run.

Measured in CPU seconds of this process (``time.process_time``; the machine is shared, so
wall-clock times are noisy), except the parallel zoo training, whose point is wall time:

* ``depround_*``: DepRound with the refill on an INFIDA state of the placement chapter's
  shape (8 nodes x 64 models, fixed share: every allowed entry fractional), old column sweep
  vectorised over rows against the row-by-row pairing; draws are asserted equal;
* ``infida_*``: a whole INFIDA run (the book's settings: refill, repair, fixed share) in
  ``simulate_slots``, slots per CPU second, old DepRound patched in against the new one;
  per-slot gains are asserted equal;
* ``milp_*``: the offline optimum solved, then asked for again (kept solution);
* ``zoo_*``: four zoo models trained one after the other against ``train_models(jobs=2)``
  (wall seconds; weights are asserted equal bit for bit);
* ``early_exit_*``: a sweep of federated early-exit runs of chapter 6's shape (four
  weightings, two serving splits, two seeds) into an empty model cache, then again from
  it (wall seconds; the tables are asserted equal, and equal to an uncached sweep).

Usage: ``.venv/bin/python benchmarks/build.py [--quick]``. Prints a table and a FINAL JSON line.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch
from measure import reference

from idn_core.federated.early_exit import EarlyExitConfig, scenario_configs, sweep_early_exit
from idn_core.learning import load_dataset, train_models, zoo_specs
from idn_core.placement import (
    CatalogueModel,
    build_instance,
    depround,
    infida,
    infida_policy,
    make_loads,
    optimal_static,
    placement_topology,
    simulate_slots,
)

# KiB, FLOPs and test accuracy of the book's two zoos (MNIST-1D CNNs, digits MLPs).
ZOOS = {
    "mnist1d": [
        (1.4, 2.6e3, 0.83),
        (58.5, 2.3e5, 0.987),
        (140.0, 6.0e5, 0.988),
        (877.0, 4e6, 0.99),
    ],
    "digits": [(2.6, 1.3e3, 0.93), (4.4, 2.2e3, 0.95), (17.0, 8.5e3, 0.97), (140.0, 7e4, 0.98)],
}
TIERS = ("device", "edge", "regional", "cloud")
ROOT = Path(__file__).resolve().parents[1]
DEMAND = {"rate": 2000.0, "task_exponent": 1.5, "device_exponent": 0.8}


def catalogue(n_tasks: int) -> list[CatalogueModel]:
    """The placement chapter's catalogue shape: tasks alternating between the two zoos."""
    out = []
    for i in range(n_tasks):
        name = ("mnist1d", "digits")[i % 2]
        task = f"{name}-{i // 2 + 1}"
        for tier, (kb, flops, acc) in zip(TIERS, ZOOS[name], strict=True):
            out.append(CatalogueModel(f"{task}:{tier}", task, kb, int(flops), acc))
    return out


def old_depround():
    """DepRound as it was (a column sweep), kept with the tests as their reference."""
    return reference("reference_depround").column_sweep_depround


def cpu(fn, *args, **kwargs):
    """(result, CPU seconds) of ``fn(*args, **kwargs)``."""
    start = time.process_time()
    out = fn(*args, **kwargs)
    return out, time.process_time() - start


def bench_depround(inst, y, n: int) -> dict[str, float]:
    s, b, sweep = inst.sizes_kb, inst.budgets_kb, old_depround()
    old, t_old = cpu(
        lambda: [sweep(y, s, b, np.random.default_rng(i), fill=True) for i in range(n)]
    )
    new, t_new = cpu(
        lambda: [depround(y, s, b, np.random.default_rng(i), fill=True) for i in range(n)]
    )
    assert all(np.array_equal(p, q) for p, q in zip(old, new, strict=True)), "DepRound draws differ"
    return {"depround_old_per_s": n / t_old, "depround_new_per_s": n / t_new}


def run_infida(inst, loads):
    policy = infida_policy(inst, len(loads), float(loads.max()), seed=0)
    return simulate_slots(inst, loads, [policy]).gains[policy.name], policy.y


def bench_infida(inst, loads) -> tuple[dict[str, float], np.ndarray]:
    new_depround = infida.depround
    infida.depround = old_depround()
    try:
        (g_old, _), t_old = cpu(run_infida, inst, loads)
    finally:
        infida.depround = new_depround
    (g_new, y), t_new = cpu(run_infida, inst, loads)
    assert np.array_equal(g_old, g_new), "INFIDA gains differ"
    T = len(loads)
    return {"infida_old_slots_per_s": T / t_old, "infida_new_slots_per_s": T / t_new}, y


def bench_milp(inst, loads) -> dict[str, float]:
    first, t_first = cpu(optimal_static, inst, loads)
    again, t_again = cpu(optimal_static, inst, loads)
    assert np.array_equal(first.x, again.x)
    return {"milp_first_cpu_s": t_first, "milp_again_cpu_s": t_again}


def bench_zoo(num_samples: int, epochs: int) -> dict[str, float]:
    data = load_dataset("mnist1d", num_samples=num_samples, seed=0)
    specs = [replace(s, epochs=epochs) for s in zoo_specs("mnist1d")]
    walls, models = {}, {}
    with tempfile.TemporaryDirectory() as tmp:
        for jobs in (1, 2):
            start = time.perf_counter()
            models[jobs] = train_models(specs, data, 0, jobs=jobs, cache_dir=Path(tmp) / str(jobs))
            walls[jobs] = time.perf_counter() - start
    for name in models[1]:
        for a, b in zip(
            models[1][name].module.state_dict().values(),
            models[2][name].module.state_dict().values(),
            strict=True,
        ):
            assert torch.equal(a, b), f"{name}: weights differ"
    return {"zoo_sequential_wall_s": walls[1], "zoo_jobs2_wall_s": walls[2]}


def bench_early_exit(num_samples: int, rounds: int, local_steps: int) -> dict[str, float]:
    data = load_dataset("mnist1d", num_samples=num_samples, seed=0)
    base = EarlyExitConfig(rounds=rounds, local_steps=local_steps)
    configs = scenario_configs(["80-15-5", "5-15-80"], ["equal"], base=base)
    seeds = [0, 1]
    walls, tables = {}, {}
    with tempfile.TemporaryDirectory() as tmp, _cache_dir(tmp):
        for name in ("cold", "cached"):
            start = time.perf_counter()
            tables[name] = sweep_early_exit(data, configs, seeds, progress=False)
            walls[name] = time.perf_counter() - start
        runs = len(list(Path(tmp, "early_exit").glob("*.pt")))
    plain = sweep_early_exit(data, configs, seeds, progress=False, cache=False)
    for name in ("cached", "cold"):
        assert tables[name].equals(plain), f"{name} early-exit sweep differs from the uncached one"
    return {
        "early_exit_cold_wall_s": walls["cold"],
        "early_exit_cached_wall_s": walls["cached"],
        "early_exit_runs": runs,
    }


@contextlib.contextmanager
def _cache_dir(path: str):
    """Point ``IDN_CACHE_DIR`` at ``path`` for the duration."""
    before = os.environ.get("IDN_CACHE_DIR")
    os.environ["IDN_CACHE_DIR"] = path
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("IDN_CACHE_DIR", None)
        else:
            os.environ["IDN_CACHE_DIR"] = before


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes (a smoke run)")
    args = parser.parse_args()
    T = 100 if args.quick else 400
    torch.set_num_threads(1)
    inst = build_instance(placement_topology(), catalogue(16), alpha=100.0, slot_ms=100.0)
    loads = make_loads(inst, T, seed=0, **DEMAND)
    t0 = time.perf_counter()
    results, y = bench_infida(inst, loads)
    results |= bench_depround(inst, y, 50 if args.quick else 300)
    results |= bench_milp(inst, loads)
    results |= bench_zoo(2000 if args.quick else 6000, 1 if args.quick else 3)
    results |= bench_early_exit(
        2000 if args.quick else 6000, 3 if args.quick else 10, 4 if args.quick else 10
    )
    for key, unit in (("depround", "per_s"), ("infida", "slots_per_s")):
        results[f"{key}_speedup"] = results[f"{key}_new_{unit}"] / results[f"{key}_old_{unit}"]
    results["zoo_speedup"] = results["zoo_sequential_wall_s"] / results["zoo_jobs2_wall_s"]
    results["early_exit_speedup"] = (
        results["early_exit_cold_wall_s"] / results["early_exit_cached_wall_s"]
    )
    for key, value in results.items():
        print(f"{key:>28}: {value:10.3f}")
    final = {k: round(v, 3) for k, v in results.items()}
    final |= {"shape": list(inst.shape), "horizon": T, "quick": args.quick,
              "total_s": round(time.perf_counter() - t0, 1)}  # fmt: skip
    print("FINAL " + json.dumps(final))


if __name__ == "__main__":
    main()
