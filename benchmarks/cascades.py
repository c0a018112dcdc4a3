"""Benchmark of chapter 2: speed of the vectorised evaluator and the cascade's oracle gap.

Runs on the book's scenario at chapter 2's full defaults (MNIST-1D, 20k samples, the
cached zoo; device-edge-cloud tree) with 1,000,000 seeded test requests. Every policy
choice (score, calibration, learned rule or gain-aware alpha, thresholds) is made on the
validation split; all reported accuracies and latencies are the test split's.
Prints tables and a FINAL line holding one JSON object with

* ``decisions_per_s``: requests evaluated per second by the vectorised evaluator for a
  3-tier threshold cascade (decision + per-request outcome record), median of 5 runs;
* ``loop_decisions_per_s`` and ``speedup_vs_loop``: the plain per-request reference of
  ``tests/reference_delivery.py`` on the same requests (``loop_requests`` of them),
  ``outcomes_equal`` checking identical per-request outcomes (latencies included);
* ``sweep_100x100_s``: exact metrics of a 100 x 100 (device, edge) threshold grid over the
  1,000,000 requests (request weights included), median of 5 runs;
* ``widget_update_ms``: median time from a threshold change to the updated figure;
* ``summarize_s``: median time (3 runs) of ``summarize`` on the chosen cascade's outcome
  for 10,000,000 seeded test requests, and ``summarize_peak_mb``: its peak memory above
  the outcome, as traced by ``tracemalloc`` (numpy reports its array buffers to it);
  targets 1 s and 500 MB (issue 15: 11.6 s and 3.6 GB before loads were counted on codes);
* ``cloud_acc``, ``cloud_latency_ms``: every request sent straight to the cloud;
* ``cascade_latency_ratio``: test mean latency of the validation-chosen cheapest policy
  within 0.5 pp of cloud-only, over cloud-only's; ``oracle_latency_ratio``: the same for
  the oracle; ``oracle_gap_pp``; ``oracle_savings_captured``; ``test_acc_gap_pp``;
* ``families``: the same ratio and captured share for every family, and ``what_if``:
  captured shares with a perfect decision at one hop or a stronger zoo on the path;
* ``tolerance_coverage``: over 100 random re-splits of the pooled validation and test
  samples, the share of splits whose held-out gap stays within 0.5 pp, for the naive rule,
  the prediction bound and the chapter's bound + bootstrap.

Usage: ``.venv/bin/python benchmarks/cascades.py [--quick]`` (``--quick``: CI scenario).
"""

from __future__ import annotations

import argparse
import json
import time
import tracemalloc

import numpy as np
import pandas as pd
import torch
from measure import median_time, reference

import idn_core
from idn_core.delivery import (
    cascade_decision,
    cascade_grid,
    choose_policies,
    evaluate,
    forward_to,
    headline,
    prepare_delivery,
    request_weights,
    summarize,
    threshold_candidates,
    tolerance_coverage,
    what_if,
)
from idn_core.views import DeliveryExplorer

TOLERANCE = 0.005


def speed(scenario, setup, thresholds: np.ndarray, loop_requests: int) -> dict:
    """Vectorised evaluator against the per-request loop, the grid sweep and widget updates."""
    conf = setup.conf_test["max_prob calibrated"]
    req, lat, test = setup.requests, setup.latency, scenario.test
    evaluate(cascade_decision(conf, thresholds), test, req, lat)  # warm-up
    vec_s = median_time(lambda: evaluate(cascade_decision(conf, thresholds), test, req, lat))
    ref = reference("reference_delivery")
    sub = idn_core.RequestStream(
        req.sample[:loop_requests], req.device[:loop_requests], req.devices, req.n_samples
    )
    start = time.perf_counter()
    loop = ref.reference_cascade(
        conf,
        thresholds,
        test.predictions(),
        test.labels,
        sub.sample,
        sub.device,
        lat.rtt_ms,
        lat.compute_ms,
    )
    loop_s = time.perf_counter() - start
    out = evaluate(cascade_decision(conf, thresholds), test, sub, lat)
    try:
        ref.assert_same_outcomes(out, loop)
        equal = True
    except AssertionError:
        equal = False
    grids = [threshold_candidates(conf[h], 100) for h in range(2)]

    def sweep():
        return cascade_grid(conf[:2], test.correct(), request_weights(req, lat), grids)

    sweep()
    sweep_s = median_time(sweep)
    explorer = DeliveryExplorer(scenario, setup)
    explorer.update(0.9, 0.85)
    times = []
    for t in np.quantile(conf[0], np.linspace(0.05, 0.95, 30)):
        start = time.perf_counter()
        explorer.update(float(t), 0.85)
        times.append(time.perf_counter() - start)
    n = len(req)
    return {
        "requests": n,
        "decisions_per_s": n / vec_s,
        "loop_requests": loop_requests,
        "loop_decisions_per_s": loop_requests / loop_s,
        "speedup_vs_loop": (n / vec_s) / (loop_requests / loop_s),
        "outcomes_equal": equal,
        "sweep_100x100_s": sweep_s,
        "sweep_grid": [len(g) for g in grids],
        "widget_update_ms": 1000 * float(np.median(times)),
    }


