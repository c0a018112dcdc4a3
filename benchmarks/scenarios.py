"""Every chapter's headline on every scenario of the suite (idn_core.network.suite).

Runs, per scenario, the same library calls as the chapters and as the "Across scenarios"
chapter (notebooks/09_across_scenarios.ipynb), with that chapter's suite-sized defaults:
the zoo's test accuracies on the path; chapter 2's validation-chosen policy (captured
share of the oracle's latency saving, latency ratio to cloud-only); chapter 3's gain of the
best combination of the path's models over the path's best model; chapter 4's INFIDA under
shifting demand over the offline optimum and over the static greedy; chapter 6's gain of
serving-rate exit weights over equal weights at serving split 80-15-5 (mean and sd over
seeds). Prints one line per scenario and a FINAL JSON line with the table, the wall-clock
seconds and the process's CPU seconds (single-threaded: on an idle core they agree; on a
shared machine the CPU seconds are the comparable figure).

Usage: ``.venv/bin/python benchmarks/scenarios.py [--quick]``; with an empty
``IDN_CACHE_DIR`` it measures the cold cost of the chapter (training included).
"""

from __future__ import annotations

import argparse
import json
import time

import torch

from idn_core.delivery import choose_policies, headline, prepare_delivery
from idn_core.ensembles import path_rule_gain_pp
from idn_core.federated.early_exit import (
    EarlyExitConfig,
    gain_at,
    scenario_configs,
    sweep_early_exit,
)
from idn_core.network import load_named_scenario, scenario_dataset, scenario_names
from idn_core.placement import (
    build_instance,
    compare_policies,
    make_loads,
    placement_catalogue,
    placement_topology,
)

#: The chapter's defaults (full) and its quick profile.
SETTINGS = {
    "full": {
        "num_samples": 3000,
        "n_requests": 100_000,
        "n_grid": 30,
        "n_tasks": 4,
        "horizon": 150,
        "seeds": 3,
        "rounds": 6,
        "local_steps": 8,
    },
    "quick": {
        "num_samples": 2000,
        "n_requests": 20_000,
        "n_grid": 15,
        "n_tasks": 2,
        "horizon": 60,
        "seeds": 2,
        "rounds": 2,
        "local_steps": 4,
    },
}


def delivery_row(name: str, s: dict) -> dict:
    """Zoo accuracies, chapter 2's headline and chapter 3's combination gain."""
    scenario = load_named_scenario(name, num_samples=s["num_samples"], progress=False)
    setup = prepare_delivery(scenario, n_requests=s["n_requests"], seed=0)
    head = headline(setup, choose_policies(setup, n_grid=s["n_grid"]))
    acc = scenario.test.accuracy()
    return {
        "path_test_acc": {m: round(100 * a, 2) for m, a in acc.items()},
        "captured": round(head["oracle_savings_captured"], 3),
        "latency_ratio": round(head["cascade_latency_ratio"], 3),
        "oracle_ratio": round(head["oracle_latency_ratio"], 3),
        "combination_gain_pp": round(path_rule_gain_pp(scenario), 2),
    }


def placement_row(name: str, s: dict) -> dict:
    """Chapter 4 under shifting demand: INFIDA over the optimum and over the greedy."""
    catalogue = placement_catalogue(s["n_tasks"], num_samples=s["num_samples"], scenario=name)
    inst = build_instance(placement_topology(), catalogue, alpha=100.0, slot_ms=100.0)
    demand = {"rate": 2000.0, "task_exponent": 1.5, "device_exponent": 0.8}
    loads = make_loads(inst, s["horizon"], seed=0, kind="shifting", n_phases=4, **demand)
    ratios = compare_policies(inst, loads, seed=0).ratios(0)
    return {
        "infida_over_optimum": round(float(ratios["INFIDA"]), 4),
        "infida_over_greedy": round(float(ratios["INFIDA"] / ratios["greedy (per KiB)"]), 4),
    }


def early_exit_row(name: str, s: dict) -> dict:
    """Chapter 6: serving-rate over equal exit weights at 80-15-5, mean and sd over seeds."""
    dataset = scenario_dataset(name, num_samples=s["num_samples"])
    base = EarlyExitConfig(rounds=s["rounds"], local_steps=s["local_steps"])
    configs = scenario_configs(["80-15-5"], ["equal"], ("equal", "serving"), base=base)
    table = sweep_early_exit(dataset, configs, list(range(s["seeds"])), progress=False)
    served, served_sd = gain_at(table, "served_acc", "80-15-5")
    return {"serving_gain_pp": round(served, 2), "serving_gain_sd": round(served_sd, 2)}


def scenario_table(profile: str = "full") -> dict:
    """Every scenario's headline row at the chapter's ``profile`` settings, timed."""
    torch.set_num_threads(1)
    s = SETTINGS[profile]
    final: dict = {}
    for name in scenario_names():
        t0, c0 = time.perf_counter(), time.process_time()
        row = {**delivery_row(name, s), **placement_row(name, s), **early_exit_row(name, s)}
        row["seconds"] = round(time.perf_counter() - t0, 1)
        row["cpu_seconds"] = round(time.process_time() - c0, 1)
        final[name] = row
        print(name, json.dumps(row), flush=True)
    return final


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="the chapter's quick profile")
    args = parser.parse_args()
    start = time.perf_counter()
    final = scenario_table("quick" if args.quick else "full")
    final["seconds"] = round(time.perf_counter() - start, 1)
    final["cpu_seconds"] = round(time.process_time(), 1)  # comparable on a loaded machine
    print("FINAL " + json.dumps(final))


if __name__ == "__main__":
    main()
