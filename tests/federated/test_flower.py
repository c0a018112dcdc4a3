"""Tests of the Flower backend (idn_core.federated): same weights and accuracies as in-process.

The two equivalence tests run Flower's Ray simulation engine against one Ray head
started for this module with ``ray start --head --block`` (2 CPUs, one per client: two
clients in parallel), which also exercises the "existing cluster" path of the README.
They are marked ``slow``: Ray's start-up alone takes 5-15 s on two shared cores.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from idn_core.federated import backend_config, run_fedavg
from idn_core.federated.early_exit import (
    LOWER_EXITS,
    EarlyExitConfig,
    evaluate_serving,
    run_early_exit,
)
from idn_core.federated.flower_engine import record_to_state, state_to_record
from idn_core.learning import (
    ModelSpec,
    load_dataset,
    load_state,
    partition_dirichlet,
    predict_logits,
)
from idn_core.network import tree_topology

torch.set_num_threads(1)

SPEC = ModelSpec("mlp-fed", "edge", "mlp", {"hidden": [16]}, batch_size=64, lr=1e-2)
TOL = 1e-5


@pytest.fixture(scope="module")
def digits():
    return load_dataset("digits", seed=0)


@pytest.fixture(scope="module")
def ray_head():
    """Address of a 2-CPU Ray head owned by this module (stopped by its process id)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    ray_cli = Path(sys.executable).with_name("ray")
    env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0"}
    cmd = [str(ray_cli), "start", "--head", f"--port={port}", "--num-cpus=2"]
    cmd += ["--include-dashboard=false", "--disable-usage-stats", "--block"]
    head = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:  # the head is up once its GCS port answers
            if head.poll() is not None:
                raise RuntimeError(f"ray start failed: {head.stderr.read().decode()[-500:]}")
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.2)
        yield f"127.0.0.1:{port}"
    finally:
        head.send_signal(signal.SIGTERM)  # --block: the head stops the processes it started
        head.wait(timeout=60)
        marker = Path("/tmp/ray/ray_current_cluster")
        if marker.exists() and marker.read_text().strip().endswith(f":{port}"):
            marker.unlink()


def max_abs_diff(a: dict, b: dict) -> float:
    assert list(a) == list(b)
    return max(float(np.abs(a[k].astype(float) - b[k].astype(float)).max()) for k in a)


def test_importing_idn_core_does_not_import_flower_or_ray():
    code = (
        "import sys, idn_core, idn_core.federated; from idn_core.federated import run_fedavg, run_early_exit; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('flwr', 'ray')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_unknown_backend_is_rejected(digits):
    parts = partition_dirichlet(digits.y_train, 2, 1.0, seed=0)
    with pytest.raises(ValueError, match="backend"):
        run_fedavg(SPEC, digits.x_train, digits.y_train, parts, rounds=1, backend="ray")
    with pytest.raises(ValueError, match="backend"):
        run_early_exit(digits, EarlyExitConfig(rounds=1), backend="spark")


def test_backend_config_sets_client_resources_and_cluster_address():
    local = backend_config(num_cpus=2, cpus_per_client=1.0)
    assert local["init_args"]["num_cpus"] == 2
    assert local["init_args"]["address"] == "local"  # never silently joins a running cluster
    assert local["init_args"]["include_dashboard"] is False
    assert local["client_resources"] == {"num_cpus": 1.0, "num_gpus": 0.0}
    cluster = backend_config(address="auto", gpus_per_client=0.5)
    assert cluster["init_args"]["address"] == "auto"
    assert "num_cpus" not in cluster["init_args"]  # the cluster's own resources count
    assert cluster["client_resources"]["num_gpus"] == 0.5
    with pytest.raises(ValueError, match="cpus_per_client"):
        backend_config(cpus_per_client=0)
    with pytest.raises(ValueError, match="gpus_per_client"):
        backend_config(gpus_per_client=-1)


@pytest.mark.parametrize(
    ("num_cpus", "error"), [(0, ValueError), (-2, ValueError), (1.5, TypeError)]
)
def test_backend_config_rejects_a_bad_num_cpus(num_cpus, error):
    # num_cpus=0 used to mean "every core" (0 or os.cpu_count()).
    with pytest.raises(error, match="num_cpus"):
        backend_config(num_cpus=num_cpus)
    assert backend_config()["init_args"]["num_cpus"] >= 1  # None: every core, as documented


def test_array_records_round_trip_exactly():
    rng = np.random.default_rng(0)
    state = {"a.weight": rng.normal(size=(3, 4)).astype(np.float32), "n": np.array(7)}
    back = record_to_state(state_to_record(state))
    assert list(back) == list(state)
    for k in state:
        assert back[k].dtype == state[k].dtype
        np.testing.assert_array_equal(back[k], state[k])


@pytest.mark.slow
def test_flower_fedavg_matches_inprocess(digits, ray_head):
    parts = partition_dirichlet(digits.y_train, 4, 0.5, seed=0)

    def evaluate(state):
        module = load_state(SPEC.build(digits.input_length, digits.n_classes), state)
        acc = (predict_logits(module, digits.x_test).argmax(1) == digits.y_test).mean()
        return {"test_acc": float(acc)}

    kw = {
        "rounds": 2,
        "fraction": 0.75,  # 3 of 4 clients per round: sampling must match too
        "seed": 3,
        "n_classes": digits.n_classes,
        "evaluate": evaluate,
        "progress": False,
    }
    inproc = run_fedavg(SPEC, digits.x_train, digits.y_train, parts, **kw)
    cluster = backend_config(address=ray_head, cpus_per_client=1.0)
    flower = run_fedavg(
        SPEC, digits.x_train, digits.y_train, parts, backend="flower", backend_config=cluster, **kw
    )
    assert flower.backend == "flower" and len(flower.timings["round_s"]) == 2
    assert max_abs_diff(inproc.state, flower.state) <= TOL
    assert flower.history[["round", "clients", "samples"]].equals(
        inproc.history[["round", "clients", "samples"]]
    )
    np.testing.assert_allclose(flower.history.test_acc, inproc.history.test_acc, atol=1e-12)
    assert inproc.history.test_acc.iloc[-1] > 0.15  # above chance (0.1) after two rounds


@pytest.mark.slow
def test_flower_early_exit_matches_inprocess(digits, ray_head):
    topology = tree_topology(n_edges=1, devices_per_edge=2)  # 4 nodes: cloud, edge, 2 devices
    config = EarlyExitConfig(
        rounds=2,
        local_steps=3,
        batch_size=16,
        channels=(4, 8, 8),
        participation=LOWER_EXITS,  # random exits per node: participation probabilities
        weighting="variance",  # uses the measured sigma, the most state-dependent rule
        label_skew_alpha=0.5,
    )
    kw = {"seed": 1, "topology": topology, "progress": False}
    inproc = run_early_exit(digits, config, **kw)
    cluster = backend_config(address=ray_head, cpus_per_client=1.0)
    flower = run_early_exit(digits, config, backend="flower", backend_config=cluster, **kw)
    assert max_abs_diff(inproc.state, flower.state) <= TOL
    assert flower.history["round"].tolist() == [1, 2]
    np.testing.assert_allclose(
        flower.history.drop(columns="round").to_numpy(),
        inproc.history.drop(columns="round").to_numpy(),
        rtol=1e-6,
    )
    a = evaluate_serving(
        inproc.logits(digits.x_test), digits.y_test, config.serving_split, topology
    )
    b = evaluate_serving(
        flower.logits(digits.x_test), digits.y_test, config.serving_split, topology
    )
    assert a == pytest.approx(b, nan_ok=True)
