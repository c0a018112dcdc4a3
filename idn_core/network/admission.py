"""Admission control at a FIFO station: turn away a request that cannot leave in time.

Times are in **seconds**. A station with ``servers`` identical FIFO servers receives
requests in arrival order; each carries the latest time by which it must leave the
station to be of any use (for a node of an IDN: the request's deadline minus the time
its answer needs to travel back down to the device). On arrival the station knows, from
its own queue, exactly when the request would leave (FIFO: later arrivals never overtake
it), so it **admits** the request only if that departure is no later than its latest
departure, and otherwise hands it back at once without queueing it. Rejected requests
take no server time, so the queue that later requests see is that of the admitted ones.

The rule is sequential by nature (whether request ``n`` is admitted depends on which
earlier requests were), so :func:`fifo_admission` is a plain loop over the requests: a
single server keeps the last admitted departure, ``c`` servers the heap of the servers'
free times (Kiefer-Wolfowitz), as :func:`idn_core.network.queues.fifo_departures` does
without admission. With every latest departure at infinity it returns those departures.

Examples
--------
>>> admitted, departure = fifo_admission(
...     np.array([0.0, 0.1, 0.2]), np.array([1.0, 1.0, 1.0]), np.array([5.0, 1.5, 5.0])
... )
>>> admitted.tolist(), departure.tolist()
([True, False, True], [1.0, nan, 2.0])
"""

from __future__ import annotations

import heapq
import math

import numpy as np

from idn_core._util.validation import check_positive_int
from idn_core.network.arrivals import check_arrivals

__all__ = ["fifo_admission"]


def fifo_admission(
    arrival_s: np.ndarray,
    service_s: np.ndarray,
    latest_departure_s: np.ndarray,
    servers: int = 1,
) -> tuple[np.ndarray, np.ndarray]:
    """Which requests a FIFO station admits, and when the admitted ones leave.

    Parameters
    ----------
    arrival_s : float ``(R,)``, non-decreasing arrival times (s) at the station.
    service_s : float ``(R,)``, service times (s), finite and >= 0.
    latest_departure_s : float ``(R,)``, the latest useful departure of each request (s);
        ``inf`` admits unconditionally; no NaN.
    servers : int >= 1.

    Returns
    -------
    admitted : bool ``(R,)``, the request's departure would be ``<= latest_departure_s``.
    departure_s : float ``(R,)``, departure time (s) of admitted requests, NaN for the
        rejected ones (they leave at their arrival, handed back).
    """
    a = check_arrivals("arrival_s", arrival_s)
    s = np.asarray(service_s, dtype=float)
    if s.shape != a.shape:
        raise ValueError(f"service_s must have shape {a.shape}, got {s.shape}")
    if not np.isfinite(s).all() or (s < 0).any():
        raise ValueError("service_s must be finite and >= 0")
    latest = np.asarray(latest_departure_s, dtype=float)
    if latest.shape != a.shape:
        raise ValueError(f"latest_departure_s must have shape {a.shape}, got {latest.shape}")
    if np.isnan(latest).any():
        raise ValueError("latest_departure_s contains NaN")
    check_positive_int("servers", servers)
    return _admit(a, s, latest, int(servers))


def _admit(
    a: np.ndarray, s: np.ndarray, latest: np.ndarray, servers: int
) -> tuple[np.ndarray, np.ndarray]:
    """Unchecked admission loop (see :func:`fifo_admission`)."""
    admitted = np.zeros(len(a), dtype=bool)
    departure = np.full(len(a), np.nan)
    heap = [-math.inf] * servers
    rows = zip(a.tolist(), s.tolist(), latest.tolist(), strict=True)
    for i, (ai, si, li) in enumerate(rows):
        free = heap[0]
        d = (ai if ai > free else free) + si
        if d <= li:
            heapq.heapreplace(heap, d)
            admitted[i] = True
            departure[i] = d
    return admitted, departure
