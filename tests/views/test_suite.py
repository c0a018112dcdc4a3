"""Tests of idn_core.views.suite: the per-scenario headline bars."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from idn_core.views import suite_headlines_figure


def table() -> pd.DataFrame:
    return pd.DataFrame(
        {"captured": [0.8, 0.5], "gain": [0.1, -0.2], "gain_sd": [0.05, np.nan]},
        index=["a", "b"],
    )


def test_one_panel_per_headline_with_the_table_values():
    fig = suite_headlines_figure(
        table(), {"captured": "captured", "gain": "gain"}, {"gain": "gain_sd"}
    )

    assert len(fig.data) == 2
    assert list(fig.data[0].x) == ["a", "b"]
    np.testing.assert_allclose(fig.data[0].y, [0.8, 0.5])
    np.testing.assert_allclose(fig.data[1].error_y.array, [0.05, 0.0])
    assert fig.data[0].error_y.array is None


@pytest.mark.parametrize(
    ("args", "error", "match"),
    [
        ((table(), {"missing": "x"}), ValueError, "no column 'missing'"),
        ((table(), {"gain": "g"}, {"gain": "nope"}), ValueError, "no column 'nope'"),
        ((table().iloc[:0], {"gain": "g"}), ValueError, "non-empty"),
        (([1, 2], {"gain": "g"}), TypeError, "DataFrame"),
    ],
)
def test_bad_input_is_named(args, error, match):
    with pytest.raises(error, match=match):
        suite_headlines_figure(*args)
