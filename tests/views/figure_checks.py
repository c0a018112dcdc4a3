"""Checks shared by the view tests: a figure's static controls against its plotted state.

A plotly slider step or button carries the state it shows in its ``args`` (``restyle``,
``relayout``, ``update`` or ``animate``). :func:`apply_step` replays those args on a
plain copy of the figure, as plotly.js would, so a test can ask whether the control's
initial position (``active``) shows what the figure plots (:func:`assert_active_steps_match`)
and whether every other position changes something (:func:`assert_every_step_changes_something`).
"""

from __future__ import annotations

import base64
import copy
import math
from collections.abc import Iterator
from typing import Any

import numpy as np
import plotly.graph_objects as go

#: Layout entries that hold the controls themselves or styling that no step touches.
_IGNORED_LAYOUT = ("template", "sliders", "updatemenus")


def plain(value: Any) -> Any:
    """``value`` with numpy arrays, pandas objects and tuples turned into lists of Python scalars."""
    if isinstance(value, dict) and set(value) >= {"dtype", "bdata"}:  # plotly's typed array
        flat = np.frombuffer(base64.b64decode(value["bdata"]), dtype=value["dtype"])
        return plain(flat.reshape(value["shape"]) if "shape" in value else flat)
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if hasattr(value, "tolist"):  # numpy arrays and scalars, pandas Series and Index
        return plain(value.tolist())
    return value


def figure_state(fig: go.Figure) -> dict:
    """The plotted state: every trace (``visible`` defaulting to True) and the layout
    without its controls and template."""
    data = [plain(trace.to_plotly_json()) for trace in fig.data]
    for trace in data:
        trace.setdefault("visible", True)
    raw_layout = fig.layout.to_plotly_json()
    layout = {k: plain(v) for k, v in raw_layout.items() if k not in _IGNORED_LAYOUT}
    frames = {f.name: plain(f.to_plotly_json()) for f in fig.frames or ()}
    return {"data": data, "layout": layout, "frames": frames}


def _set(container: dict, dotted: str, value: Any) -> None:
    """Set ``container[a][b][c]`` for ``"a.b.c"``; ``None`` removes the attribute (plotly.js)."""
    if "[" in dotted:
        raise NotImplementedError(f"indexed attribute {dotted!r} is not supported by the check")
    *parents, last = dotted.split(".")
    for key in parents:
        container = container.setdefault(key, {})
    if value is None:
        container.pop(last, None)
    else:
        container[last] = plain(value)


def _restyle(data: list[dict], changes: dict, traces: Any = None) -> None:
    """plotly.js ``restyle``: a list value gives trace ``traces[i]`` its entry ``i`` (cycled)."""
    if traces is None:
        traces = list(range(len(data)))
    elif isinstance(traces, int):
        traces = [traces]
    for key, value in changes.items():
        for i, t in enumerate(traces):
            one = value[i % len(value)] if isinstance(value, list | tuple) else value
            _set(data[t], key, one)
    for t in traces:
        data[t].setdefault("visible", True)


def _relayout(layout: dict, changes: dict) -> None:
    for key, value in changes.items():
        _set(layout, key, value)


def apply_step(fig: go.Figure, step: Any) -> dict:
    """The figure's state after clicking ``step`` (a slider step or an updatemenu button)."""
    step = step.to_plotly_json() if hasattr(step, "to_plotly_json") else step
    state = copy.deepcopy(figure_state(fig))
    method, args = step.get("method", "restyle"), list(step.get("args") or [])
    if method == "restyle":
        _restyle(state["data"], args[0], args[1] if len(args) > 1 else None)
    elif method == "relayout":
        _relayout(state["layout"], args[0])
    elif method == "update":
        _restyle(state["data"], args[0] if args else {}, args[2] if len(args) > 2 else None)
        _relayout(state["layout"], args[1] if len(args) > 1 else {})
    elif method == "animate":
        names = args[0] if isinstance(args[0], list) else [args[0]]
        for name in names:
            frame = state["frames"][name]
            traces = frame.get("traces", list(range(len(frame.get("data", [])))))
            for t, trace in zip(traces, frame.get("data", []), strict=True):
                for key, value in trace.items():
                    _set(state["data"][t], key, value)
            _relayout(state["layout"], frame.get("layout", {}))
    else:
        raise NotImplementedError(f"step method {method!r}")
    return state


def controls(fig: go.Figure) -> Iterator[tuple[str, int, list]]:
    """``(name, active index, steps)`` of every slider and updatemenu (plotly's default active: 0)."""
    for i, slider in enumerate(fig.layout.sliders or ()):
        yield f"slider {i}", 0 if slider.active is None else int(slider.active), list(slider.steps)
    for i, menu in enumerate(fig.layout.updatemenus or ()):
        yield f"menu {i}", 0 if menu.active is None else int(menu.active), list(menu.buttons)


def first_difference(a: Any, b: Any, path: str = "") -> str | None:
    """Where ``a`` and ``b`` differ (numbers compared to 1e-9 relative, NaN equal to NaN)."""
    if isinstance(a, dict) and isinstance(b, dict):
        for key in sorted(set(a) | set(b), key=str):
            if key not in a or key not in b:
                return f"{path}.{key}: only in {'second' if key not in a else 'first'}"
            if found := first_difference(a[key], b[key], f"{path}.{key}"):
                return found
        return None
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return f"{path}: lengths {len(a)} != {len(b)}"
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            if found := first_difference(x, y, f"{path}[{i}]"):
                return found
        return None
    numbers = (int, float)
    if isinstance(a, numbers) and isinstance(b, numbers) and not isinstance(a, bool):
        if (math.isnan(a) and math.isnan(b)) or math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12):
            return None
        return f"{path}: {a!r} != {b!r}"
    return None if a == b else f"{path}: {a!r} != {b!r}"


def assert_active_steps_match(fig: go.Figure) -> None:
    """Every control's initial position, applied to the figure, reproduces the plotted state."""
    initial = figure_state(fig)
    found = list(controls(fig))
    assert found, "the figure has no slider or button"
    for name, active, steps in found:
        assert 0 <= active < len(steps), f"{name}: active {active} outside its {len(steps)} steps"
        after = apply_step(fig, steps[active])
        diff = first_difference(after, initial)
        label = steps[active].label
        assert diff is None, (
            f"{name} opens at step {active} ({label!r}) but plots another state: {diff}"
        )


def assert_every_step_changes_something(fig: go.Figure) -> None:
    """Every control position other than the initial one changes the plotted state."""
    initial = figure_state(fig)
    for name, active, steps in controls(fig):
        for i, step in enumerate(steps):
            if i != active:
                assert first_difference(apply_step(fig, step), initial) is not None, (
                    f"{name}: step {i} ({step.label!r}) changes nothing"
                )


def assert_static_controls_are_honest(fig: go.Figure) -> None:
    """Both checks above."""
    assert_active_steps_match(fig)
    assert_every_step_changes_something(fig)


def values(trace: Any, axis: str = "y") -> np.ndarray:
    """A trace's ``x``/``y``/``z`` as a float array."""
    return np.asarray(trace[axis], dtype=float)
