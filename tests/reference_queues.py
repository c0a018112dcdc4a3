"""Discrete-event reference of the queueing engine, in SimPy, one process per request.

Used by ``tests/network/test_queues.py`` and ``benchmarks/load.py`` to check
``idn_core.network.queues`` request by request on a whole network (one FIFO station's SimPy
model is the library's own ``idn_core.network.simpy_fifo_departures``, which the tests use
directly). Each request is a SimPy process started at time 0 that waits until its arrival
(so its arrival time is exact, ``0 + a``), then climbs its path: at every visited tier it
requests one server of the node (a FIFO ``simpy.Resource`` of ``servers`` capacity) and
holds it for its service time; between tiers it requests a queued link's single server for
the transmission time, then waits the pure link delay; finally the answer's way down is
added."""

from __future__ import annotations

import numpy as np
import simpy


def simpy_network(network, requests, visits: np.ndarray, service_s: np.ndarray):
    """Response times ``(R,)`` and node departure times ``(R, K)`` (NaN where not served).

    ``service_s`` ``(R, K)``: the service times to use (e.g. a ``LoadResult``'s).
    """
    env = simpy.Environment()
    node_res = {n: simpy.Resource(env, network.capacity[n].servers) for n in network.names}
    link_res = {n: simpy.Resource(env, 1) for n, u in network.uplinks.items() if u.queued}
    up, down = network.up_delay_s(), network.down_s()
    tx = network.transmission_s()
    nodes = np.asarray(network.nodes)
    n_req, k_tiers = visits.shape
    deepest = k_tiers - 1 - np.argmax(visits[:, ::-1], axis=1)
    response = np.full(n_req, np.nan)
    done = np.full((n_req, k_tiers), np.nan)

    def request(r: int, a: float, d: int):
        yield env.timeout(a)
        for k in range(int(deepest[r]) + 1):
            if visits[r, k]:
                with node_res[nodes[d, k]].request() as req:
                    yield req
                    yield env.timeout(float(service_s[r, k]))
                done[r, k] = env.now
            if k < deepest[r]:
                if nodes[d, k] in link_res:
                    with link_res[nodes[d, k]].request() as req:
                        yield req
                        yield env.timeout(float(tx[d, k]))
                yield env.timeout(float(up[d, k]))
        response[r] = env.now + down[d, deepest[r]] - a

    for r, (a, d) in enumerate(
        zip(requests.arrival_s.tolist(), requests.device.tolist(), strict=True)
    ):
        env.process(request(r, a, d))
    env.run()
    return response, done
