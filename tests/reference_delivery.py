"""Plain per-request reference implementations of delivery, for checking the vectorised evaluator.

Also holds :func:`synthetic`, the random scenarios the property tests draw.

Written the obvious way, one request at a time, walking the device's path. They share no
code with :mod:`idn_core.delivery.evaluation` beyond the latency numbers of the path (``rtt_ms`` and
``compute_ms``), and add them in the same order, so outcomes must be *identical*.
Also used by ``benchmarks/cascades.py`` (loaded by file path) to time the loop.
"""

from __future__ import annotations

import numpy as np

from idn_core.learning import OutputsTable
from idn_core.network import PathLatency


def _latency(rtt_row, compute_row, queried: list[int], parallel: bool = False) -> float:
    if parallel:
        return max(rtt_row[j] + compute_row[j] for j in queried)
    value = rtt_row[queried[-1]]
    for j in queried:
        value += compute_row[j]
    return value


def reference_cascade(conf, thresholds, predictions, labels, sample, device, rtt_ms, compute_ms):
    """Threshold cascade request by request: answer at the first tier with confidence >= threshold.

    A threshold of 1 means "always forward". Returns a dict of per-request lists.
    """
    n_tiers = predictions.shape[0]
    out = {"answer_tier": [], "prediction": [], "correct": [], "latency_ms": [], "n_queried": []}
    for s, d in zip(sample.tolist(), device.tolist(), strict=True):
        queried = []
        tier = 0
        while True:
            queried.append(tier)
            if tier == n_tiers - 1:
                break
            t = thresholds[d][tier] if np.ndim(thresholds) == 2 else thresholds[tier]
            if t < 1.0 and conf[tier][s] >= t:
                break
            tier += 1
        pred = int(predictions[tier][s])
        out["answer_tier"].append(tier)
        out["prediction"].append(pred)
        out["correct"].append(pred == int(labels[s]))
        out["latency_ms"].append(_latency(rtt_ms[d], compute_ms[d], queried))
        out["n_queried"].append(len(queried))
    return out


def reference_oracle(correct, predictions, labels, sample, device, rtt_ms, compute_ms, skip=True):
    """The oracle request by request: keep the device's answer if right, else go to the first right tier."""
    n_tiers = predictions.shape[0]
    out = {"answer_tier": [], "prediction": [], "correct": [], "latency_ms": [], "n_queried": []}
    for s, d in zip(sample.tolist(), device.tolist(), strict=True):
        tier = 0
        if not correct[0][s]:
            for k in range(1, n_tiers):
                if correct[k][s]:
                    tier = k
                    break
        queried = sorted({0, tier}) if skip else list(range(tier + 1))
        pred = int(predictions[tier][s])
        out["answer_tier"].append(tier)
        out["prediction"].append(pred)
        out["correct"].append(pred == int(labels[s]))
        out["latency_ms"].append(_latency(rtt_ms[d], compute_ms[d], queried))
        out["n_queried"].append(len(queried))
    return out


def reference_decision(
    queried, answer_tier, predictions, labels, sample, device, rtt_ms, compute_ms, parallel=False
):
    """Any per-sample (or per device and sample) decision, request by request."""
    per_device = np.ndim(answer_tier) == 2
    out = {"answer_tier": [], "prediction": [], "correct": [], "latency_ms": [], "n_queried": []}
    for s, d in zip(sample.tolist(), device.tolist(), strict=True):
        row = queried[d][s] if per_device else queried[s]
        tier = int(answer_tier[d][s] if per_device else answer_tier[s])
        tiers = [k for k in range(len(row)) if row[k]]
        pred = int(predictions[tier][s])
        out["answer_tier"].append(tier)
        out["prediction"].append(pred)
        out["correct"].append(pred == int(labels[s]))
        out["latency_ms"].append(_latency(rtt_ms[d], compute_ms[d], tiers, parallel))
        out["n_queried"].append(len(tiers))
    return out


