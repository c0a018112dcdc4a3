"""Benchmark of chapter 3: ensembles across nodes against chapter 2's best cascade.

Run ``python benchmarks/ensembles.py`` (full scenario; members load from the disk cache
after the first run) or ``--quick`` (CI scenario). Every policy is tuned on the validation
split and reported on chapter 2's test request stream (same size and seed), through the
same evaluator. Printed figures, then a FINAL line with one JSON object:

* ``budget_ms``: test mean latency of chapter 2's chosen cascade (the cheapest
  validation-chosen cascade within 0.5 points of cloud-only: its ``cascade_latency_ratio``
  point), the budget at which cascades and ensembles are compared;
* ``best_cascade_acc`` (baseline) and ``best_ensemble_acc``: test accuracy of the best
  threshold cascade and of the best cascade of ensembles (rule chosen on validation)
  whose validation mean latency is within the budget; ``ensemble_gain_pp`` their
  difference (target >= 1.0);
* ``full_ensemble_acc``: every member queried (its latency and models per request too);
* ``boost_queried_fraction``: mean share of boosted members queried under exact early
  stopping (target <= 0.6), with ``boost_identical`` (predictions equal to querying all)
  and the boosted ensemble's accuracy; ``boost_lr_sweep`` the same for other rates;
* ``combine_vs_replace_pp``: query-on-doubt (combine device and cloud) minus forwarding
  (cloud replaces), at the forwarded share of chapter 2's chosen cascade;
* ``training_s``: time to train or load every member; ``seconds``: the whole run.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import pandas as pd
import torch

import idn_core
from idn_core.ensembles import (
    boosting_rate_sweep,
    boosting_specs,
    committee_ensemble,
    compare,
    early_stop_decision,
    member_specs,
    rule_accuracies,
    samme_predict,
    train_bagged,
    train_boosted,
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="CI scenario, 2-epoch members")
    args = parser.parse_args()
    torch.set_num_threads(1)
    start = time.perf_counter()
    kw = {"num_samples": 3000, "epochs": 3} if args.quick else {}
    scenario = idn_core.load_scenario(progress=False, **kw)
    data = scenario.dataset
    epochs = 2 if args.quick else None
    edge = train_bagged(data, member_specs(data.name, 4, epochs=epochs), 0, progress=False)
    cloud_specs = member_specs(data.name, 4, epochs=epochs, tier="cloud")
    cloud = train_bagged(data, cloud_specs, 1, progress=False)
    first = scenario.zoo[scenario.path_models[0]]
    specs = [first.spec] + boosting_specs(data.name, epochs)
    boosted = train_boosted(data, specs, 0, first=first, learning_rate=0.5, progress=False)
    sweep = boosting_rate_sweep(data, specs, first, [0.25, 0.5, 1.0], 0, progress=False)
    training_s = time.perf_counter() - start

    n_requests = 100_000 if args.quick else 1_000_000
    t0 = time.perf_counter()
    comp = compare(scenario, {1: edge, 2: cloud}, boosted, n_requests=n_requests, seed=0)
    compare_s = time.perf_counter() - t0
    b = boosted.boosting
    preds = boosted.test.predictions()
    exact = early_stop_decision(preds, b.alphas, b.n_classes)
    identical = bool(np.array_equal(exact.prediction, samme_predict(preds, b.alphas, b.n_classes)))

    ens = committee_ensemble(scenario, {1: edge, 2: cloud})
    c = ens.n_members - 1 - len(cloud.names)  # the cloud model, followed by its committee
    rules = rule_accuracies(
        ens, {"path models": [0, 1, c], "cloud + committee": list(range(c, ens.n_members))}
    )
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print(pd.concat([edge.table(), cloud.table()]).to_string())
        print(rules.round(4).to_string())
        cols = ["family", "policy", "accuracy", "latency_ms", "p95_ms", "models_queried"]
        print(comp.points[cols].round(4).to_string())
        print(sweep.to_string())
    full = comp.points[comp.points.family == "full ensemble"]
    best_full = full.loc[full.accuracy.idxmax()]
    boost_row = comp.points[comp.points.policy == "exact early stop"].iloc[0]
    result = comp.numbers.as_dict()
    result.update(
        {
            "full_ensemble_acc": float(best_full.accuracy),
            "full_ensemble_rule": str(best_full.policy),
            "full_ensemble_latency_ms": float(best_full.latency_ms),
            "full_ensemble_models": float(best_full.models_queried),
            "boost_identical": identical,
            "boost_acc": float(boost_row.accuracy),
            "boost_lr_sweep": {
                str(r.learning_rate): [round(r.accuracy, 4), round(r.queried_fraction, 4)]
                for r in sweep.itertuples()
            },
            "cloud_committee_gain_pp": 100
            * float(rules.loc["cloud + committee"].drop("best member").max() - rules.iloc[1, 0]),
            "requests": n_requests,
            "training_s": training_s,
            "compare_s": compare_s,
            "seconds": time.perf_counter() - start,
        }
    )
    for key, value in result.items():
        print(f"{key:>26}: {value}")
    print(
        "FINAL "
        + json.dumps({k: (round(v, 6) if isinstance(v, float) else v) for k, v in result.items()})
    )


if __name__ == "__main__":
    main()
