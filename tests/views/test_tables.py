"""Tables for people: the formatting rules of idn_core.views.tables, cell by cell."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from idn_core.views import glue_zoo_accuracy, readable_frame, readable_table, zoo_accuracy_pct
from idn_core.views.tables import DASH, readable_header, readable_value

RAW = pd.DataFrame(
    {
        "policy": ["device only", "cloud only", "oracle"],
        "accuracy": [0.8312, 0.99254, 0.995],
        "latency_ms": [0.123456, 30.5, np.inf],
        "n_requests": [1_000_000, 200_000, 5],
        "budget_kb": [1e6, 2.5, None],
        "thresholds": [(0.5, 0.25), None, (0.125,)],
    }
)
LEAKS = ("None", "nan", "NaN", "inf", "e+", "e-0")


def test_no_raw_python_or_float_spellings_survive() -> None:
    out = readable_frame(RAW, percent=["accuracy"])
    cells = out.to_numpy().ravel().tolist() + list(out.columns)
    for leak in LEAKS:
        assert not any(leak in c for c in cells), (leak, cells)


def test_units_percentages_and_separators() -> None:
    out = readable_frame(RAW, percent=["accuracy"], digits={"latency_ms": 3})
    assert list(out.columns) == [
        "policy",
        "accuracy (%)",
        "latency (ms)",
        "n requests",
        "budget (KiB)",
        "thresholds",
    ]
    assert out["accuracy (%)"].tolist() == ["83.1 %", "99.3 %", "99.5 %"]
    assert out["latency (ms)"].tolist() == ["0.123", "30.500", "∞"]
    assert out["n requests"].tolist() == ["1,000,000", "200,000", "5"]
    assert out["budget (KiB)"].tolist() == ["1,000,000.00", "2.50", DASH]
    whole = readable_frame(pd.DataFrame({"capacity / slot": [548.0, 1195.0, np.nan]}))
    assert whole["capacity / slot"].tolist() == ["548", "1,195", DASH]
    assert out["thresholds"].tolist() == ["0.50, 0.25", DASH, "0.12"]


def test_bare_range_index_is_hidden_and_a_meaningful_index_kept() -> None:
    assert "#" not in readable_frame(RAW).columns and "index" not in readable_frame(RAW).columns
    named = readable_frame(RAW.set_index("policy"))
    assert named.columns[0] == "policy" and named["policy"].iloc[1] == "cloud only"
    labelled = readable_frame(RAW.set_index("policy").rename_axis(None))
    assert labelled.columns[0] == "" and labelled.iloc[0, 0] == "device only"
    filtered = readable_frame(RAW.iloc[[0, 2]])  # leftover integer labels carry nothing
    assert filtered.columns[0] == "policy"
    html = readable_table(RAW, percent=["accuracy"]).to_html()
    assert "99.3 %" in html and "row_heading" not in html


def test_explicit_headers_win() -> None:
    out = readable_frame(RAW, headers={"latency_ms": "mean latency (ms)"})
    assert "mean latency (ms)" in out.columns


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("p95_ms", "p95 (ms)"),
        ("gap_pp", "gap (pp)"),
        ("memory_kb", "memory (KiB)"),
        ("ms", "ms"),
        ("cost ms", "cost (ms)"),
        ("budget KiB", "budget (KiB)"),
        ("test_acc", "test accuracy"),
    ],
)
def test_headers_read_units_from_suffixes(name, expected) -> None:
    assert readable_header(name) == expected


def test_bad_arguments_are_named() -> None:
    with pytest.raises(TypeError, match="df"):
        readable_frame([1, 2])
    with pytest.raises(ValueError, match="percent"):
        readable_frame(RAW, percent=["nope"])
    with pytest.raises(ValueError, match="digits"):
        readable_value(1.5, digits=-1)
    with pytest.raises(TypeError, match="percent"):
        readable_value("x", percent=True)


ZOO_TABLE = pd.DataFrame(
    {
        "tier": ["device", "edge", "regional", "cloud"],
        "test_acc": [0.83125, 0.98725, 0.98775, 0.99255],
    },
    index=["dev", "edg", "reg", "clo"],
)


def test_zoo_accuracies_are_percent_rounded_once() -> None:
    assert zoo_accuracy_pct(ZOO_TABLE) == {
        "device": 83.1,
        "edge": 98.7,
        "regional": 98.8,
        "cloud": 99.3,
    }


def test_glue_zoo_accuracy_glues_one_key_per_tier(monkeypatch) -> None:
    glued = {}
    monkeypatch.setattr("myst_nb.glue", lambda name, value, display: glued.update({name: value}))
    glue_zoo_accuracy(ZOO_TABLE)
    assert glued == {"zoo_acc_device": 83.1, "zoo_acc_edge": 98.7, "zoo_acc_regional": 98.8,
                     "zoo_acc_cloud": 99.3}  # fmt: skip


@pytest.mark.parametrize(
    "table",
    [
        ZOO_TABLE.drop(columns="tier"),
        ZOO_TABLE.assign(test_acc=[0.5, np.nan, 0.5, 0.5]),
        ZOO_TABLE.assign(test_acc=[0.5, 1.5, 0.5, 0.5]),
        ZOO_TABLE.assign(tier=["device", "device", "edge", "cloud"]),
    ],
)
def test_zoo_accuracy_rejects_bad_tables(table) -> None:
    with pytest.raises(ValueError, match="table"):
        zoo_accuracy_pct(table)
