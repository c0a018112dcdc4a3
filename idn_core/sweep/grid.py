"""The grid of a sweep: parameter axes from the command line or a YAML file, checked.

An *axis* is a parameter of the notebook's ``parameters`` cell and the list of values it
takes; the grid is the product of the axes, in the order they were given (the last axis
varies fastest). Values typed on the command line are read by the parameter's type as
the notebook declares it (:mod:`idn_core.book.params`): ``int`` and ``float`` as numbers,
``bool`` as ``true``/``false``, ``str`` as given, anything else (lists, dicts, untyped)
as YAML. A grid file maps each parameter to its list of values::

    scenario: [running, noisy]
    seed: [0, 1, 2]

Every problem is an error before anything runs: an unknown parameter, a value of the
wrong type, an axis without values or with a value twice, no axis at all.
"""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from idn_core.book.params import ParamSpec, validate_parameters
from idn_core.book.records import ParameterError
from idn_core.book.yamlfile import read_yaml
from idn_core.sweep.records import SweepError

#: Columns of the gathered table that a parameter may not be named like.
RESERVED = ("name", "value")
TRUE_TEXTS = ("true", "yes", "1")
FALSE_TEXTS = ("false", "no", "0")


def parse_value(spec: ParamSpec, text: str) -> Any:
    """Read the command-line ``text`` as a value of the parameter ``spec``.

    Raises ``ValueError`` naming the parameter when ``text`` is not such a value.
    """
    if spec.optional and text in ("None", "null"):
        return None
    types = spec.types
    try:
        if types == (int,):
            return int(text)
        if types == (int, float):
            return float(text)
    except ValueError:
        raise ValueError(
            f"parameter {spec.name!r} expects {spec.type_name}, given {text!r}"
        ) from None
    if types == (bool,):
        if text.lower() not in TRUE_TEXTS + FALSE_TEXTS:
            raise ValueError(f"parameter {spec.name!r} expects true or false, given {text!r}")
        return text.lower() in TRUE_TEXTS
    if types == (str,):
        return text
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ValueError(f"parameter {spec.name!r}: {text!r} is not YAML ({exc})") from None


def axes_from_texts(
    stem: str, specs: dict[str, ParamSpec], pairs: Sequence[Sequence[str]]
) -> dict[str, list[Any]]:
    """Axes from command-line ``-p NAME VALUE...`` groups, read by the notebook's types.

    Raises :class:`ParameterError` for unknown names and unreadable values (all at once)
    and :class:`SweepError` for a group without values or a name given twice.
    """
    axes: dict[str, list[str]] = {}
    for pair in pairs:
        name, *texts = pair
        if not texts:
            raise SweepError(f"-p {name}: give at least one value (-p {name} VALUE [VALUE ...])")
        if name in axes:
            raise SweepError(f"-p {name} is given twice; list all its values after one -p")
        axes[name] = list(texts)
    if unknown := {name: texts[0] for name, texts in axes.items() if name not in specs}:
        validate_parameters(stem, specs, unknown)  # raises, naming the notebook's parameters
    problems, values = [], {}
    for name, texts in axes.items():
        try:
            values[name] = [parse_value(specs[name], text) for text in texts]
        except ValueError as exc:
            problems.append(str(exc))
    if problems:
        raise ParameterError(f"notebook {stem}: " + "; ".join(problems))
    return values


def read_grid(path: Path) -> dict[str, list[Any]]:
    """Axes from a YAML grid file: a mapping of parameter names to lists of values."""
    data = read_yaml(Path(path))
    if data is None:
        raise SweepError(f"{path}: the grid file is empty (map each parameter to a list)")
    if not isinstance(data, dict):
        raise SweepError(f"{path}: expected a mapping of parameter names to lists of values")
    axes = {}
    for name, values in data.items():
        if not isinstance(values, list):
            raise SweepError(
                f"{path}: {name} must be a list of values (write [{values!r}] for one value)"
            )
        axes[str(name)] = values
    return axes


def merge_axes(*groups: Mapping[str, list[Any]]) -> dict[str, list[Any]]:
    """Join axes from several sources (grid file, command line); a name may appear once."""
    axes: dict[str, list[Any]] = {}
    for group in groups:
        for name, values in group.items():
            if name in axes:
                raise SweepError(f"parameter {name!r} is given both in the grid file and with -p")
            axes[name] = list(values)
    return axes


def coerce(spec: ParamSpec, value: Any) -> Any:
    """``value`` as the notebook will see it: a whole number given for a float becomes a float.

    So ``1`` and ``1.0`` make the same run and the same cache key.
    """
    if spec.types == (int, float) and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return value


def check_values(name: str, values: list[Any]) -> None:
    """Raise :class:`SweepError` for an axis that is empty, repeats a value or is not finite."""
    if not values:
        raise SweepError(f"parameter {name!r} has no values: the grid would be empty")
    seen = set()
    for value in values:
        if isinstance(value, float) and not math.isfinite(value):
            raise SweepError(f"parameter {name!r}: {value!r} is not a finite number")
        text = json.dumps(value, sort_keys=True, default=repr)
        if text in seen:
            raise SweepError(f"parameter {name!r} lists {value!r} twice")
        seen.add(text)


def check_axes(
    stem: str, specs: dict[str, ParamSpec], axes: Mapping[str, Sequence[Any]]
) -> dict[str, list[Any]]:
    """Validate typed axes against the notebook's parameters; return them coerced.

    Raises :class:`SweepError` for no axis, an empty axis, a repeated value or a name the
    table reserves, and :class:`ParameterError` for unknown names and wrong types.
    """
    if not isinstance(axes, Mapping):
        raise TypeError(
            f"grid must be a mapping of parameter names to lists, got {type(axes).__name__}"
        )
    if not axes:
        raise SweepError("the grid is empty: give at least one parameter and its values")
    for name, values in axes.items():
        if not isinstance(name, str):
            raise TypeError(f"grid: parameter names must be str, got {name!r}")
        if isinstance(values, str | bytes) or not isinstance(values, Sequence):
            raise TypeError(f"grid: {name} must be a list of values, got {values!r}")
    validate_parameters(stem, specs, {name: None for name in axes if name not in specs})
    if reserved := [name for name in axes if name in RESERVED]:
        raise SweepError(
            f"parameter {reserved[0]!r} cannot be swept: the table has a column {reserved[0]!r}"
        )
    checked = {name: [coerce(specs[name], v) for v in values] for name, values in axes.items()}
    problems = []
    for name, values in checked.items():
        check_values(name, values)
        for value in values:
            try:
                validate_parameters(stem, specs, {name: value})
            except ParameterError as exc:
                problems.append(str(exc).removeprefix(f"notebook {stem}: "))
    if problems:
        raise ParameterError(f"notebook {stem}: " + "; ".join(problems))
    return checked


def grid_points(axes: Mapping[str, Sequence[Any]]) -> list[dict[str, Any]]:
    """Every combination of the axes' values, the last axis varying fastest."""
    names = list(axes)
    return [dict(zip(names, combo, strict=True)) for combo in itertools.product(*axes.values())]
