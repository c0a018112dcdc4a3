"""The library's SimPy cross-check agrees with the engine and the tests' own reference."""

from __future__ import annotations

import numpy as np
import pytest
from reference_queues import simpy_fifo

from idn_core.network import fifo_departures, simpy_fifo_departures


@pytest.mark.parametrize("servers", [1, 3])
def test_simpy_check_equals_engine_and_reference(servers):
    rng = np.random.default_rng(servers)
    arrival = np.cumsum(rng.exponential(1.0, 800))
    service = rng.exponential(0.85 * servers, 800)
    ours = simpy_fifo_departures(arrival, service, servers)
    assert np.abs(ours - fifo_departures(arrival, service, servers)).max() <= 1e-9
    assert np.array_equal(ours, simpy_fifo(arrival, service, servers))


def test_bad_input_names_the_argument():
    with pytest.raises(ValueError, match="service_s"):
        simpy_fifo_departures(np.array([0.0, 1.0]), np.array([1.0, np.nan]))
    with pytest.raises(ValueError, match="servers"):
        simpy_fifo_departures(np.array([0.0]), np.array([1.0]), servers=0)
