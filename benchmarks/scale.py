"""Benchmark of the Flower backend: overhead against the in-process loop, equivalence, 100 clients.

Run: ``.venv/bin/python benchmarks/scale.py`` (about 2-3 minutes on 2 shared cores; Ray
runs locally with 2 CPUs and one CPU per client, so two clients train at once).
Prints the figures and a FINAL line holding one JSON object with

* ``inprocess_round_s`` / ``flower_round_s``: steady-state seconds per FedAvg round (10
  IID clients, the 128-unit MLP of ``benchmarks/federated.py``, one local epoch; the
  first round is excluded), ``flower_over_inprocess`` their ratio, ``flower_startup_s``
  (Ray start-up, actors, node discovery) and ``flower_teardown_s``;
* ``plain_flower_round_s``: the same round with Flower's built-in ``FedAvg`` strategy and a
  plain ClientApp (the engine's own overhead, for reference), and
  ``flower_client_s_per_round`` (time clients spent in their own code, summed);
* ``max_abs_weight_diff``: largest absolute difference between the two backends' global
  weights after the same rounds (same seed), and both final test accuracies;
* ``clients100_round_s``: steady-state round of 100 virtual clients on Flower (a
  1-9-90 cloud-edge-device tree, Dirichlet(0.5) non-IID MNIST-1D, the early-exit
  network, serving-rate weighting), with ``clients100_inprocess_round_s`` as baseline
  and the served accuracy after those few rounds.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import replace

import numpy as np
import torch

from idn_core.federated import CASCADE_SPECS, backend_config, run_fedavg
from idn_core.federated.early_exit import EarlyExitConfig, evaluate_serving, run_early_exit
from idn_core.federated.flower_engine import (
    flwr_modules,
    get_payload,
    put_payload,
    run_simulation,
    start_ray,
)
from idn_core.learning import fit, load_dataset, partition_iid
from idn_core.network import tree_topology

FEDAVG_ROUNDS = 12
EXIT_ROUNDS = 5


def steady(round_s: list[float]) -> float:
    """Mean seconds per round without the first (warm-up) round."""
    return float(np.mean(round_s[1:]))


def plain_flower_round_s(spec, dataset, parts, rounds: int, config: dict) -> float:
    """Steady seconds per round of Flower's own ``FedAvg`` strategy with a plain ClientApp.

    The reference overhead: same local training (:func:`idn_core.learning.fit`, one epoch), same
    engine and resources, but Flower's built-in strategy (random node sampling, its own
    aggregation); only the round time is kept.
    """
    mods = flwr_modules()
    app = mods["app"]
    start_ray(config)
    ref = put_payload((dataset.x_train, dataset.y_train, parts))
    client_app = mods["clientapp"].ClientApp()

    @client_app.train()
    def train(msg, context):
        torch.set_num_threads(1)
        x, y, part = get_payload(ref)
        idx = part[int(context.node_config["partition-id"])]
        model = spec.build(x.shape[1], dataset.n_classes)
        model.load_state_dict(msg.content["arrays"].to_torch_state_dict())
        fit(model, x[idx], y[idx], replace(spec, epochs=1), seed=0, progress=False)
        reply = {
            "arrays": app.ArrayRecord(model.state_dict()),
            "metrics": app.MetricRecord({"num-examples": len(idx)}),
        }
        return app.Message(app.RecordDict(reply), reply_to=msg)

    marks: list[float] = []

    def server_main(grid, context) -> None:
        strategy = mods["strategy"].FedAvg(
            fraction_train=1.0, fraction_evaluate=0.0, min_available_nodes=len(parts)
        )
        init = app.ArrayRecord(spec.build(dataset.input_length, dataset.n_classes).state_dict())
        strategy.start(
            grid,
            init,
            num_rounds=rounds,
            evaluate_fn=lambda r, a: marks.append(time.perf_counter()),
        )

    run_simulation(server_main, client_app, len(parts), config)
    return steady(list(np.diff(marks)))


def accuracy(result, dataset) -> float:
    return float((result.predict_logits(dataset.x_test).argmax(1) == dataset.y_test).mean())


def main() -> None:
    torch.set_num_threads(1)
    os.environ.setdefault("IDN_PROGRESS", "0")
    t0 = time.perf_counter()
    dataset = load_dataset("mnist1d", seed=0)
    config = backend_config(num_cpus=2, cpus_per_client=1.0)

    spec = CASCADE_SPECS[1]
    parts = partition_iid(len(dataset.y_train), 10, seed=0)
    kw = {"rounds": FEDAVG_ROUNDS, "local_epochs": 1, "seed": 0, "progress": False}
    inproc = run_fedavg(spec, dataset.x_train, dataset.y_train, parts, **kw)
    start = time.perf_counter()
    flower = run_fedavg(
        spec, dataset.x_train, dataset.y_train, parts, backend="flower", backend_config=config, **kw
    )
    flower_total = time.perf_counter() - start
    diff = max(float(np.abs(inproc.state[k] - flower.state[k]).max()) for k in inproc.state)
    in_round, fl_round = steady(inproc.timings["round_s"]), steady(flower.timings["round_s"])
    print(
        f"FedAvg, 10 clients, {FEDAVG_ROUNDS} rounds: in-process {in_round:.3f} s/round, "
        f"Flower {fl_round:.3f} s/round (x{fl_round / in_round:.2f}); Flower start-up "
        f"{flower.timings['startup_s']:.1f} s, teardown {flower.timings['teardown_s']:.1f} s, "
        f"total {flower_total:.1f} s"
    )
    plain = plain_flower_round_s(spec, dataset, parts, FEDAVG_ROUNDS, config)
    print(
        f"plain Flower FedAvg strategy (reference): {plain:.3f} s/round (x{plain / in_round:.2f})"
    )
    acc_in, acc_fl = accuracy(inproc, dataset), accuracy(flower, dataset)
    print(f"max |weight difference| {diff:.2e}; test accuracy {acc_in:.4f} vs {acc_fl:.4f}")

    topology = tree_topology(n_edges=9, devices_per_edge=10)  # 1 + 9 + 90 = 100 nodes
    exit_cfg = replace(
        EarlyExitConfig(), weighting="serving", label_skew_alpha=0.5, rounds=EXIT_ROUNDS
    )
    ekw = {"seed": 0, "topology": topology, "progress": False}
    big = run_early_exit(dataset, exit_cfg, backend="flower", backend_config=config, **ekw)
    small_cfg = replace(exit_cfg, rounds=2)
    base = run_early_exit(dataset, small_cfg, **ekw)
    c100, c100_in = steady(big.timings["round_s"]), steady(base.timings["round_s"])
    served = evaluate_serving(
        big.logits(dataset.x_test), dataset.y_test, exit_cfg.serving_split, topology
    )["served_acc"]
    print(
        f"100 clients (early exits, Dirichlet 0.5, serving weighting): Flower {c100:.2f} s/round "
        f"(start-up {big.timings['startup_s']:.1f} s), in-process {c100_in:.2f} s/round; "
        f"served accuracy after {EXIT_ROUNDS} rounds {served:.3f}"
    )

    result = {
        "inprocess_round_s": round(in_round, 4),
        "flower_round_s": round(fl_round, 4),
        "flower_over_inprocess": round(fl_round / in_round, 2),
        "plain_flower_round_s": round(plain, 4),
        "plain_flower_over_inprocess": round(plain / in_round, 2),
        "flower_client_s_per_round": round(steady(flower.timings["client_s"]), 4),
        "flower_startup_s": round(flower.timings["startup_s"], 2),
        "flower_teardown_s": round(flower.timings["teardown_s"], 2),
        "max_abs_weight_diff": diff,
        "inprocess_test_acc": round(acc_in, 4),
        "flower_test_acc": round(acc_fl, 4),
        "clients100_round_s": round(c100, 3),
        "clients100_inprocess_round_s": round(c100_in, 3),
        "clients100_startup_s": round(big.timings["startup_s"], 2),
        "clients100_served_acc": round(served, 4),
        "fedavg_rounds": FEDAVG_ROUNDS,
        "clients100_rounds": EXIT_ROUNDS,
        "total_s": round(time.perf_counter() - t0, 1),
    }
    print("FINAL " + json.dumps(result))


if __name__ == "__main__":
    main()
