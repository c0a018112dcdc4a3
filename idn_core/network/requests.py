"""Request streams: which sample of a split arrives at which device, in arrival order.

A stream is seeded and exact: every aggregate over it is a weighted sum over (device,
sample) pairs (:meth:`RequestStream.counts`). Delivery policies are evaluated on it
(:mod:`idn_core.delivery.evaluation`); arrival times are added by
:class:`idn_core.network.arrivals.TimedRequests`, which is a ``RequestStream`` too.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from idn_core._util.validation import (
    as_float_array,
    check_index_array,
    check_positive_int,
    check_seed,
    check_type,
)


@dataclass(frozen=True)
class RequestStream:
    """Requests: which sample of the split arrives at which device, in arrival order.

    Attributes
    ----------
    sample : int ``(R,)`` (intp), index into the split's samples.
    device : int ``(R,)`` (intp), index into ``devices``.
    devices : device names.
    n_samples : size of the split the samples are drawn from.
    """

    sample: np.ndarray
    device: np.ndarray
    devices: tuple[str, ...]
    n_samples: int

    def __post_init__(self) -> None:
        if isinstance(self.devices, str):
            raise TypeError(f"devices must be a sequence of device names, got {self.devices!r}")
        check_positive_int("n_samples", self.n_samples)
        sample = check_index_array("sample", self.sample, self.n_samples)
        device = check_index_array("device", self.device, len(self.devices))
        if sample.size == 0:
            raise ValueError("sample: a request stream needs at least one request, got none")
        if device.shape != sample.shape:
            raise ValueError(
                f"sample and device must have one entry per request, got {sample.shape} "
                f"and {device.shape}"
            )

    def __len__(self) -> int:
        return int(self.sample.shape[0])

    @cached_property
    def flat(self) -> np.ndarray:
        """Index ``device * n_samples + sample`` into flattened ``(D, N)`` arrays (computed once)."""
        return self.device.astype(np.intp) * self.n_samples + self.sample

    def counts(self) -> np.ndarray:
        """Number of requests per (device, sample), float ``(D, N)``: exact weights for aggregates."""
        c = np.bincount(self.flat, minlength=len(self.devices) * self.n_samples)
        return c.reshape(len(self.devices), self.n_samples).astype(float)


def make_requests(
    n_requests: int,
    n_samples: int,
    devices: tuple[str, ...] | list[str],
    seed: int = 0,
    device_shares: np.ndarray | None = None,
) -> RequestStream:
    """A seeded stream: samples drawn uniformly with replacement, devices by ``device_shares``.

    Parameters
    ----------
    n_requests : number of requests ``R``.
    n_samples : size ``N`` of the split the requests are drawn from.
    devices : names of the devices where requests arrive.
    seed : seed of the ``np.random.Generator``.
    device_shares : optional probabilities ``(D,)`` of a request arriving at each device.
    """
    check_positive_int("n_requests", n_requests)
    check_positive_int("n_samples", n_samples)
    devices = _check_devices(devices)
    rng = np.random.default_rng(check_seed(seed))
    shares = None if device_shares is None else _check_device_shares(device_shares, len(devices))
    sample = rng.integers(0, n_samples, size=n_requests, dtype=np.intp)
    device = rng.choice(len(devices), size=n_requests, p=shares).astype(np.intp)
    return RequestStream(sample, device, devices, n_samples)


def _check_devices(devices: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    """Device names as a non-empty tuple of unique strings (a lone string is refused:
    ``tuple("device-0")`` would be eight one-letter devices)."""
    if isinstance(devices, str):
        raise TypeError(
            f"devices must be a sequence of device names, got the string {devices!r}; "
            f"write ({devices!r},)"
        )
    devices = tuple(devices)
    if not devices:
        raise ValueError("devices: need at least one device")
    for name in devices:
        check_type("device name in devices", name, str)
    if len(set(devices)) != len(devices):
        raise ValueError(f"devices must be unique, got {devices}")
    return devices


def _check_device_shares(device_shares: np.ndarray, n_devices: int) -> np.ndarray:
    """``device_shares`` as ``n_devices`` finite probabilities >= 0 summing to one."""
    shares = as_float_array("device_shares", device_shares)
    if (
        shares.shape != (n_devices,)
        or not np.isfinite(shares).all()
        or (shares < 0).any()
        or abs(shares.sum() - 1) > 1e-9
    ):
        raise ValueError(
            f"device_shares must be {n_devices} probabilities summing to one, "
            f"got {np.ravel(shares).tolist()}"
        )
    return shares
