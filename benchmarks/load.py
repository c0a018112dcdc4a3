"""Benchmark of the queueing engine: speed and exactness against SimPy, closed forms.

A chapter-2 threshold cascade (calibrated max-probability, device then edge then cloud)
runs on the book's scenario (MNIST-1D zoo, device-edge-cloud tree of 2 edges x 2 devices,
the cached models; ``--quick``: the CI scenario; ``--synthetic``: no zoo, a seeded route
mix 60/30/10 % with the same topology) under Poisson arrivals at every device, equal
rates chosen so that the busiest node runs at utilisation 0.8. Service times are the
models' FLOPs over the nodes' speeds (deterministic); links add propagation and
transmission. Prints the station table and a FINAL line holding one JSON object with

* ``queue_req_per_s``: requests per second of the exact evaluation
  (``idn_core.network.queues.evaluate_load``: every station's departures and every
  request's response time) of the cascade, 1,000,000 requests, single-server nodes,
  median of 5 wall-clock runs; ``queue_req_per_s_cpu``: the same in process CPU time
  (the machine is shared: ``load_average`` is the 1-minute load when it ran);
  ``queue_req_per_s_with_tables``: including the per-request (R, K) wait and departure
  tables;
* ``simpy_req_per_s``: the SimPy reference of ``tests/reference_queues.py`` (one process
  per request) on the first ``simpy_requests`` requests; ``speedup_vs_simpy`` =
  queue_req_per_s / simpy_req_per_s (rates per request); ``max_departure_diff_s``: the
  largest difference of any node departure or response time between the engine and SimPy
  on that common stream;
* ``multi_server_req_per_s`` (and ``_cpu``): the same cascade with 4 servers per node,
  each a quarter as fast (so the utilisation stays the same), and
  ``multi_server_max_departure_diff_s`` to SimPy;
* ``mm1_wait_rel_err``, ``md1_wait_rel_err``, ``mmc_wait_rel_err``: relative error of the
  simulated mean wait in queue against the closed form at utilisation 0.8 (M/M/c: c = 4),
  1,000,000 requests each, started empty, the first 5 % discarded as warm-up;
* ``on_time_acc_<policy>_<pct>``: on-time accuracy (right and back within the 50 ms
  deadline) of every load-aware policy (``idn_core.delivery.compare_under_load``: chapter
  2's fixed thresholds, the best static thresholds per rate chosen on a validation stream,
  decentralised feedback, upstream shedding, the deadline-aware gain rule) at arrival
  rates of 50, 90 and 120 % of the rate at which chapter 2's thresholds fill the edge,
  5 s of Poisson requests at every device (not with ``--synthetic``); ``feedback_gain_pp``
  = feedback minus fixed thresholds at 120 % (points), and ``feedback_gap_to_best_pp`` the
  largest shortfall of feedback against the best static thresholds over the three rates.

Usage: ``.venv/bin/python benchmarks/load.py [--quick] [--synthetic]``.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from dataclasses import replace

import numpy as np
from measure import median_time, reference

from idn_core.network import (
    LoadNetwork,
    NodeCapacity,
    PoissonArrivals,
    evaluate_load,
    fifo_departures,
    md1_wait_s,
    mm1_wait_s,
    mmc_wait_s,
    network_from_topology,
    scenario_network,
    timed_requests,
    tree_topology,
    visits_from_queried,
)

UTILISATION = 0.8
THRESHOLDS = (0.9, 0.9)  # chapter 2's fixed thresholds style: forward below 0.9 confidence


def cascade_routes(args) -> tuple[LoadNetwork, np.ndarray, int, str]:
    """The network, per-sample queried tiers (N, K) of the cascade, N and a label."""
    if args.synthetic:
        topo = tree_topology(n_edges=2, devices_per_edge=2)
        flops = {n.name: {"device": 2e5, "edge": 4e6, "cloud": 5e7}[n.tier] for n in topo.nodes}
        deepest = np.random.default_rng(0).choice(3, size=10_000, p=(0.6, 0.3, 0.1))
        queried = np.arange(3)[None, :] <= deepest[:, None]
        return network_from_topology(topo, flops), queried, 10_000, "synthetic 60/30/10"
    import idn_core
    from idn_core.delivery import cascade_decision
    from idn_core.learning import fit_temperatures, table_confidences

    kw = {"num_samples": 3000, "epochs": 3} if args.quick else {}
    scenario = idn_core.load_scenario(progress=False, **kw)
    temps = fit_temperatures(scenario.val)
    conf = table_confidences(scenario.test, "max_prob", temps)
    decision = cascade_decision(conf, np.array(THRESHOLDS))
    label = f"scenario cascade {THRESHOLDS}, test split"
    return scenario_network(scenario), decision.queried, scenario.test.n_samples, label


def poisson_stream(net: LoadNetwork, queried: np.ndarray, n_samples: int, n_requests: int):
    """Equal Poisson rates at every device putting the busiest node at UTILISATION."""
    share = queried.mean(axis=0)  # share of requests served at each tier
    load = {}  # work per second per unit rate of every device
    for d in range(len(net.devices)):
        for k in range(net.n_tiers):
            name = net.nodes[d, k]
            per = share[k] * net.service_s()[d, k] / net.capacity[name].servers
            load[name] = load.get(name, 0.0) + per
    rate = UTILISATION / max(load.values())
    duration = 1.05 * n_requests / (rate * len(net.devices))
    timed = timed_requests(PoissonArrivals(rate), net.devices, n_samples, duration, seed=0)
    return timed.head(n_requests), rate


def engine_vs_simpy(net, timed, visits, n_simpy: int, ref) -> dict:
    """Engine speed on the whole stream; SimPy speed and exactness on its head."""
    evaluate_load(net, timed, visits)  # warm-up
    wall = median_time(lambda: evaluate_load(net, timed, visits))
    cpu = median_time(lambda: evaluate_load(net, timed, visits), clock=time.process_time)

    def with_tables():
        res = evaluate_load(net, timed, visits)
        return res.node_wait_s, res.done_s, res.link_wait_s

    tables = median_time(with_tables, repeats=3)
    head = timed.head(n_simpy)
    res = evaluate_load(net, head, visits[:n_simpy])
    start = time.perf_counter()
    response, done = ref.simpy_network(net, head, visits[:n_simpy], res.service_s)
    simpy_s = time.perf_counter() - start
    diff = max(np.abs(res.response_s - response).max(), np.nanmax(np.abs(res.done_s - done)))
    return {
        "req_per_s": len(timed) / wall,
        "req_per_s_cpu": len(timed) / cpu,
        "req_per_s_with_tables": len(timed) / tables,
        "simpy_req_per_s": n_simpy / simpy_s,
        "max_diff_s": float(diff),
    }


def closed_form_errors(n: int) -> dict:
    """Relative error of the mean wait at utilisation 0.8 (mu = 1) against the formulas."""
    formulas = {
        "mm1": (1, True, lambda lam: mm1_wait_s(lam, 1.0)),
        "md1": (1, False, lambda lam: md1_wait_s(lam, 1.0)),
        "mmc": (4, True, lambda lam: mmc_wait_s(lam, 1.0, 4)),
    }
    out = {}
    for seed, (key, (servers, exp, formula)) in enumerate(formulas.items()):
        rng = np.random.default_rng(11 + seed)
        lam = UTILISATION * servers
        arrival = np.cumsum(rng.exponential(1.0 / lam, n))
        service = rng.exponential(1.0, n) if exp else np.ones(n)
        wait = fifo_departures(arrival, service, servers) - service - arrival
        theory = formula(lam)
        out[f"{key}_wait_rel_err"] = float(abs(wait[n // 20 :].mean() - theory) / theory)
    return out


def load_aware(args) -> dict:
    """Per-rate on-time accuracy of every load-aware policy on the running scenario."""
    import idn_core
    from idn_core.delivery import DeadlineGainRule, compare_under_load, prepare_load
    from idn_core.delivery import experiments as dx

    kw = {"num_samples": 3000, "epochs": 3} if args.quick else {}
    scenario = idn_core.load_scenario(progress=False, **kw)
    setup = dx.prepare_delivery(scenario, n_requests=100_000, learned=False)
    choices = dx.choose_policies(setup, 0.005, n_grid=100).set_index("family")
    thresholds = np.array(choices.loc["max_prob calibrated", "thresholds"])
    alpha = choices.alpha.get("gain-aware", np.nan)
    rule = DeadlineGainRule(alpha_per_s=1e3 * float(alpha) if np.isfinite(alpha) else 0.0)
    ls = prepare_load(scenario, setup, thresholds, gain_rule=rule)
    table, _ = compare_under_load(ls, factors=(0.5, 0.9, 1.2), duration_s=5.0, seed=0)
    print(table.to_string())
    out = {"load_reference_rate_per_device": ls.reference_rate}
    for row in table.itertuples():
        key = f"on_time_acc_{row.policy.replace(' ', '_')}_{round(100 * row.factor)}"
        out[key] = row.on_time_accuracy
    acc = table.pivot(index="factor", columns="policy", values="on_time_accuracy")
    out["feedback_gain_pp"] = 100 * (acc.loc[1.2, "feedback"] - acc.loc[1.2, "fixed"])
    out["feedback_gap_to_best_pp"] = float(100 * (acc["best static"] - acc["feedback"]).max())
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="CI scenario, 20k SimPy requests")
    parser.add_argument("--synthetic", action="store_true", help="seeded route mix, no zoo")
    args = parser.parse_args()
    start = time.perf_counter()
    ref = reference("reference_queues")
    net, queried, n_samples, label = cascade_routes(args)
    n_req, n_simpy = 1_000_000, 20_000 if args.quick else 100_000
    timed, rate = poisson_stream(net, queried, n_samples, n_req)
    visits = visits_from_queried(queried, timed)
    one = engine_vs_simpy(net, timed, visits, n_simpy, ref)
    load_average = os.getloadavg()[0]
    print(f"{label}: {len(timed)} requests, {rate:.2f} req/s per device")
    print(evaluate_load(net, timed, visits).station_table().to_string())
    caps = {n: NodeCapacity(4, c.speed_flops_per_s / 4) for n, c in net.capacity.items()}
    multi_net = replace(net, capacity=caps)
    multi = engine_vs_simpy(multi_net, timed, visits, n_simpy, ref)
    print(evaluate_load(multi_net, timed, visits).station_table().to_string())
    result = {
        "routes": label,
        "requests": len(timed),
        "device_rate_per_s": rate,
        "queue_req_per_s": one["req_per_s"],
        "queue_req_per_s_cpu": one["req_per_s_cpu"],
        "queue_req_per_s_with_tables": one["req_per_s_with_tables"],
        "load_average": load_average,
        "simpy_requests": n_simpy,
        "simpy_req_per_s": one["simpy_req_per_s"],
        "speedup_vs_simpy": one["req_per_s"] / one["simpy_req_per_s"],
        "max_departure_diff_s": one["max_diff_s"],
        "multi_server_req_per_s": multi["req_per_s"],
        "multi_server_req_per_s_cpu": multi["req_per_s_cpu"],
        "multi_server_simpy_req_per_s": multi["simpy_req_per_s"],
        "multi_server_max_departure_diff_s": multi["max_diff_s"],
    }
    result.update(closed_form_errors(1_000_000))
    if not args.synthetic:
        result.update(load_aware(args))
    result["seconds"] = time.perf_counter() - start
    for key, value in result.items():
        print(f"{key:>36}: {value}")
    print(
        "FINAL "
        + json.dumps(
            {k: (float(f"{v:.6g}") if isinstance(v, float) else v) for k, v in result.items()}
        )
    )


if __name__ == "__main__":
    main()
