"""Catalogue of ensemble members: edge-sized and cloud-committee architectures per dataset.

Members of one committee differ in architecture (kernel width, depth, a dense head) so
that their errors decorrelate; sizes follow what each tier can afford (see
:data:`idn_core.network.topology.TIER_DEFAULTS`).
"""

from __future__ import annotations

from dataclasses import replace

from idn_core._util.validation import check_choice, check_positive_int
from idn_core.learning.models import ModelSpec

_SPECS: dict[str, list[ModelSpec]] = {
    # Edge-sized 1-D CNNs (1.5k-3k parameters) of four shapes: width, kernel, depth, head.
    "mnist1d": [
        ModelSpec(
            "bag-edge-a", "edge", "cnn1d", {"channels": [8, 16, 16]}, epochs=30, shift_augment=4
        ),
        ModelSpec(
            "bag-edge-b",
            "edge",
            "cnn1d",
            {"channels": [8, 16, 16], "kernel_size": 7},
            epochs=30,
            shift_augment=4,
        ),
        ModelSpec(
            "bag-edge-c",
            "edge",
            "cnn1d",
            {"channels": [12, 12, 12, 12], "kernel_size": 3},
            epochs=30,
            shift_augment=4,
        ),
        ModelSpec(
            "bag-edge-d",
            "edge",
            "cnn1d",
            {"channels": [8, 16, 16], "kernel_size": 5, "hidden": 16},
            epochs=30,
            shift_augment=4,
        ),
    ],
    "digits": [
        ModelSpec("bag-mlp-a", "edge", "mlp", {"hidden": [16]}, epochs=60, batch_size=64),
        ModelSpec("bag-mlp-b", "edge", "mlp", {"hidden": [32]}, epochs=60, batch_size=64),
        ModelSpec("bag-mlp-c", "edge", "mlp", {"hidden": [16, 16]}, epochs=60, batch_size=64),
        ModelSpec("bag-mlp-d", "edge", "mlp", {"hidden": [8]}, epochs=60, batch_size=64),
    ],
}


_CLOUD_SPECS: dict[str, list[ModelSpec]] = {
    # Regional-sized 1-D CNNs (34k-58k parameters): a committee the cloud can afford.
    "mnist1d": [
        ModelSpec(
            "bag-cloud-a",
            "cloud",
            "cnn1d",
            {"channels": [32, 64, 64], "hidden": 32},
            epochs=20,
            shift_augment=4,
        ),
        ModelSpec(
            "bag-cloud-b",
            "cloud",
            "cnn1d",
            {"channels": [24, 48, 48, 48], "kernel_size": 7, "hidden": 32},
            epochs=20,
            shift_augment=4,
        ),
        ModelSpec(
            "bag-cloud-c",
            "cloud",
            "cnn1d",
            {"channels": [32, 64, 64], "kernel_size": 9, "hidden": 32},
            epochs=20,
            shift_augment=4,
        ),
        ModelSpec(
            "bag-cloud-d",
            "cloud",
            "cnn1d",
            {"channels": [16, 32, 64, 64], "kernel_size": 5, "hidden": 64},
            epochs=20,
            shift_augment=4,
        ),
    ],
    "digits": [
        ModelSpec("bag-mlp-cloud-a", "cloud", "mlp", {"hidden": [128]}, epochs=60, batch_size=64),
        ModelSpec("bag-mlp-cloud-b", "cloud", "mlp", {"hidden": [256]}, epochs=60, batch_size=64),
        ModelSpec(
            "bag-mlp-cloud-c", "cloud", "mlp", {"hidden": [128, 64]}, epochs=60, batch_size=64
        ),
        ModelSpec(
            "bag-mlp-cloud-d", "cloud", "mlp", {"hidden": [64, 64]}, epochs=60, batch_size=64
        ),
    ],
}


def member_specs(
    dataset: str,
    n_members: int = 4,
    diverse: bool = True,
    epochs: int | None = None,
    tier: str = "edge",
) -> list[ModelSpec]:
    """Specs of ``n_members`` edge-sized (or cloud-committee) members.

    Architectures cycle through the tier's list if ``diverse``; with ``diverse=False``
    every member has the first architecture. ``epochs`` overrides the recipe's epochs
    (small values for the quick profile). Names are made unique.
    """
    check_choice("dataset", dataset, tuple(_SPECS))
    check_choice("tier", tier, ("edge", "cloud"))
    check_positive_int("n_members", n_members)
    specs_of = _SPECS if tier == "edge" else _CLOUD_SPECS
    base = specs_of[dataset] if diverse else specs_of[dataset][:1]
    specs = []
    for i in range(n_members):
        s = base[i % len(base)]
        if i >= len(base):
            s = replace(s, name=f"{s.name}-{i}")
        if epochs is not None:
            s = replace(s, epochs=check_positive_int("epochs", epochs))
        specs.append(s)
    return specs


def boosting_specs(dataset: str, epochs: int | None = None) -> list[ModelSpec]:
    """Members 1.. of boosting along the path: three edge-sized members, one cloud-committee one.

    Member 0 is the zoo's device model. Edge members train 20 epochs by default.
    """
    edge = member_specs(dataset, 4, epochs=epochs or 20)
    cloud = replace(_CLOUD_SPECS[dataset][0], name="boost-cloud")
    if epochs is not None:
        cloud = replace(cloud, epochs=check_positive_int("epochs", epochs))
    return [edge[0], edge[1], edge[3], cloud]
