"""The library's SimPy cross-check agrees with the vectorised engine request by request.

It is also the single-station SimPy model that ``tests/network/test_queues.py`` checks the
engine against (the network-wide model is ``tests/reference_queues.simpy_network``)."""

from __future__ import annotations

import numpy as np
import pytest

from idn_core.network import fifo_departures, simpy_fifo_departures


@pytest.mark.parametrize("servers", [1, 3])
def test_simpy_check_equals_engine(servers):
    rng = np.random.default_rng(servers)
    arrival = np.cumsum(rng.exponential(1.0, 800))
    service = rng.exponential(0.85 * servers, 800)
    ours = simpy_fifo_departures(arrival, service, servers)
    assert np.abs(ours - fifo_departures(arrival, service, servers)).max() <= 1e-9


def test_bad_input_names_the_argument():
    with pytest.raises(ValueError, match="service_s"):
        simpy_fifo_departures(np.array([0.0, 1.0]), np.array([1.0, np.nan]))
    with pytest.raises(ValueError, match="servers"):
        simpy_fifo_departures(np.array([0.0]), np.array([1.0]), servers=0)
