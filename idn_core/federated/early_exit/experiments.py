"""Scenario grids and summaries of chapter 6 (federated early exits) and its benchmark."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np
import pandas as pd

from idn_core.federated.early_exit.config import DEEPEST_ONLY, LOWER_EXITS, EarlyExitConfig
from idn_core.federated.early_exit.net import EarlyExitNet, exit_flops, exit_parameter_names
from idn_core.federated.early_exit.training import evaluate_serving, run_early_exit
from idn_core.federated.early_exit.weights import EXIT_WEIGHTINGS, check_serving_split

#: Training-data shares of (all devices, all edges, the cloud) on the 7-node tree.
DATA_SPLITS = {
    "equal": (4 / 7, 2 / 7, 1 / 7),  # every node holds the same amount
    "cloud-heavy": (0.1, 0.2, 0.7),
}


def parse_split(text: str) -> tuple[float, ...]:
    """``"80-15-5"`` -> ``(0.8, 0.15, 0.05)`` (percentages separated by dashes), validated."""
    try:
        values = tuple(float(v) / 100 for v in text.split("-"))
    except ValueError:
        raise ValueError(f"a split is written like '80-15-5', got {text!r}") from None
    check_serving_split(values, len(values))
    return values


def split_label(split: Sequence[float]) -> str:
    """``(0.8, 0.15, 0.05)`` -> ``"80-15-5"``."""
    return "-".join(f"{100 * v:.0f}" for v in split)


def scenario_configs(
    serving_splits: Sequence[str],
    data_splits: Sequence[str] = ("equal",),
    weightings: Sequence[str] = EXIT_WEIGHTINGS,
    base: EarlyExitConfig | None = None,
) -> list[EarlyExitConfig]:
    """Every (data split, serving split, weighting) combination as a config."""
    base = base or EarlyExitConfig()
    unknown = set(data_splits) - set(DATA_SPLITS)
    if unknown:
        raise ValueError(
            f"unknown data split(s) {sorted(unknown)}; choose from {list(DATA_SPLITS)}"
        )
    return [
        replace(base, serving_split=parse_split(s), data_split=DATA_SPLITS[d], weighting=w)
        for d in data_splits
        for s in serving_splits
        for w in weightings
    ]


def data_split_name(label: str) -> str:
    """Name of a data split from its percentage label (as in sweep tables)."""
    for name, shares in DATA_SPLITS.items():
        if split_label(shares) == label:
            return name
    return label


def weighting_gains(
    table: pd.DataFrame, metric: str, weighting: str = "serving", baseline: str = "equal"
) -> pd.DataFrame:
    """Per (data split, serving split): mean and std over seeds of ``weighting - baseline`` in pp.

    Seeds are paired (same data partition and initialisation), which is what makes a
    small gain measurable.
    """
    keys = ["data_split", "serving_split", "seed"]
    cur = table[table.weighting == weighting].set_index(keys)[metric]
    base = table[table.weighting == baseline].set_index(keys)[metric]
    diff = (100 * (cur - base)).dropna().rename("gain_pp").reset_index()
    out = diff.groupby(["data_split", "serving_split"], sort=False)["gain_pp"].agg(
        ["mean", "std", "count"]
    )
    return out.reset_index()


def gain_at(
    table: pd.DataFrame,
    metric: str,
    serving_split: str,
    data_split: str = "equal",
    weighting: str = "serving",
) -> tuple[float, float]:
    """``(mean, std)`` gain in pp of ``weighting`` over equal at one scenario."""
    g = weighting_gains(table, metric, weighting)
    names = (
        {data_split, split_label(DATA_SPLITS[data_split])}
        if data_split in DATA_SPLITS
        else {data_split}
    )
    row = g[(g.serving_split == serving_split) & g.data_split.isin(names)]
    if row.empty:
        raise KeyError(f"no results for serving split {serving_split} and data split {data_split}")
    return float(row["mean"].iloc[0]), float(np.nan_to_num(row["std"].iloc[0]))


def exit_summary(
    input_length: int, n_classes: int, config: EarlyExitConfig | None = None
) -> pd.DataFrame:
    """One row per exit: which tiers hold it, parameters its training updates, FLOPs."""

    config = config or EarlyExitConfig()
    net = EarlyExitNet(input_length, n_classes, config.channels)
    params = dict(net.named_parameters())
    holders = ["devices, edges, cloud", "edges, cloud", "cloud"]
    return pd.DataFrame(
        {
            "exit": [e + 1 for e in range(net.n_exits)],
            "held by": holders[: net.n_exits],
            "parameters trained": [
                sum(params[n].numel() for n in exit_parameter_names(net, e))
                for e in range(net.n_exits)
            ],
            "FLOPs per request": exit_flops(net),
        }
    )


def participation_study(
    dataset,
    base: EarlyExitConfig,
    seeds: Sequence[int],
    progress: bool | None = None,
    cache: bool = True,
) -> pd.DataFrame:
    """Deepest-exit-only versus lower-exit participation (:data:`LOWER_EXITS`), per seed.

    ``cache``: keep each run in the model cache (:func:`run_early_exit` with ``cache=True``).
    """

    rows = []
    for seed in seeds:
        for name, part in (("deepest exit only", DEEPEST_ONLY), ("lower exits too", LOWER_EXITS)):
            cfg = replace(base, participation=part)
            res = run_early_exit(dataset, cfg, seed=seed, progress=progress, cache=cache)
            metrics = evaluate_serving(
                res.logits(dataset.x_test), dataset.y_test, cfg.serving_split, seed=seed
            )
            rows.append(
                {
                    "participation": name,
                    "seed": seed,
                    "updates_per_round": res.history.updates.mean(),
                    **metrics,
                }
            )
    return pd.DataFrame(rows)
