"""Benchmark of the federated chapters: FedAvg round time, serving-rate gains, delivery-aware gain.

Run: ``.venv/bin/python benchmarks/federated.py`` (about 3-4 minutes on 2 shared cores).
Prints the figures and a FINAL line holding one JSON object with

* ``round_s``: seconds per FedAvg round (10 IID clients, the 128-unit MLP, one local epoch),
  with ``central_epoch_s`` (one centralised epoch over the same data) as the baseline;
* ``serving_vs_equal_exit1_pp`` and ``served_acc_gain_pp``: exit-1 accuracy and accuracy
  over served requests of serving-rate over equal weighting at split 80-15-5, mean over
  seeds (paired), with their standard deviations;
* ``delivery_aware_gain_pp``: delivery-aware minus plain FedAvg, the cloud model's accuracy
  over the requests it serves, mean over seeds;
* ``seeds``.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import replace

import torch

from idn_core.federated import CASCADE_SPECS, delivery_study, run_fedavg
from idn_core.federated.early_exit import (
    EarlyExitConfig,
    gain_at,
    scenario_configs,
    sweep_early_exit,
)
from idn_core.learning import fit, load_dataset, partition_iid

SEEDS = (0, 1, 2)


def fedavg_round_time(dataset) -> tuple[float, float]:
    """Steady-state seconds per FedAvg round and one centralised epoch (baseline)."""
    spec = CASCADE_SPECS[1]
    parts = partition_iid(len(dataset.y_train), 10, seed=0)
    kw = {"local_epochs": 1, "seed": 0, "progress": False}
    run_fedavg(spec, dataset.x_train, dataset.y_train, parts, rounds=1, **kw)  # warm-up
    start = time.perf_counter()
    rounds = 5
    run_fedavg(spec, dataset.x_train, dataset.y_train, parts, rounds=rounds, **kw)
    round_s = (time.perf_counter() - start) / rounds
    module = spec.build(dataset.input_length, dataset.n_classes)
    start = time.perf_counter()
    fit(module, dataset.x_train, dataset.y_train, replace(spec, epochs=1), seed=0, progress=False)
    return round_s, time.perf_counter() - start


def main() -> None:
    torch.set_num_threads(1)
    os.environ.setdefault("IDN_PROGRESS", "0")
    t0 = time.perf_counter()
    dataset = load_dataset("mnist1d", seed=0)

    round_s, central_s = fedavg_round_time(dataset)
    print(
        f"FedAvg round (10 clients, MLP-128): {round_s:.3f} s; one central epoch: {central_s:.3f} s"
    )

    configs = scenario_configs(
        ["80-15-5"], ["equal"], weightings=("equal", "serving"), base=EarlyExitConfig()
    )
    table = sweep_early_exit(dataset, configs, SEEDS, progress=False)
    print(
        table[["weighting", "seed", "exit1_acc", "exit2_acc", "exit3_acc", "served_acc"]]
        .round(3)
        .to_string()
    )
    exit1, exit1_sd = gain_at(table, "exit1_acc", "80-15-5")
    served, served_sd = gain_at(table, "served_acc", "80-15-5")
    print(
        f"serving - equal at 80-15-5: exit 1 {exit1:+.2f} +- {exit1_sd:.2f} pp, served {served:+.2f} +- {served_sd:.2f} pp"
    )

    study = delivery_study(dataset, seeds=SEEDS, progress=False)
    final = study["final"].pivot(index="seed", columns="arm", values=["tier1", "tier2", "system"])
    print(study["final"].round(3).to_string())
    gains = {
        col: 100 * (final[(col, "delivery-aware")] - final[(col, "plain")])
        for col in ("tier1", "tier2", "system")
    }
    for col, g in gains.items():
        print(f"delivery-aware - plain, {col}: {g.mean():+.2f} +- {g.std():.2f} pp")

    result = {
        "round_s": round(round_s, 4),
        "central_epoch_s": round(central_s, 4),
        "serving_vs_equal_exit1_pp": round(exit1, 2),
        "serving_vs_equal_exit1_sd_pp": round(exit1_sd, 2),
        "served_acc_gain_pp": round(served, 2),
        "served_acc_gain_sd_pp": round(served_sd, 2),
        "delivery_aware_gain_pp": round(float(gains["tier2"].mean()), 2),
        "delivery_aware_gain_sd_pp": round(float(gains["tier2"].std()), 2),
        "delivery_aware_system_pp": round(float(gains["system"].mean()), 2),
        "seeds": len(SEEDS),
        "total_s": round(time.perf_counter() - t0, 1),
    }
    print("FINAL " + json.dumps(result))


if __name__ == "__main__":
    main()
