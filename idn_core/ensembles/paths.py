"""Ensembles placed on a device-edge-cloud path, priced and evaluated like chapter 2's cascades.

A *path ensemble* is a list of members, each on one tier of the path (several may share a
node, e.g. a committee at the edge). Members of one tier form a **stage**: a request that
reaches the stage queries all of them at once. A cascade of ensembles (Wang et al. 2022)
stops after the first stage whose running combination is confident; its stage-level
latency (:func:`stage_latency`) is a plain :class:`~idn_core.network.latency.PathLatency`, so
chapter 2's exact threshold grids (:func:`idn_core.delivery.search.cascade_grid`) search it
unchanged, and its member-level :class:`~idn_core.delivery.evaluation.Decision` goes through the
same evaluator as every other policy.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from idn_core.delivery.evaluation import Decision
from idn_core.delivery.policies import cascade_answer
from idn_core.ensembles.combining import Stacking, combine, vote_weights
from idn_core.learning.outputs import OutputsTable
from idn_core.learning.scores import confidence
from idn_core.network.latency import PathLatency
from idn_core.network.query_latency import QueryLatency, member_latency


@dataclass(frozen=True)
class PathEnsemble:
    """Members on the tiers of a path, with their outputs and latencies.

    Attributes
    ----------
    val, test : outputs of the ``M`` members (path order) on the validation and test splits.
    member_tier : int ``(M,)`` non-decreasing tier of each member (its stage).
    latency : member-level :class:`QueryLatency` (``M`` positions).
    path : the underlying path latency (``K`` tiers).
    """

    val: OutputsTable
    test: OutputsTable
    member_tier: np.ndarray
    latency: QueryLatency
    path: PathLatency

    @property
    def n_members(self) -> int:
        return int(self.member_tier.size)

    @property
    def stages(self) -> np.ndarray:
        """Tiers that hold at least one member, in path order."""
        return np.unique(self.member_tier)

    def stage_of_member(self) -> np.ndarray:
        """Stage index ``(M,)`` of each member."""
        return np.searchsorted(self.stages, self.member_tier)

    def stage_latency(self) -> PathLatency:
        """One position per stage: its node, round trip and the summed compute of its members."""
        return stage_latency(self.latency, self.stage_of_member())


def path_ensemble(
    path: PathLatency,
    val: OutputsTable,
    test: OutputsTable,
    member_tier: list[int] | np.ndarray,
    member_flops: list[float],
    gflops: dict[str, float],
    mode: str = "relay",
) -> PathEnsemble:
    """Build a :class:`PathEnsemble` (validates that tables and tiers agree)."""
    tiers = np.asarray(member_tier, dtype=int)
    if val.models != test.models or val.n_models != tiers.size:
        raise ValueError(
            f"val/test tables must hold the same {tiers.size} members, got {val.models}, {test.models}"
        )
    lat = member_latency(path, tiers, member_flops, gflops, mode)
    return PathEnsemble(val, test, tiers, lat, path)


def stage_latency(latency: PathLatency, member_stage: np.ndarray) -> PathLatency:
    """Stage-level latency: members of a stage share its node; their compute times add up."""
    stage = np.asarray(member_stage, dtype=int)
    if stage.shape != (latency.n_tiers,) or (np.diff(stage) < 0).any() or stage[0] != 0:
        raise ValueError(f"member_stage must be non-decreasing from 0, one per member, got {stage}")
    n_stages = int(stage[-1]) + 1
    first = np.searchsorted(stage, np.arange(n_stages))
    compute = np.stack([latency.compute_ms[:, stage == s].sum(axis=1) for s in range(n_stages)], 1)
    return PathLatency(
        latency.devices,
        latency.nodes[:, first],
        tuple(latency.tiers[i] for i in first),
        latency.rtt_ms[:, first],
        compute,
    )


def stage_running(
    probs: np.ndarray,
    member_stage: np.ndarray,
    rule: str = "soft",
    weights: np.ndarray | None = None,
    cumulative: bool = True,
) -> np.ndarray:
    """Combination ``(S, N, C)`` at each stage ``s``.

    With ``cumulative`` it combines every member of stages ``0..s`` (the request carries
    the answers of the stages below); otherwise only the members of stage ``s`` (each
    stage is its own committee, as in Wang et al.'s cascades of ensembles).
    """
    stage = np.asarray(member_stage, dtype=int)
    w = np.ones(stage.size) if weights is None else np.asarray(weights, dtype=float)
    out = []
    for s in range(int(stage[-1]) + 1):
        keep = stage <= s if cumulative else stage == s
        out.append(combine(np.asarray(probs)[keep], rule, w[keep]))
    return np.stack(out)


def stage_decision(
    running: np.ndarray, member_stage: np.ndarray, thresholds: np.ndarray, score: str = "max_prob"
) -> Decision:
    """Member-level decision of a cascade of ensembles over stages.

    Parameters
    ----------
    running : ``(S, N, C)`` running combination per stage (:func:`stage_running`).
    member_stage : ``(M,)`` stage of each member.
    thresholds : ``(S - 1,)`` thresholds on the running combination's confidence.
    """
    stage = np.asarray(member_stage, dtype=int)
    run = np.asarray(running, dtype=float)
    if run.shape[0] != int(stage[-1]) + 1:
        raise ValueError(f"running has {run.shape[0]} stages, members span {int(stage[-1]) + 1}")
    answer_stage = cascade_answer(confidence(run[:-1], score), thresholds)
    n = np.arange(run.shape[1])
    last_member = np.searchsorted(stage, np.arange(run.shape[0]), side="right") - 1
    queried = stage[None, :] <= answer_stage[:, None]
    return Decision(queried, last_member[answer_stage], run.argmax(axis=2)[answer_stage, n])


def rule_accuracies(ens: PathEnsemble, subsets: dict[str, list[int]]) -> pd.DataFrame:
    """Test accuracy of every combination rule on subsets of the members (all queried).

    Weights and the stacker are fitted on the validation split. Returns one row per subset
    (index) and one column per rule, plus the best single member of the subset.
    """
    y_v, y_t = ens.val.labels, ens.test.labels
    rows = {}
    for name, idx in subsets.items():
        pv, pt = ens.val.probs()[idx], ens.test.probs()[idx]
        acc_w = vote_weights(ens.val.correct()[idx], "accuracy")
        lo_w = vote_weights(ens.val.correct()[idx], "log_odds", ens.val.n_classes)
        preds = {
            "best member": pt.argmax(2)[int(np.argmax(acc_w))],
            "hard vote": combine(pt, "hard").argmax(1),
            "weighted hard vote": combine(pt, "hard", lo_w).argmax(1),
            "soft vote": combine(pt, "soft").argmax(1),
            "weighted soft vote": combine(pt, "soft", acc_w).argmax(1),
            "weighted log vote": combine(pt, "log", lo_w).argmax(1),
            "stacking": Stacking().fit(pv, y_v).predict_proba(pt).argmax(1),
        }
        rows[name] = {k: float((v == y_t).mean()) for k, v in preds.items()}
    return pd.DataFrame(rows).T
