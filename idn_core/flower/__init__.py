"""Flower backends of the federated chapters (optional: needs ``flwr[simulation]``).

``run_fedavg(..., backend="flower")`` and ``run_early_exit(..., backend="flower")`` call
:mod:`idn_core.flower.fedavg` and :mod:`idn_core.flower.early_exit`, which run the same
pure functions as the in-process loops on Flower's Ray simulation engine. Importing
``idn_core`` (or this package) imports neither ``flwr`` nor ``ray``; they load on first use.
"""

from idn_core.flower.engine import BACKENDS, backend_config

__all__ = ["BACKENDS", "backend_config"]