def summarize_cost(scenario, setup, thresholds: np.ndarray, n_requests: int) -> dict:
    """Time and peak traced memory of ``summarize`` on ``n_requests`` seeded test requests."""
    conf = setup.conf_test["max_prob calibrated"]
    test, lat = scenario.test, setup.latency
    requests = idn_core.make_requests(n_requests, test.n_samples, lat.devices, seed=1)
    outcome = evaluate(cascade_decision(conf, thresholds), test, requests, lat)
    del requests
    seconds = median_time(lambda: summarize(outcome), repeats=3)
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        summarize(outcome)
        peak = tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()
    return {
        "summarize_requests": n_requests,
        "summarize_s": seconds,
        "summarize_peak_mb": peak / 2**20,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick", action="store_true", help="CI scenario (3000 samples, 3 epochs, 100k requests)"
    )
    args = parser.parse_args()
    torch.set_num_threads(1)
    start = time.perf_counter()
    kw = {"num_samples": 3000, "epochs": 3} if args.quick else {}
    scenario = idn_core.load_scenario(progress=False, **kw)
    n_requests = 100_000 if args.quick else 1_000_000
    setup = prepare_delivery(scenario, n_requests=n_requests, seed=0)
    print(scenario.zoo.table().to_string())
    choices = choose_policies(setup, TOLERANCE, alphas=np.geomspace(1e-5, 1e-1, 121))
    with pd.option_context("display.width", 200):
        print(choices.to_string())
    result = headline(setup, choices, TOLERANCE)
    cloud = summarize(
        evaluate(
            forward_to(2, scenario.test.n_samples, 3), scenario.test, setup.requests, setup.latency
        )
    )
    assert (
        abs(cloud["accuracy"] - result["cloud_acc"]) < 1e-12
        and abs(cloud["latency_ms"] - result["cloud_latency_ms"]) < 1e-9
    )
    chosen_cascade = choices[choices.family == "max_prob calibrated"].iloc[0]
    result.update(
        speed(
            scenario, setup, np.array(chosen_cascade.thresholds), 100_000 if args.quick else 300_000
        )
    )
    result.update(summarize_cost(scenario, setup, np.array(chosen_cascade.thresholds), 10_000_000))
    o_ratio = result["oracle_latency_ratio"]
    result["families"] = {
        row.family: {
            "latency_ratio": round(row.latency_ratio, 4),
            "captured": round((1 - row.latency_ratio) / (1 - o_ratio), 3),
            "test_gap_pp": round(row.gap_pp, 3),
        }
        for row in choices.itertuples()
    }
    result["what_if"] = what_if(scenario, setup)
    coverage = tolerance_coverage(scenario, setup, TOLERANCE, n_splits=10 if args.quick else 100)
    print(coverage.to_string())
    result["tolerance_coverage"] = {
        row.rule: round(float(row.coverage), 3) for row in coverage.itertuples()
    }
    result["seconds"] = time.perf_counter() - start
    for key, value in result.items():
        print(f"{key:>26}: {value}")
    print(
        "FINAL "
        + json.dumps({k: (round(v, 6) if isinstance(v, float) else v) for k, v in result.items()})
    )


if __name__ == "__main__":
    main()
