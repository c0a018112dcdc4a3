"""A discrete-event cross-check of the FIFO engine, in SimPy (imported only when called).

:func:`simpy_fifo_departures` runs one FIFO station with ``servers`` servers as a SimPy
simulation, one process per request (it waits until its arrival, requests a server, holds
it for its service time), so that a chapter can show the vectorised engine
(:func:`idn_core.network.queues.fifo_departures`) and an independent event-driven
simulator agreeing request by request. SimPy is slow (tens of thousands of requests per
second): keep the stream small.

Examples
--------
>>> simpy_fifo_departures(np.array([0.0, 0.5, 3.0]), np.array([1.0, 1.0, 1.0])).tolist()
[1.0, 2.0, 4.0]
"""

from __future__ import annotations

import numpy as np

from idn_core._util.validation import check_positive_int
from idn_core.network.arrivals import check_arrivals

__all__ = ["simpy_fifo_departures"]


def simpy_fifo_departures(
    arrival_s: np.ndarray, service_s: np.ndarray, servers: int = 1
) -> np.ndarray:
    """Departure times (s) ``(R,)`` of a FIFO station, simulated event by event in SimPy.

    Parameters are those of ``fifo_departures``: non-decreasing arrivals (s), finite
    service times >= 0 (s) of the same shape, ``servers`` >= 1.
    """
    import simpy

    a = check_arrivals("arrival_s", arrival_s)
    s = np.asarray(service_s, dtype=float)
    if s.shape != a.shape or not np.isfinite(s).all() or (s < 0).any():
        raise ValueError(f"service_s must be finite, >= 0 and of shape {a.shape}")
    check_positive_int("servers", servers)
    env = simpy.Environment()
    station = simpy.Resource(env, capacity=int(servers))
    departure = np.empty(len(a))

    def request(i: int, ai: float, si: float):
        yield env.timeout(ai)
        with station.request() as claim:
            yield claim
            yield env.timeout(si)
        departure[i] = env.now

    for i, (ai, si) in enumerate(zip(a.tolist(), s.tolist(), strict=True)):
        env.process(request(i, ai, si))
    env.run()
    return departure
