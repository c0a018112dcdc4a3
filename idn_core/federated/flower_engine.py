"""Plumbing shared by the Flower backends: lazy imports, Ray start-up, records, node discovery.

Nothing here imports ``flwr`` or ``ray`` at module import time: :func:`flwr_modules` does
it on first use (after switching Flower's and Ray's telemetry off, since the book runs
offline). A run goes

1. :func:`start_ray`: ``ray.init`` with the backend config's ``init_args`` (a local
   2-core cluster by default, or an existing cluster via ``address``), so that the
   training data can be put once into Ray's object store (:func:`put_payload`);
2. ``flwr.simulation.run_simulation`` with a ``ServerApp`` (the strategy, in a thread of
   this process) and a ``ClientApp`` (on Ray actors, one per ``client_resources``);
3. the ``ServerApp`` first asks every virtual node for its partition id
   (:func:`discover_partitions`) so that the strategy addresses clients by partition,
   exactly as the in-process loop indexes them.

Flower's ``RayBackend`` shuts Ray down when the simulation ends.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from idn_core._util.validation import check_non_negative, check_positive, check_positive_int
from idn_core.learning.state import State

BACKENDS = ("inprocess", "flower")

_PAYLOADS: dict[str, Any] = {}


def flwr_modules() -> dict[str, Any]:
    """Import Flower's app, client, server and simulation APIs (once), telemetry off.

    Raises
    ------
    ImportError : with the pip command when ``flwr[simulation]`` is not installed.
    """
    os.environ.setdefault("FLWR_TELEMETRY_ENABLED", "0")
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    os.environ.setdefault("RAY_ACCEL_ENV_VAR_OVERRIDE_ON_ZERO", "0")
    try:
        import flwr.app as app
        import flwr.clientapp as clientapp
        import flwr.serverapp as serverapp
        import flwr.serverapp.strategy as strategy
        import flwr.simulation as simulation
    except ImportError as err:  # pragma: no cover - depends on the environment
        raise ImportError(
            'backend="flower" needs Flower with its Ray engine: pip install "flwr[simulation]==1.42.0"'
        ) from err
    return {
        "app": app,
        "clientapp": clientapp,
        "serverapp": serverapp,
        "strategy": strategy,
        "simulation": simulation,
    }


def backend_config(
    *,
    num_cpus: int | None = None,
    cpus_per_client: float = 1.0,
    gpus_per_client: float = 0.0,
    address: str | None = None,
) -> dict[str, dict[str, Any]]:
    """Flower ``backend_config`` for the Ray simulation engine.

    Parameters
    ----------
    num_cpus : CPUs of a fresh local Ray instance (default: all cores); unused with ``address``.
    cpus_per_client : CPUs reserved per ClientApp actor: ``num_cpus / cpus_per_client``
        clients train at once (1.0 on 2 cores: two in parallel, no oversubscription).
    gpus_per_client : GPUs per actor (e.g. 0.25 shares a GPU among four clients).
    address : an existing Ray cluster (``"auto"`` or ``"ray://host:10001"``) instead of a
        local one; its own CPUs and GPUs then count.
    """
    check_positive("cpus_per_client", cpus_per_client)
    check_non_negative("gpus_per_client", gpus_per_client)
    if num_cpus is not None:
        check_positive_int("num_cpus", num_cpus)
    if address is not None and (not isinstance(address, str) or not address):
        raise TypeError(f"address must be a non-empty string such as 'auto', got {address!r}")
    init: dict[str, Any] = {
        "include_dashboard": False,
        "logging_level": 40,  # logging.ERROR
        "log_to_driver": False,
    }
    if address is not None:
        init["address"] = address
    else:  # "local": always a fresh instance, even if a `ray start` cluster runs here
        init["address"] = "local"
        cores = os.cpu_count() or 1
        init["num_cpus"] = cores if num_cpus is None else check_positive_int("num_cpus", num_cpus)
    return {
        "init_args": init,
        "client_resources": {"num_cpus": cpus_per_client, "num_gpus": gpus_per_client},
    }


def start_ray(config: dict[str, dict[str, Any]]) -> None:
    """``ray.init(**config["init_args"])`` unless Ray is already running (Flower then reuses it)."""
    flwr_modules()
    import ray

    if not ray.is_initialized():
        ray.init(**config.get("init_args", {}))


def put_payload(payload: Any) -> Any:
    """Put ``payload`` (e.g. the training arrays) into Ray's object store once; returns its ref."""
    import ray

    return ray.put(payload)


def get_payload(ref: Any) -> Any:
    """The payload behind ``ref``, fetched once per worker process (numpy arrays zero-copy)."""
    key = ref.hex()
    if key not in _PAYLOADS:
        import ray

        _PAYLOADS.clear()  # one run at a time per actor
        _PAYLOADS[key] = ray.get(ref)
    return _PAYLOADS[key]


def state_to_record(state: State) -> Any:
    """A :data:`State` as a Flower ``ArrayRecord`` (names and order kept, exact bytes)."""
    app = flwr_modules()["app"]
    return app.ArrayRecord({k: app.Array(np.ascontiguousarray(v)) for k, v in state.items()})


def record_to_state(record: Any) -> State:
    """A Flower ``ArrayRecord`` back into a :data:`State`."""
    return {k: np.array(v.numpy(), copy=True) for k, v in record.items()}


