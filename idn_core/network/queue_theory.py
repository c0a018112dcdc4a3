"""Closed forms of single-station queues, to check the simulated queues against.

Rates are per second and waits in **seconds**; the wait is the mean time in the queue
before service (``W_q``), in steady state, for Poisson arrivals of rate ``lambda`` and
servers of rate ``mu`` (mean service time ``1 / mu``):

* M/M/1: ``W_q = rho / (mu - lambda)`` with ``rho = lambda / mu``;
* M/D/1 (deterministic service): ``W_q = rho / (2 mu (1 - rho))``;
* M/M/c: ``W_q = C(c, a) / (c mu - lambda)`` with ``a = lambda / mu`` and Erlang's C
  formula, computed with the numerically stable Erlang-B recursion (no SciPy).

A steady state exists only for utilisation ``rho = lambda / (c mu) < 1``: every formula
refuses ``rho >= 1`` with a ``ValueError`` saying so (a simulation then shows the queue
growing without bound).

Examples
--------
>>> round(mm1_wait_s(0.8, 1.0), 6), round(md1_wait_s(0.8, 1.0), 6)
(4.0, 2.0)
>>> round(erlang_c(1, 0.8), 6)
0.8
"""

from __future__ import annotations

from idn_core._util.validation import check_non_negative, check_positive, check_positive_int

__all__ = ["erlang_c", "md1_wait_s", "mm1_wait_s", "mmc_wait_s", "utilisation"]


def utilisation(arrival_rate_per_s: float, service_rate_per_s: float, servers: int = 1) -> float:
    """``rho = lambda / (c mu)``; ``ValueError`` unless it is below 1 (a steady state)."""
    lam = check_non_negative("arrival_rate_per_s", arrival_rate_per_s)
    mu = check_positive("service_rate_per_s", service_rate_per_s)
    c = check_positive_int("servers", servers)
    rho = lam / (c * mu)
    if rho >= 1:
        raise ValueError(
            f"utilisation lambda / (c mu) = {rho:.4g} >= 1: the queue has no steady state "
            "(it grows without bound), so the closed form does not apply"
        )
    return rho


def erlang_c(servers: int, offered_load: float) -> float:
    """Probability that an arrival waits in M/M/c, ``offered_load = lambda / mu`` (Erlangs).

    Erlang B by the recursion ``B_k = a B_{k-1} / (k + a B_{k-1})``, then
    ``C = c B / (c - a (1 - B))``; requires ``a < c``.
    """
    c = check_positive_int("servers", servers)
    a = check_non_negative("offered_load", offered_load)
    if a >= c:
        raise ValueError(
            f"utilisation offered_load / servers = {a / c:.4g} >= 1: no steady state, "
            "Erlang C does not apply"
        )
    b = 1.0
    for k in range(1, c + 1):
        b = a * b / (k + a * b)
    return c * b / (c - a * (1 - b))


def mm1_wait_s(arrival_rate_per_s: float, service_rate_per_s: float) -> float:
    """Mean wait in queue (s) of M/M/1: ``rho / (mu - lambda)``."""
    rho = utilisation(arrival_rate_per_s, service_rate_per_s)
    return rho / (service_rate_per_s - arrival_rate_per_s)


def md1_wait_s(arrival_rate_per_s: float, service_rate_per_s: float) -> float:
    """Mean wait in queue (s) of M/D/1: ``rho / (2 mu (1 - rho))``."""
    rho = utilisation(arrival_rate_per_s, service_rate_per_s)
    return rho / (2 * service_rate_per_s * (1 - rho))


def mmc_wait_s(arrival_rate_per_s: float, service_rate_per_s: float, servers: int) -> float:
    """Mean wait in queue (s) of M/M/c: ``C(c, lambda / mu) / (c mu - lambda)``."""
    utilisation(arrival_rate_per_s, service_rate_per_s, servers)
    a = arrival_rate_per_s / service_rate_per_s
    return erlang_c(servers, a) / (servers * service_rate_per_s - arrival_rate_per_s)
