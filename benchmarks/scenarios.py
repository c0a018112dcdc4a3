"""Every chapter's headline on every scenario of the suite (idn_core.network.suite).

Runs, per scenario, :func:`idn_core.headlines.scenario_row`: the same library calls as the
chapters and as the "Across scenarios" chapter (notebooks/09_across_scenarios.ipynb), with
that chapter's suite-sized defaults (:class:`idn_core.headlines.SuiteSettings`, or its
quick preset with ``--quick``): the zoo's test accuracies on the path (``acc_<tier>``, %);
chapter 2's validation-chosen policy (captured share of the oracle's latency saving,
latency ratio to cloud-only) and carried-evidence forwarding against it; chapter 3's gain of
the best combination of the path's models over the path's last model; chapter 4's INFIDA
under shifting demand over the offline optimum and over the static greedy; chapter 6's gain
of serving-rate exit weights over equal weights at serving split 80-15-5 (mean and sd over
seeds); chapter 8's on-time accuracy at load factor 1.2 of fixed thresholds, the best static
thresholds and the feedback rule, and the tier of the fullest node. Prints one line per
scenario and a FINAL JSON line with the table, the wall-clock seconds and the process's CPU
seconds (single-threaded: on an idle core they agree; on a shared machine the CPU seconds
are the comparable figure). A tier a scenario's path lacks is ``null``.

Usage: ``.venv/bin/python benchmarks/scenarios.py [--quick]``; with an empty
``IDN_CACHE_DIR`` it measures the cold cost of the chapter (training included).
"""

from __future__ import annotations

import argparse
import json
import math
import time

import torch

from idn_core.headlines import SuiteSettings, scenario_row
from idn_core.network import scenario_names


def settings_for(profile: str) -> SuiteSettings:
    """The chapter's defaults (``"full"``) or its quick preset (``"quick"``)."""
    if profile not in ("full", "quick"):
        raise ValueError(f"profile must be 'full' or 'quick', got {profile!r}")
    return SuiteSettings() if profile == "full" else SuiteSettings.quick()


def json_value(value: float | str) -> float | str | None:
    """A table value for JSON: floats rounded to 4 decimals, NaN (a missing tier) as null."""
    if isinstance(value, str):
        return value
    return None if math.isnan(float(value)) else round(float(value), 4)


def scenario_table(profile: str = "full") -> dict:
    """Every scenario's headline row at the chapter's ``profile`` settings, timed."""
    torch.set_num_threads(1)
    settings = settings_for(profile)
    final: dict = {}
    for name in scenario_names():
        t0, c0 = time.perf_counter(), time.process_time()
        row = {key: json_value(v) for key, v in scenario_row(name, settings).items()}
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
