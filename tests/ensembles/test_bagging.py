"""The label-skew sweep of bagged members, against the members' own predictions."""

from __future__ import annotations

import numpy as np
import pytest

from idn_core.ensembles import member_specs, skew_sweep, train_bagged
from idn_core.learning import load_dataset


def test_skew_sweep_rows_recomputed_from_the_members() -> None:
    data = load_dataset("digits", seed=0)
    specs = member_specs("digits", 3, epochs=2)

    sweep = skew_sweep(data, [0.1, 100.0], specs, seed=0, progress=False)

    assert sweep.alpha.tolist() == [0.1, 100.0]
    x, y = data.split("test")
    for _, row in sweep.iterrows():
        members = train_bagged(data, specs, 0, "dirichlet", row.alpha, progress=False)  # cached
        logits = np.stack([m.predict_logits(x) for m in members.models])
        probs = np.exp(logits - logits.max(-1, keepdims=True))
        probs /= probs.sum(-1, keepdims=True)
        acc = (logits.argmax(-1) == y).mean(axis=1)
        assert row.member_mean == pytest.approx(acc.mean())
        assert row.member_best == pytest.approx(acc.max())
        assert row.ensemble_soft == pytest.approx((probs.mean(0).argmax(1) == y).mean())
        assert row.ensemble_log == pytest.approx((np.log(probs).sum(0).argmax(1) == y).mean())
        votes = np.stack([(logits.argmax(-1) == c).sum(0) for c in range(probs.shape[2])], 1)
        majority = votes.max(1, keepdims=True)[:, 0]
        # the hard vote is right wherever the true class has a strict majority of votes,
        # and wrong wherever some other class has more votes than it
        strict = (votes[np.arange(len(y)), y] == majority) & (
            (votes == majority[:, None]).sum(1) == 1
        )
        beaten = votes[np.arange(len(y)), y] < majority
        assert strict.mean() <= row.ensemble_hard <= 1 - beaten.mean()
    # label skew (small alpha) leaves each member seeing a few classes: worse members
    assert sweep.member_mean.iloc[0] < sweep.member_mean.iloc[1]