def check_replies(replies: list[Any], expected: int, what: str) -> list[Any]:
    """Raise with the clients' reasons if a reply carries an error or some are missing."""
    errors = [r.error.reason for r in replies if r.has_error()]
    if errors:
        raise RuntimeError(f"{len(errors)} ClientApp(s) failed in {what}: {errors[0]}")
    if len(replies) != expected:
        raise RuntimeError(f"{what}: {len(replies)} of {expected} clients replied")
    return replies


def discover_partitions(grid: Any, n_clients: int, timeout: float = 600.0) -> dict[int, int]:
    """Map partition id -> Flower node id by asking every virtual node (one query message each)."""
    app = flwr_modules()["app"]
    deadline = time.perf_counter() + timeout
    node_ids = list(grid.get_node_ids())
    while len(node_ids) < n_clients and time.perf_counter() < deadline:
        time.sleep(0.01)  # the engine registers its virtual nodes while the ServerApp starts
        node_ids = list(grid.get_node_ids())
    if len(node_ids) != n_clients:
        raise RuntimeError(f"expected {n_clients} virtual nodes, the grid has {len(node_ids)}")
    msgs = [app.Message(app.RecordDict(), dst_node_id=n, message_type="query") for n in node_ids]
    replies = check_replies(
        list(grid.send_and_receive(msgs, timeout=timeout)), n_clients, "discovery"
    )
    mapping = {int(r.content["partition"]["id"]): int(r.metadata.src_node_id) for r in replies}
    if sorted(mapping) != list(range(n_clients)):
        raise RuntimeError(f"partition ids {sorted(mapping)} are not 0..{n_clients - 1}")
    return mapping


def training_client_app(
    data_ref: Any, train: Callable[[Any, int, Any], tuple[dict[str, Any], dict[str, Any]]]
) -> Any:
    """A ``ClientApp`` whose clients each train on one partition of the payload ``data_ref``.

    Its train handler pins torch to one thread (Ray workers share the machine's cores),
    reads the partition id and the payload, calls ``train(msg, partition, payload)`` and
    replies with the records and metrics it returns, adding ``train_s`` (seconds spent in
    the client); its query answers :func:`discover_partitions`.
    """
    mods = flwr_modules()
    app = mods["app"]
    client_app = mods["clientapp"].ClientApp()

    @client_app.train()
    def _train(msg: Any, context: Any) -> Any:
        import torch

        torch.set_num_threads(1)
        tic = time.perf_counter()
        partition = int(context.node_config["partition-id"])
        records, metrics = train(msg, partition, get_payload(data_ref))
        metrics = {**metrics, "train_s": time.perf_counter() - tic}
        content = app.RecordDict({**records, "metrics": app.MetricRecord(metrics)})
        return app.Message(content, reply_to=msg)

    @client_app.query()
    def _partition(msg: Any, context: Any) -> Any:
        pid = int(context.node_config["partition-id"])
        content = app.RecordDict({"partition": app.MetricRecord({"id": pid})})
        return app.Message(content, reply_to=msg)

    return client_app


class TrainOnly:
    """Mixin for a Flower ``Strategy`` that only trains: evaluation is centralised (the
    server evaluates the global weights itself), as in the in-process loop."""

    def configure_evaluate(self, server_round: int, arrays: Any, config: Any, grid: Any) -> list:
        return []

    def aggregate_evaluate(self, server_round: int, replies: Any) -> None:
        return None

    def summary(self) -> None:
        return None


class RunClock:
    """Wall-clock marks of a run (start, first round, end of each round) and its progress bar."""

    def __init__(self, rounds: int = 0, desc: str = "Flower", show: bool = False) -> None:
        self.bar = tqdm(total=rounds, desc=desc, disable=not show, leave=False)
        self.start = time.perf_counter()
        self.first_round: float | None = None
        self.round_ends: list[float] = []
        self.client_s: list[float] = []

    def begin_round(self) -> None:
        if self.first_round is None:
            self.first_round = time.perf_counter()

    def end_round(self, client_s: float = 0.0) -> None:
        """Mark a round's end; ``client_s`` is the summed time clients spent in their own code."""
        self.round_ends.append(time.perf_counter())
        self.client_s.append(client_s)
        self.bar.update(1)

    def timings(self) -> dict[str, Any]:
        """``startup_s`` (to the first round), ``round_s`` and ``client_s`` per round, ``teardown_s``."""
        now = time.perf_counter()
        self.bar.close()
        first = self.first_round if self.first_round is not None else now
        marks = [first, *self.round_ends]
        last = self.round_ends[-1] if self.round_ends else first
        return {
            "startup_s": first - self.start,
            "round_s": [float(v) for v in np.diff(marks)],
            "client_s": list(self.client_s),
            "teardown_s": now - last,
        }


def run_simulation(
    server_main: Callable[[Any, Any], None],
    client_app: Any,
    n_clients: int,
    config: dict[str, dict[str, Any]] | None,
) -> None:
    """Run ``server_main(grid, context)`` against ``n_clients`` virtual nodes of ``client_app``."""
    mods = flwr_modules()
    config = config or backend_config()
    start_ray(config)
    server_app = mods["serverapp"].ServerApp()
    server_app.main()(server_main)
    flwr_logger = logging.getLogger("flwr")
    level = flwr_logger.level
    flwr_logger.setLevel(logging.WARNING)  # per-round INFO lines would swamp notebooks
    try:
        mods["simulation"].run_simulation(
            server_app=server_app,
            client_app=client_app,
            num_supernodes=n_clients,
            backend_config={k: dict(v) for k, v in config.items()},
        )
    finally:
        flwr_logger.setLevel(level)
        import ray

        if ray.is_initialized():  # Flower shuts Ray down itself unless it failed early
            ray.shutdown()
