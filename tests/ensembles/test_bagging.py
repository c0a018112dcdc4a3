"""The label-skew sweep of bagged members, against the members' own predictions."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from idn_core.ensembles import (
    member_parts,
    member_requests,
    member_specs,
    skew_sweep,
    train_bagged,
)
from idn_core.learning import load_dataset, training


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


def _weights(members) -> list[torch.Tensor]:
    return [t for m in members.models for t in m.module.state_dict().values()]


def test_members_trained_in_parallel_have_the_sequential_weights(tmp_path, monkeypatch) -> None:
    data = load_dataset("digits", seed=0)
    specs = member_specs("digits", 3, epochs=2)
    monkeypatch.setattr(training, "PARALLEL_MIN_COST", 0.0)  # tiny members: force the workers
    runs = {}
    # One mode: workers cost a process start each, and the skewed (Dirichlet) members'
    # parallel training is checked by the skew-sweep test below.
    for jobs in ("2", "1"):
        monkeypatch.setenv("IDN_CACHE_DIR", str(tmp_path / jobs))  # the workers inherit it
        monkeypatch.setenv(training.TRAIN_JOBS_ENV, jobs)
        expected = member_requests(specs, member_parts(data, 3, 4, "bootstrap", 0.5), 4)
        trained = training.pretrain(expected, data)
        assert trained == (3 if jobs == "2" else 0)  # jobs 1: train_bagged trains them
        runs[jobs] = train_bagged(data, specs, 4, "bootstrap", 0.5, progress=False)
        assert len(list((tmp_path / jobs / "models").glob("*.pt"))) == 3
    for a, b in zip(_weights(runs["2"]), _weights(runs["1"]), strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=0)
    np.testing.assert_array_equal(runs["2"].test.logits, runs["1"].test.logits)


def test_skew_sweep_pretrains_every_point_and_gives_the_same_table(tmp_path, monkeypatch) -> None:
    data = load_dataset("digits", seed=0)
    specs = member_specs("digits", 2, epochs=1)
    monkeypatch.setattr(training, "PARALLEL_MIN_COST", 0.0)
    tables = {}
    for jobs in ("2", "1"):
        monkeypatch.setenv("IDN_CACHE_DIR", str(tmp_path / jobs))
        monkeypatch.setenv(training.TRAIN_JOBS_ENV, jobs)
        tables[jobs] = skew_sweep(data, [0.2, 5.0], specs, seed=1, progress=False)
    pd.testing.assert_frame_equal(tables["2"], tables["1"])


def test_member_requests_are_checked() -> None:
    data = load_dataset("digits", seed=0)
    specs = member_specs("digits", 2, epochs=1)
    with pytest.raises(ValueError, match="one part per spec"):
        member_requests(specs, member_parts(data, 3), 0)
    with pytest.raises(ValueError, match="mode"):
        member_parts(data, 2, mode="jackknife")
    with pytest.raises(TypeError, match="TrainingRequest"):
        training.pretrain([specs[0]], data, jobs=2)