def reference_carried_evidence(
    probs, thresholds, labels, sample, device, rtt_ms, compute_ms, carried_ms
):
    """Carried-evidence forwarding with the product rule, request by request.

    At tier ``k`` the request holds the probability vectors of tiers ``0..k`` (``probs``
    ``(K, N, C)``); their normalised product decides (rescaled maximum probability against
    the hop's threshold, 1 = always forward) and predicts. ``carried_ms[d][k]`` is the delay
    the carried outputs add to the round trip to tier ``k``.
    """
    n_tiers, _, n_classes = np.shape(probs)
    out = {"answer_tier": [], "prediction": [], "correct": [], "latency_ms": [], "n_queried": []}
    for s, d in zip(sample.tolist(), device.tolist(), strict=True):
        pooled = np.ones(n_classes)
        tier = 0
        while True:
            pooled = pooled * probs[tier][s]
            belief = pooled / pooled.sum()
            if tier == n_tiers - 1:
                break
            conf = (belief.max() - 1.0 / n_classes) / (1.0 - 1.0 / n_classes)
            if thresholds[tier] < 1.0 and conf >= thresholds[tier]:
                break
            tier += 1
        rtt_row = [rtt_ms[d][k] + carried_ms[d][k] for k in range(n_tiers)]
        pred = int(np.argmax(belief))
        out["answer_tier"].append(tier)
        out["prediction"].append(pred)
        out["correct"].append(pred == int(labels[s]))
        out["latency_ms"].append(_latency(rtt_row, compute_ms[d], list(range(tier + 1))))
        out["n_queried"].append(tier + 1)
    return out


def reference_carried_ms(topology, nodes, bytes_per_output):
    """Delay ``(D, K)`` of the carried outputs, link by link up each device's path."""
    out = []
    for row in nodes:
        path = topology.path(str(_device_of(topology, row)))
        extra, delays = 0.0, {path[0]: 0.0}
        for j in range(len(path) - 1):
            carried = sum(1 for n in row if path.index(n) <= j)
            bandwidth = topology.link(path[j], path[j + 1]).bandwidth_mbps
            extra += carried * bytes_per_output * 8 / (bandwidth * 1e3)
            delays[path[j + 1]] = extra
        out.append([delays[n] for n in row])
    return out


def _device_of(topology, row):
    return next(n for n in row if n in topology.devices)


def assert_same_outcomes(outcome, reference) -> None:
    """Per-request equality (exact, latencies included) of a vectorised outcome and a reference."""
    np.testing.assert_array_equal(outcome.answer_tier, reference["answer_tier"])
    np.testing.assert_array_equal(outcome.prediction, reference["prediction"])
    np.testing.assert_array_equal(outcome.correct, reference["correct"])
    np.testing.assert_array_equal(outcome.latency_ms, reference["latency_ms"])
    np.testing.assert_array_equal(outcome.n_queried, reference["n_queried"])


def synthetic(
    seed: int,
    n_tiers: int = 3,
    n_samples: int = 60,
    n_classes: int = 4,
    n_devices: int = 3,
    low: float = 0.2,
    high: float = 2.5,
):
    """A random outputs table, path latencies and confidences (models better up the path)."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, n_classes, n_samples)
    logits = rng.normal(size=(n_tiers, n_samples, n_classes))
    logits[np.arange(n_tiers)[:, None], np.arange(n_samples)[None, :], labels[None, :]] += (
        np.linspace(low, high, n_tiers)[:, None]
    )
    table = OutputsTable(tuple(f"m{k}" for k in range(n_tiers)), logits, labels, "test")
    rtt = np.cumsum(rng.uniform(0.5, 20.0, size=(n_devices, n_tiers)), axis=1)
    rtt[:, 0] = 0.0
    comp = rng.uniform(0.01, 3.0, size=(n_devices, n_tiers))
    nodes = np.array([[f"d{d}-t{k}" for k in range(n_tiers)] for d in range(n_devices)])
    lat = PathLatency(
        tuple(f"dev{d}" for d in range(n_devices)),
        nodes,
        tuple(f"t{k}" for k in range(n_tiers)),
        rtt,
        comp,
    )
    conf = table.probs().max(axis=-1)
    conf = (conf - 1 / n_classes) / (1 - 1 / n_classes)
    return table, lat, np.clip(conf, 0, 1)
