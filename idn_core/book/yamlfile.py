"""Strict reading of the build's YAML files (``_toc.yml``, ``notebooks/profiles.yaml``).

PyYAML's ``safe_load`` silently keeps the last of two equal keys, so a profile listing a
notebook twice would lose half of its parameters without a word; and a syntax error
surfaces as a parser traceback. :func:`read_yaml` rejects duplicate keys and turns every
YAML error into a :class:`ProfileError` naming the file, the line and the column.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from idn_core.book.records import ProfileError

MERGE_TAG = "tag:yaml.org,2002:merge"


class DuplicateKeyError(yaml.constructor.ConstructorError):
    """A mapping of a YAML document repeats a key."""


class UniqueKeyLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` that raises :class:`DuplicateKeyError` on a repeated key.

    Keys brought in by a merge (``<<: *anchor``) may be overridden, as YAML intends; only
    keys written twice in the same mapping are errors.
    """

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        """Check the mapping's own keys for repeats, then construct it as SafeLoader does."""
        seen: dict[Any, yaml.Mark] = {}
        for key_node, _ in node.value:
            if key_node.tag == MERGE_TAG:
                continue
            key = self.construct_object(key_node, deep=True)
            try:
                first = seen.get(key)
            except TypeError:  # an unhashable key: SafeLoader reports it below
                continue
            if first is not None:
                raise DuplicateKeyError(
                    "while constructing a mapping",
                    node.start_mark,
                    f"duplicate key {key!r} (first on line {first.line + 1})",
                    key_node.start_mark,
                )
            seen[key] = key_node.start_mark
        return super().construct_mapping(node, deep=deep)


def describe_yaml_error(path: Path, exc: yaml.YAMLError) -> str:
    """One line naming the file, the line and column of ``exc`` and what is wrong there."""
    mark = getattr(exc, "problem_mark", None)
    where = f"{path}, line {mark.line + 1}, column {mark.column + 1}" if mark else str(path)
    problem = getattr(exc, "problem", None) or str(exc)
    return f"{where}: {problem}"


def read_yaml(path: Path) -> Any:
    """Parse the YAML file ``path`` strictly; raise :class:`ProfileError` on any problem."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ProfileError(f"cannot read {path}: {exc.strerror or exc}") from None
    try:
        return yaml.load(text, Loader=UniqueKeyLoader)  # noqa: S506 (a SafeLoader)
    except yaml.YAMLError as exc:
        raise ProfileError(describe_yaml_error(path, exc)) from None
