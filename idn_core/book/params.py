"""Build profiles and notebook parameter checks of the book build.

A profile maps a notebook stem to the parameters injected by papermill. ``full`` is always
defined and injects nothing (each notebook keeps its own defaults); other profiles live in
one file, ``notebooks/profiles.yaml``::

    quick:
      01_anatomy: {n_points: 10}

Parameters are checked against the notebook's ``parameters`` cell before anything runs:
unknown names and wrong types are errors naming the notebook, the parameter, the expected
and the given type.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from idn_core.book.records import ParameterError, ProfileError
from idn_core.book.yamlfile import read_yaml

FULL_PROFILE = "full"

# Annotation or default type name -> accepted Python types (bool is never accepted as a number).
_TYPES: dict[str, tuple[type, ...]] = {
    "int": (int,),
    "float": (int, float),
    "str": (str,),
    "bool": (bool,),
    "list": (list,),
    "tuple": (tuple, list),
    "dict": (dict,),
}


@dataclass(frozen=True)
class ParamSpec:
    """One parameter of a notebook's ``parameters`` cell.

    ``types`` is empty when the type cannot be known (no annotation and a default that is
    not a literal, or ``None``): any value is then accepted.
    """

    name: str
    type_name: str
    types: tuple[type, ...]
    optional: bool


def load_profiles(path: Path) -> dict[str, dict[str, dict[str, Any]]]:
    """Read ``profiles.yaml``: profile -> notebook stem -> {parameter: value}.

    A missing file means only the ``full`` profile exists. Syntax errors and duplicate
    keys are :class:`ProfileError` naming the file and line (see :mod:`.yamlfile`).
    """
    profiles: dict[str, dict[str, dict[str, Any]]] = {FULL_PROFILE: {}}
    if not path.exists():
        return profiles
    data = read_yaml(path) or {}
    if not isinstance(data, dict):
        raise ProfileError(f"{path}: expected a mapping profile -> notebook -> parameters")
    for profile, notebooks in data.items():
        notebooks = notebooks or {}
        if not isinstance(notebooks, dict):
            raise ProfileError(f"{path}: profile {profile!r} must map notebook stems to parameters")
        for stem, params in notebooks.items():
            if not isinstance(params, dict | None):
                raise ProfileError(
                    f"{path}: {profile}.{stem} must be a mapping of parameters, got {params!r}"
                )
        profiles[str(profile)] = {str(s): dict(p or {}) for s, p in notebooks.items()}
    if profiles[FULL_PROFILE]:
        raise ProfileError(
            f"{path}: the {FULL_PROFILE!r} profile means notebook defaults; leave it out"
        )
    return profiles


def profile_entries(
    profiles: dict[str, dict[str, dict[str, Any]]], profile: str
) -> dict[str, dict[str, Any]]:
    """Return the stem -> parameters of ``profile``; an unknown profile is a ProfileError."""
    if profile not in profiles:
        raise ProfileError(f"unknown profile {profile!r}; known: {', '.join(sorted(profiles))}")
    return profiles[profile]


def profile_parameters(
    profiles: dict[str, dict[str, dict[str, Any]]], profile: str, stems: list[str]
) -> dict[str, dict[str, Any]]:
    """Return stem -> parameters for ``profile``; every named stem must be a book notebook."""
    unknown = sorted(set(profile_entries(profiles, profile)) - set(stems))
    if unknown:
        raise ProfileError(
            f"profile {profile!r} names notebooks that are not in _toc.yml: {', '.join(unknown)}"
            f" (book notebooks: {', '.join(stems)})"
        )
    return {stem: dict(profiles[profile].get(stem, {})) for stem in stems}


def _spec(name: str, annotation: str, default: str) -> ParamSpec:
    """Infer a parameter's accepted types from its annotation, else from its default."""
    text = annotation.strip()
    if text and text != "None":
        text = text.removeprefix("typing.")
        parts = [part.strip() for part in text.split("|")]
        optional = text.startswith("Optional[") or "None" in parts
        if text.startswith("Optional[") and text.endswith("]"):
            inner = text[len("Optional[") : -1]
        else:
            inner = next((part for part in parts if part != "None"), "")
        base = inner.split("[")[0].strip().removeprefix("typing.").lower()
        return ParamSpec(name, text, _TYPES.get(base, ()), optional)
    try:
        value = ast.literal_eval(default.strip())
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return ParamSpec(name, "any", (), True)
    if value is None:
        return ParamSpec(name, "any", (), True)
    type_name = type(value).__name__
    return ParamSpec(name, type_name, _TYPES.get(type_name, (type(value),)), False)


def notebook_parameters(path: Path) -> dict[str, ParamSpec]:
    """Read the parameters of a notebook's ``parameters`` cell with papermill."""
    import papermill

    inspected = papermill.inspect_notebook(str(path))
    return {
        name: _spec(name, info.get("inferred_type_name") or "", info.get("default") or "None")
        for name, info in inspected.items()
    }


def _accepts(spec: ParamSpec, value: Any) -> bool:
    """True when ``value`` may be given for ``spec``."""
    if value is None:
        return spec.optional or not spec.types
    if not spec.types:
        return True
    if isinstance(value, bool) and bool not in spec.types:
        return False
    return isinstance(value, spec.types)


def validate_parameters(stem: str, specs: dict[str, ParamSpec], given: dict[str, Any]) -> None:
    """Raise :class:`ParameterError` listing every unknown or mistyped parameter."""
    problems = []
    for name, value in given.items():
        if name not in specs:
            known = ", ".join(specs) or "none: the notebook has no cell tagged 'parameters'"
            problems.append(f"unknown parameter {name!r} (the notebook's parameters: {known})")
        elif not _accepts(specs[name], value):
            hint = ""
            if isinstance(value, str) and specs[name].type_name == "float":
                hint = " (YAML reads 1e-3 as a string: write 1.0e-3)"
            problems.append(
                f"parameter {name!r} expects {specs[name].type_name}, "
                f"given {type(value).__name__} {value!r}{hint}"
            )
    if problems:
        raise ParameterError(f"notebook {stem}: " + "; ".join(problems))
