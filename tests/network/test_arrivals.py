"""Arrival processes: empirical rates and shapes, the merged timed stream, bad input."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from idn_core.network import (
    BatchArrivals,
    DiurnalArrivals,
    OnOffArrivals,
    PoissonArrivals,
    TimedRequests,
    make_requests,
    poisson_times,
    thinned_arrivals,
    timed_requests,
)


def test_poisson_rate_and_exponential_gaps():
    t = PoissonArrivals(500.0).times(400.0, seed=1)
    expected = 500.0 * 400.0
    assert abs(len(t) - expected) <= 4 * math.sqrt(expected)  # count ~ Poisson(lambda T)
    assert (np.diff(t) >= 0).all() and t[0] >= 0 and t[-1] < 400.0
    assert stats.kstest(np.diff(t), "expon", args=(0, 1 / 500.0)).pvalue > 1e-3
    assert np.array_equal(t, PoissonArrivals(500.0).times(400.0, seed=1))  # seeded
    assert not np.array_equal(t[:100], PoissonArrivals(500.0).times(400.0, seed=2)[:100])
    assert len(PoissonArrivals(0.0).times(10.0)) == 0


def test_on_off_rate_and_burstiness():
    proc = OnOffArrivals(rate_on_per_s=900.0, mean_on_s=0.5, mean_off_s=1.0, rate_off_per_s=30.0)
    assert proc.mean_rate_per_s == pytest.approx(320.0)
    t = proc.times(3000.0, seed=0)
    # ~2000 on/off cycles: the count's relative sd is about 1.2 %, so 5 % is > 4 sd
    assert len(t) / 3000.0 == pytest.approx(proc.mean_rate_per_s, rel=0.05)
    counts = np.bincount((t / 0.1).astype(int))  # counts in 0.1 s windows
    assert counts.var() / counts.mean() > 5  # overdispersed, unlike Poisson (ratio 1)
    assert (np.diff(t) >= 0).all() and t[-1] < 3000.0


def test_batch_rate_and_batches():
    proc = BatchArrivals(batch_rate_per_s=200.0, mean_batch_size=4.0)
    t = proc.times(500.0, seed=3)
    assert len(t) / 500.0 == pytest.approx(800.0, rel=0.02)  # sd ~0.4 %
    sizes = np.unique(t, return_counts=True)[1]
    assert sizes.mean() == pytest.approx(4.0, rel=0.02) and sizes.min() == 1
    assert (np.diff(t) >= 0).all()


def test_diurnal_profile_follows_the_rate():
    proc = DiurnalArrivals(100.0, amplitude=0.8, period_s=1000.0, peak_s=250.0)
    t = proc.times(10_000.0, seed=4)
    assert len(t) / 10_000.0 == pytest.approx(100.0, rel=0.02)  # 10 whole periods
    phase = np.bincount(((t % 1000.0) / 100).astype(int), minlength=10) / (10 * 100.0)
    centres = np.arange(10) * 100.0 + 50.0
    window_mean = 100.0 * (1 + 0.8 * np.sinc(0.1) * np.cos(2 * np.pi * (centres - 250.0) / 1000))
    # each 100 s phase window holds ~1e4 arrivals over the 10 days: sd ~1 %
    assert np.allclose(phase, window_mean, rtol=0.06)
    assert phase.argmax() == 2  # the peak at 250 s falls in the window [200, 300)


def test_thinning_any_profile_and_its_bound():
    t = thinned_arrivals(lambda x: np.where(x < 50.0, 200.0, 20.0), 200.0, 100.0, seed=0)
    assert (t < 50).sum() / 50 == pytest.approx(200.0, rel=0.05)
    assert (t >= 50).sum() / 50 == pytest.approx(20.0, rel=0.15)
    with pytest.raises(ValueError, match="rate_max_per_s"):
        thinned_arrivals(lambda x: np.full(len(x), 300.0), 200.0, 10.0)
    with pytest.raises(ValueError, match="rate_fn must be finite"):
        thinned_arrivals(lambda x: np.full(len(x), np.nan), 200.0, 10.0)


def test_timed_requests_merges_devices_in_time_order():
    devices = ("d0", "d1", "d2")
    procs = [PoissonArrivals(100.0), BatchArrivals(20.0, 5.0), PoissonArrivals(300.0)]
    timed = timed_requests(procs, devices, 50, 200.0, seed=7)
    assert (np.diff(timed.arrival_s) >= 0).all()
    rates = np.bincount(timed.device, minlength=3) / 200.0
    assert np.allclose(rates, [100.0, 100.0, 300.0], rtol=0.1)
    assert timed.sample.min() >= 0 and timed.sample.max() < 50
    assert np.bincount(timed.sample).min() > 0.8 * len(timed) / 50  # uniform samples
    again = timed_requests(procs, devices, 50, 200.0, seed=7)
    assert np.array_equal(again.arrival_s, timed.arrival_s)
    assert np.array_equal(again.sample, timed.sample)
    shared = timed_requests(PoissonArrivals(50.0), devices, 5, 20.0, seed=0)
    per_dev = [shared.arrival_s[shared.device == d][:20] for d in range(3)]
    assert not np.array_equal(per_dev[0], per_dev[1])  # each device its own stream
    assert timed.counts().sum() == len(timed) and timed.counts().shape == (3, 50)
    head = timed.head(10)
    assert len(head) == 10 and np.array_equal(head.arrival_s, timed.arrival_s[:10])


def test_from_stream_and_bad_streams():
    stream = make_requests(5, 4, ("a", "b"), seed=0)
    timed = TimedRequests.from_stream(stream, np.array([0.0, 0.1, 0.1, 0.3, 0.4]))
    assert np.array_equal(timed.flat, stream.flat)
    with pytest.raises(ValueError, match="arrival_s must be sorted.*element 2"):
        TimedRequests.from_stream(stream, np.array([0.0, 0.2, 0.1, 0.3, 0.4]))
    with pytest.raises(ValueError, match="arrival_s must be finite"):
        TimedRequests.from_stream(stream, np.array([0.0, 0.2, np.nan, 0.3, 0.4]))
    with pytest.raises(ValueError, match="arrival_s must be >= 0"):
        TimedRequests.from_stream(stream, np.array([-1.0, 0.2, 0.3, 0.3, 0.4]))
    with pytest.raises(ValueError, match="arrival_s must have one entry per request"):
        TimedRequests.from_stream(stream, np.arange(4.0))
    with pytest.raises(ValueError, match="device must lie in"):
        TimedRequests(stream.sample, stream.device + 5, ("a", "b"), 4, np.arange(5.0))


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: PoissonArrivals(-1.0), "rate_per_s must be >= 0"),
        (lambda: PoissonArrivals(float("nan")), "rate_per_s must be a finite"),
        (lambda: OnOffArrivals(-5.0, 1.0, 1.0), "rate_on_per_s"),
        (lambda: OnOffArrivals(5.0, 0.0, 1.0), "mean_on_s"),
        (lambda: OnOffArrivals(5.0, 1.0, 1.0, float("nan")), "rate_off_per_s"),
        (lambda: BatchArrivals(-1.0, 2.0), "batch_rate_per_s"),
        (lambda: BatchArrivals(1.0, 0.5), "mean_batch_size must be >= 1"),
        (lambda: DiurnalArrivals(-3.0), "mean_rate_per_s"),
        (lambda: DiurnalArrivals(3.0, amplitude=1.5), "amplitude"),
        (lambda: DiurnalArrivals(3.0, period_s=0.0), "period_s"),
        (lambda: poisson_times(float("nan"), 1.0, np.random.default_rng(0)), "rate_per_s"),
        (lambda: PoissonArrivals(1.0).times(-1.0), "duration_s"),
        (lambda: timed_requests(PoissonArrivals(1.0), (), 3, 1.0), "devices"),
        (lambda: timed_requests([PoissonArrivals(1.0)] * 2, ("a",), 3, 1.0), "processes"),
        (lambda: timed_requests(PoissonArrivals(1.0), ("a",), 0, 1.0), "n_samples"),
    ],
)
def test_bad_input_names_the_argument(make, message):
    with pytest.raises(ValueError, match=message):
        make()
