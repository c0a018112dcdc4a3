"""Benchmark suite of issue 14: figures measured across the book's scenarios, and sweep speed.

Each measurement is a named function returning a dict of figures; :func:`main` runs the
ones asked for (all by default) and prints one JSON object as its last line. So far:

- ``scenario_headlines``: every chapter's headline on every scenario at chapter 9's
  defaults (benchmarks/scenarios.py over ``idn_core.headlines``), including chapter 8's
  on-time figures at load factor 1.2 and carried evidence against the threshold choice.
- ``graded_hops``: the graded four-tier scenario's accuracy gain per hop (full data).

- ``sweep_speedup``: the wall time of a 6-run quick sweep of chapter 7 (the playground,
  ``n_requests`` from 2000 to 4500; the models come from the shared model cache, so each
  run only evaluates) run sequentially (``--jobs 1``), divided by the same sweep with
  ``--jobs 2``. Both go through the command line (``python -m idn_core.sweep``), each
  into a fresh output folder, so neither reuses an executed notebook. Two worker
  processes on two cores can at best halve the time; the kernel start and the imports of
  each run are part of what is parallelised.

- ``carried_evidence``: on every scenario, at chapter 2's full size (1,000,000 test
  requests, 100 thresholds per hop, the scenario's default data), carried-evidence
  forwarding against chapter 2's choice among the threshold families
  (:func:`idn_core.delivery.carried_evidence_headline`): per scenario
  ``<scenario>.evidence_captured`` / ``.threshold_captured`` (shares of the oracle's
  saving), ``.evidence_rule``, ``.evidence_variant``, ``.threshold_family``, the latency
  ratios to cloud-only and the test gaps (pp).

Run: ``.venv/bin/python benchmarks/suite.py [--only NAME ...]``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import pandas as pd

REPO = Path(__file__).resolve().parents[1]
SWEEP_NOTEBOOK = REPO / "notebooks" / "07_playground.ipynb"
SWEEP_PARAMETER = ("n_requests", ["2000", "2500", "3000", "3500", "4000", "4500"])
SWEEP_PROFILE = "quick"


def timed_sweep(jobs: int, out: Path) -> float:
    """Run the benchmark's sweep with ``jobs`` local workers into ``out``; return seconds."""
    name, values = SWEEP_PARAMETER
    cmd = [sys.executable, "-m", "idn_core.sweep", str(SWEEP_NOTEBOOK), "--profile", SWEEP_PROFILE]
    cmd += ["-p", name, *values, "--jobs", str(jobs), "--out", str(out), "--no-progress"]
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
    }
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(f"sweep with --jobs {jobs} failed:\n{proc.stderr[-3000:]}")
    return seconds


def sweep_speedup() -> dict[str, float]:
    """Wall time of the 6-run quick sweep with ``--jobs 1`` over the same with ``--jobs 2``."""
    with tempfile.TemporaryDirectory(prefix="idn-sweep-bench-") as scratch:
        sequential_out, parallel_out = Path(scratch) / "jobs1", Path(scratch) / "jobs2"
        sequential = timed_sweep(1, sequential_out)
        parallel = timed_sweep(2, parallel_out)
        tables = [pd.read_csv(out / "glued.csv") for out in (sequential_out, parallel_out)]
    if (
        tables[0].shape != tables[1].shape
        or tables[0]["name"].tolist() != tables[1]["name"].tolist()
    ):
        raise RuntimeError("the sequential and parallel sweeps gathered different tables")
    print(
        f"[suite] sweep of 6 runs: {sequential:.1f} s with --jobs 1, {parallel:.1f} s with --jobs 2",
        flush=True,
    )
    return {
        "sweep_runs": len(SWEEP_PARAMETER[1]),
        "sweep_jobs1_s": round(sequential, 1),
        "sweep_jobs2_s": round(parallel, 1),
        "sweep_speedup": round(sequential / parallel, 2),
    }


