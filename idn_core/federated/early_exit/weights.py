"""Exit weightings and per-exit aggregation for federated early-exit networks (pure maths).

Kaplan et al. (arXiv 2405.04249) train a nested early-exit network across a tree of nodes:
each round a node trains one exit ``e`` it holds, and the server adds, per exit,
``lambda_tilde[e] * sum_c p[c, e] / q[c, e] * delta[c, e]`` to the global weights, where
``p[c, e]`` is node ``c``'s share of exit ``e``'s training data, ``q[c, e]`` the
probability that ``c`` trains ``e`` in a round (so the sum is unbiased) and ``delta`` the
change of the layers up to exit ``e`` only. The weighting ``lambda_tilde`` is the knob:

* ``"equal"``: ``1/E`` each;
* ``"serving"``: the serving rates ``lambda`` (what each exit will actually answer);
* ``"variance"``: the average of ``lambda`` and variance weights
  ``omega_e ~ 1 / (sigma_e^2 * sum_c p[c, e]^2)`` (``sigma_e`` the gradient standard
  deviation of exit ``e``, measured during training);
* ``"flops"``: proportional to each exit's FLOPs.

Everything here is a pure function of arrays (a Flower ``Strategy`` can call it as is).

Examples
--------
>>> lam = lambda_tilde("variance", [0.8, 0.15, 0.05], sigma=[0.00374, 0.00224, 0.00101],
...                    sum_p2=[0.25, 0.5, 1.0])
>>> np.round(lam, 3).tolist()
[0.486, 0.195, 0.319]
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from idn_core._util.validation import (
    as_float_array,
    check_choice,
    check_finite_array,
    check_fraction,
    check_non_negative,
)
from idn_core.learning.state import State

EXIT_WEIGHTINGS = ("equal", "serving", "variance", "flops")


def check_serving_split(split: Sequence[float], n_exits: int = 3) -> np.ndarray:
    """Validate a serving split: ``n_exits`` non-negative rates summing to one."""
    s = np.asarray(split, dtype=float)
    if s.shape != (n_exits,):
        raise ValueError(f"a serving split needs {n_exits} rates (one per exit), got {s.tolist()}")
    if not np.isfinite(s).all() or (s < 0).any():
        raise ValueError(f"serving rates must be finite and >= 0, got {s.tolist()}")
    if abs(s.sum() - 1.0) > 1e-6:
        raise ValueError(f"serving split must sum to one, got {s.tolist()} (sum {s.sum():.4f})")
    return s


def variance_weights(sigma: Sequence[float], sum_p2: Sequence[float]) -> np.ndarray:
    """Normalised ``omega_e ~ 1 / (sigma_e^2 * sum_c p_c^2)``, ``(E,)``, summing to one.

    Parameters
    ----------
    sigma : gradient standard deviation of each exit, ``(E,)``, positive.
    sum_p2 : ``sum_c p[c, e]^2`` over the nodes training exit ``e``, ``(E,)``, positive.
    """
    sig = np.asarray(sigma, dtype=float)
    sp2 = np.asarray(sum_p2, dtype=float)
    if sig.shape != sp2.shape or sig.ndim != 1 or sig.size == 0:
        raise ValueError(
            f"sigma {sig.shape} and sum_p2 {sp2.shape} must be equal non-empty 1-D shapes"
        )
    if not (np.isfinite(sig).all() and (sig > 0).all()):
        raise ValueError(f"gradient standard deviations must be positive, got {sig.tolist()}")
    if not (np.isfinite(sp2).all() and (sp2 > 0).all()):
        raise ValueError(f"sum_p2 must be positive (every exit needs data), got {sp2.tolist()}")
    with np.errstate(over="ignore", divide="ignore", under="ignore"):
        inv = 1.0 / (sig**2 * sp2)
    if not np.isfinite(inv.sum()):  # tiny sigmas overflow: normalise in log space instead
        log_a = 2.0 * np.log(sig) + np.log(sp2)
        inv = np.exp(log_a.min() - log_a)
    return inv / inv.sum()


def lambda_tilde(
    weighting: str,
    serving: Sequence[float],
    *,
    sigma: Sequence[float] | None = None,
    sum_p2: Sequence[float] | None = None,
    flops: Sequence[float] | None = None,
) -> np.ndarray:
    """Training weights ``lambda_tilde`` ``(E,)`` of the exits, summing to one.

    Parameters
    ----------
    weighting : one of :data:`EXIT_WEIGHTINGS`.
    serving : serving rates ``lambda`` ``(E,)`` (validated: sum to one).
    sigma, sum_p2 : needed by ``"variance"`` (see :func:`variance_weights`).
    flops : needed by ``"flops"``: FLOPs of a forward pass up to each exit.
    """
    check_choice("weighting", weighting, EXIT_WEIGHTINGS)
    lam = check_serving_split(serving, len(serving))
    if weighting == "equal":
        return np.full(len(lam), 1.0 / len(lam))
    if weighting == "serving":
        return lam
    if weighting == "variance":
        if sigma is None or sum_p2 is None:
            raise ValueError("the variance weighting needs the measured sigma and sum_p2")
        return (lam + variance_weights(sigma, sum_p2)) / 2.0
    if flops is None:
        raise ValueError("the flops weighting needs the FLOPs of each exit")
    f = as_float_array("flops", flops)
    if f.shape != lam.shape or not (np.isfinite(f).all() and (f > 0).all()):
        raise ValueError(f"need {len(lam)} positive FLOPs, got {f.tolist()}")
    return f / f.sum()


def exit_data_shares(sizes: Sequence[int], eligible: np.ndarray) -> np.ndarray:
    """Share ``p[c, e]`` of exit ``e``'s training data held by node ``c``, ``(C, E)``.

    Parameters
    ----------
    sizes : training samples per node ``(C,)``; every node needs at least one.
    eligible : bool ``(C, E)``: may node ``c`` train exit ``e`` (participation > 0)?
    """
    n = as_float_array("sizes", sizes)
    el = np.asarray(eligible, dtype=bool)
    if n.ndim != 1 or el.ndim != 2 or el.shape[0] != n.shape[0]:
        raise ValueError(
            f"sizes must be (nodes,) and eligible (nodes, exits), got {n.shape} and {el.shape}"
        )
    if n.size == 0 or not np.isfinite(n).all():
        raise ValueError(f"sizes must be finite sample counts, one per node, got {n.tolist()}")
    if (n <= 0).any():
        raise ValueError(f"node(s) {np.flatnonzero(n <= 0).tolist()} have no training data")
    totals = (n[:, None] * el).sum(axis=0)
    if (totals == 0).any():
        raise ValueError(f"exit(s) {np.flatnonzero(totals == 0).tolist()} are trained by no node")
    return np.where(el, n[:, None] / totals[None, :], 0.0)


def aggregate_exit_updates(
    global_state: Mapping[str, np.ndarray],
    updates: Sequence[tuple[int, int, Mapping[str, np.ndarray]]],
    shares: np.ndarray,
    participation: np.ndarray,
    weights: Sequence[float],
    server_lr: float = 1.0,
) -> State:
    """New global state: ``w + server_lr * sum_(c,e) weights[e] * p[c,e] / q[c,e] * delta``.

    Parameters
    ----------
    global_state : current weights (not modified).
    updates : ``(node, exit, delta)`` triples; ``delta`` maps the names of the layers up to
        that exit to their change (other layers are untouched).
    shares : ``p`` ``(C, E)`` from :func:`exit_data_shares`.
    participation : ``q`` ``(C, E)`` in ``[0, 1]``; ``q[c, e] > 0`` for every update.
    weights : ``lambda_tilde`` ``(E,)``.
    """
    q = check_finite_array("participation", participation, non_negative=True)
    p = check_finite_array("shares", shares, non_negative=True)
    lam = check_finite_array("weights", weights, non_negative=True)
    check_non_negative("server_lr", server_lr)
    if p.ndim != 2:
        raise ValueError(f"shares must have shape (nodes, exits), got {p.shape}")
    if q.shape != p.shape or lam.shape != (p.shape[1],):
        raise ValueError(
            f"shapes disagree: shares {p.shape}, participation {q.shape}, weights {lam.shape}"
        )
    out = {k: np.array(v, copy=True) for k, v in global_state.items()}
    for node, exit_, delta in updates:
        if not 0 <= exit_ < p.shape[1]:
            raise ValueError(f"exit index {exit_} out of range [0, {p.shape[1]})")
        if not 0 <= node < p.shape[0]:
            raise ValueError(f"node index {node} out of range [0, {p.shape[0]})")
        if q[node, exit_] <= 0:
            raise ValueError(
                f"node {node} sent an update for exit {exit_} it does not train (q = 0)"
            )
        coef = server_lr * lam[exit_] * p[node, exit_] / q[node, exit_]
        for name, d in delta.items():
            if name not in out:
                raise KeyError(f"update names unknown parameter {name!r}")
            if np.shape(d) != out[name].shape:
                raise ValueError(
                    f"update of node {node} for {name!r} has shape {np.shape(d)}, "
                    f"the parameter has {out[name].shape}"
                )
            out[name] = (out[name] + coef * np.asarray(d)).astype(out[name].dtype)
    return out


def check_participation(
    matrix: np.ndarray, holds: np.ndarray, node_names: Sequence[str]
) -> np.ndarray:
    """Validate participation probabilities ``(C, E)``: in ``[0, 1]`` and zero on exits not held."""
    q = np.asarray(matrix, dtype=float)
    h = np.asarray(holds, dtype=bool)
    if q.shape != h.shape:
        raise ValueError(f"participation must have shape {h.shape}, got {q.shape}")
    for c, name in enumerate(node_names):
        for e in range(q.shape[1]):
            check_fraction(f"participation probability of {name} for exit {e + 1}", q[c, e])
            if q[c, e] > 0 and not h[c, e]:
                held = [int(i) + 1 for i in np.flatnonzero(h[c])]
                raise ValueError(f"{name} holds exits {held} only; it cannot train exit {e + 1}")
    return q
