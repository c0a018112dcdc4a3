"""One round of federated early-exit training, split into its client and server halves.

Both backends of :func:`idn_core.federated.early_exit.training.run_early_exit` (the in-process loop
and Flower, :mod:`idn_core.federated.early_exit.flower`) call exactly these functions:

* :func:`draw_exits` (server): which exits each node trains this round, one
  ``rng.random(E) < q[c]`` draw per node in node order;
* :func:`node_exit_updates` (client): a node's local updates of its drawn exits, each
  from the same global state with seed :func:`idn_core.federated.fedavg.client_seed`
  ``(seed, round, node * E + exit)`` (independent of scheduling order);
* :func:`server_round` (server): smoothed gradient standard deviations, the
  lambda-tilde weights and :func:`idn_core.federated.early_exit.weights.aggregate_exit_updates` over
  the updates in (node, exit) order.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from idn_core._util.validation import check_seed
from idn_core.federated.early_exit.config import EarlyExitConfig
from idn_core.federated.early_exit.net import EarlyExitNet, ExitUpdate, local_exit_update
from idn_core.federated.early_exit.weights import aggregate_exit_updates, lambda_tilde
from idn_core.federated.rounds import client_seed
from idn_core.learning.state import State


def draw_exits(rng: np.random.Generator, participation: np.ndarray) -> list[np.ndarray]:
    """Per node ``c``, the exits (sorted) it trains this round: those with ``u < q[c, e]``.

    Parameters
    ----------
    rng : the server's generator (advanced by one ``(E,)`` uniform draw per node).
    participation : ``q`` ``(C, E)`` in ``[0, 1]``.
    """
    q = np.asarray(participation, dtype=float)
    return [np.flatnonzero(rng.random(q.shape[1]) < q[c]) for c in range(q.shape[0])]


def node_exit_updates(
    net: EarlyExitNet,
    global_state: State,
    x: np.ndarray,
    y: np.ndarray,
    *,
    node: int,
    exits: Sequence[int],
    round_: int,
    seed: int,
    config: EarlyExitConfig,
) -> list[ExitUpdate]:
    """Node ``node``'s updates of ``exits`` (0-based round ``round_``), each from ``global_state``."""
    check_seed(seed)
    n_exits = len(config.channels)
    return [
        local_exit_update(
            net,
            global_state,
            x,
            y,
            node=node,
            exit_=int(e),
            steps=config.local_steps,
            batch_size=config.batch_size,
            lr=config.lr,
            momentum=config.momentum,
            seed=client_seed(seed, round_, node * n_exits + int(e)),
        )
        for e in exits
    ]


def server_round(
    state: State,
    updates: Sequence[ExitUpdate],
    sigma: np.ndarray,
    *,
    config: EarlyExitConfig,
    shares: np.ndarray,
    participation: np.ndarray,
    sum_p2: np.ndarray,
    flops: np.ndarray,
    round_: int,
) -> tuple[State, np.ndarray, dict[str, float]]:
    """Aggregate one round: returns the new state, the smoothed sigma ``(E,)`` and a history row.

    ``sigma`` (NaN where no exit has been measured yet) is not modified; each exit's new
    value is the mean of this round's measurements averaged with the previous one.
    Updates are applied in (node, exit) order so that both backends sum identically.
    """
    n_exits = len(config.channels)
    ordered = sorted(updates, key=lambda u: (u.node, u.exit))
    sigma = np.array(sigma, dtype=float, copy=True)
    for e in range(n_exits):
        measured = [u.grad_sigma for u in ordered if u.exit == e]
        if measured:
            new = float(np.mean(measured))
            sigma[e] = new if np.isnan(sigma[e]) else 0.5 * sigma[e] + 0.5 * new
    fill = 1.0 if np.isnan(sigma).all() else np.nanmean(sigma)
    known = np.where(np.isnan(sigma), fill, sigma)
    lam = lambda_tilde(
        config.weighting, config.serving_split, sigma=known, sum_p2=sum_p2, flops=flops
    )
    triples = [(u.node, u.exit, u.delta) for u in ordered]
    state = aggregate_exit_updates(state, triples, shares, participation, lam, config.server_lr)
    if not all(np.isfinite(v).all() for v in state.values()):
        raise FloatingPointError(
            f"training diverged in round {round_ + 1}: lower lr ({config.lr}) or server_lr "
            f"({config.server_lr})"
        )
    row: dict[str, float] = {"round": round_ + 1, "updates": len(ordered)}
    row.update({f"lambda{e + 1}": float(lam[e]) for e in range(n_exits)})
    row.update({f"sigma{e + 1}": float(known[e]) for e in range(n_exits)})
    return state, sigma, row