def scenario_headlines() -> dict[str, float | str | None]:
    """Every chapter's headline on every scenario (benchmarks/scenarios.py, i.e.
    ``idn_core.headlines.scenario_row`` at chapter 9's defaults), flattened to
    ``<scenario>.<figure>``: the path's accuracies, chapter 2's captured share and latency
    ratio, carried evidence (``evidence_captured``, ``evidence_gain`` over the threshold
    choice), chapter 3's combination gain, chapter 4's INFIDA ratios, chapter 6's serving
    gain, chapter 8's on-time accuracy at load factor 1.2 (``fixed_on_time_pct``,
    ``best_static_on_time_pct``, ``feedback_on_time_pct``, ``feedback_gain_pp``,
    ``busiest_tier``) and the seconds each scenario took."""
    from scenarios import scenario_table  # the sibling script (benchmarks/ is on sys.path)

    table = scenario_table("full")
    return {f"{name}.{key}": value for name, row in table.items() for key, value in row.items()}


def graded_hops() -> dict[str, float]:
    """The graded four-tier scenario's test accuracy gain per hop on its full data (the
    suite's >= 3 pp claim; trains the full graded zoo when it is not cached)."""
    from idn_core.network import load_named_scenario

    accuracy = list(
        load_named_scenario("graded-four-tier", progress=False).test.accuracy().values()
    )
    hops = [round(100 * (b - a), 2) for a, b in zip(accuracy, accuracy[1:], strict=False)]
    return {"graded_min_hop_pp": min(hops), "graded_hops_pp": hops}


#: Figures of :func:`carried_evidence` per scenario (keys of its headline).
EVIDENCE_FIGURES = (
    "evidence_rule",
    "evidence_variant",
    "evidence_captured",
    "evidence_latency_ratio",
    "evidence_gap_pp",
    "threshold_family",
    "threshold_captured",
    "threshold_latency_ratio",
    "threshold_gap_pp",
    "captured_gain",
    "oracle_latency_ratio",
)


def carried_evidence() -> dict[str, float | str]:
    """Carried evidence against the threshold families on every scenario, chapter 2's
    full size (the scenario's full data, 1,000,000 requests, 100 thresholds per hop),
    flattened to ``full.<scenario>.<figure>`` (``scenario_headlines`` holds the suite-sized
    ``<scenario>.evidence_*`` figures of chapter 9)."""
    from idn_core.delivery import carried_evidence_headline
    from idn_core.network import load_named_scenario, scenario_names

    out: dict[str, float | str] = {}
    for name in scenario_names():
        start = time.perf_counter()
        head = carried_evidence_headline(
            load_named_scenario(name, progress=False), n_requests=1_000_000, n_grid=100
        )
        for key in EVIDENCE_FIGURES:
            value = head[key]
            out[f"full.{name}.{key}"] = value if isinstance(value, str) else round(float(value), 4)
        print(
            f"[suite] carried evidence on {name}: {head['evidence_rule']} "
            f"({head['evidence_variant']}) {head['evidence_captured']:.3f} against "
            f"{head['threshold_family']} {head['threshold_captured']:.3f} "
            f"({time.perf_counter() - start:.0f} s)",
            flush=True,
        )
    return out


#: Every measurement of the suite by name, in the order :func:`main` runs them.
MEASUREMENTS: dict[str, Callable[[], dict[str, float]]] = {
    "scenario_headlines": scenario_headlines,
    "graded_hops": graded_hops,
    "carried_evidence": carried_evidence,
    "sweep_speedup": sweep_speedup,
}


def main(argv: list[str] | None = None) -> dict[str, float]:
    """Run the measurements named with ``--only`` (default: all); print and return the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", nargs="+", choices=list(MEASUREMENTS), help="measurements to run")
    args = parser.parse_args(argv)
    figures: dict[str, float] = {}
    for name in args.only or MEASUREMENTS:
        measured = MEASUREMENTS[name]()
        if clash := sorted(set(measured) & set(figures)):
            raise RuntimeError(f"{name} would overwrite the figures {clash[:5]}")
        figures.update(measured)
    print(json.dumps(figures))
    return figures


if __name__ == "__main__":
    main()
