"""Admission control at a FIFO station, against a brute-force replay with the engine."""

from __future__ import annotations

import numpy as np
import pytest

from idn_core.network import fifo_admission, fifo_departures


def brute_force(arrival, service, latest, servers):
    """Admit request n iff, replaying the admitted ones plus n through the engine, n leaves in time."""
    admitted = []
    for n in range(len(arrival)):
        trial = admitted + [n]
        dep = fifo_departures(arrival[trial], service[trial], servers)
        if dep[-1] <= latest[n]:
            admitted.append(n)
    mask = np.zeros(len(arrival), dtype=bool)
    mask[admitted] = True
    return mask


@pytest.mark.parametrize("servers", [1, 3])
def test_admission_matches_brute_force_replay(servers):
    rng = np.random.default_rng(servers)
    arrival = np.cumsum(rng.exponential(0.8 / servers, 400))
    service = rng.exponential(1.0, 400)
    latest = arrival + rng.uniform(0.5, 4.0, 400)
    admitted, dep = fifo_admission(arrival, service, latest, servers)
    assert np.array_equal(admitted, brute_force(arrival, service, latest, servers))
    assert 0 < admitted.sum() < len(arrival)
    assert np.isnan(dep[~admitted]).all()
    assert np.allclose(
        dep[admitted], fifo_departures(arrival[admitted], service[admitted], servers)
    )
    assert (dep[admitted] <= latest[admitted]).all()


def test_infinite_latest_departure_is_the_plain_queue():
    arrival = np.array([0.0, 0.1, 0.1, 2.0])
    service = np.array([1.0, 1.0, 0.5, 0.2])
    admitted, dep = fifo_admission(arrival, service, np.full(4, np.inf))
    assert admitted.all()
    assert np.allclose(dep, fifo_departures(arrival, service))


def test_bad_input_names_the_argument():
    a, s = np.array([0.0, 1.0]), np.array([1.0, 1.0])
    with pytest.raises(ValueError, match="arrival_s"):
        fifo_admission(np.array([1.0, 0.0]), s, a)
    with pytest.raises(ValueError, match="service_s"):
        fifo_admission(a, np.array([1.0, -1.0]), a)
    with pytest.raises(ValueError, match="latest_departure_s"):
        fifo_admission(a, s, np.array([np.nan, 1.0]))
    with pytest.raises(ValueError, match="latest_departure_s"):
        fifo_admission(a, s, np.array([1.0]))
    with pytest.raises(ValueError, match="servers"):
        fifo_admission(a, s, a, servers=0)


def test_requests_per_slot_is_servers_times_speed_over_flops():
    from idn_core.network import NodeCapacity

    node = NodeCapacity(servers=3, speed_flops_per_s=1e10)
    assert node.requests_per_slot(1e5, 0.01) == 3 * 1000  # an exact multiple stays exact
    assert node.requests_per_slot(3e5, 0.01) == 3 * 333
    with pytest.raises(ValueError, match="slot_s"):
        node.requests_per_slot(1e5, 0.0)
    with pytest.raises(ValueError, match="flops"):
        node.requests_per_slot(-1.0, 0.01)
