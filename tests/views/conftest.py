"""Fixtures of the view tests: what a dashboard shows, and dashboards whose errors surface.

``ipywidgets.interactive.update`` catches every exception of its callback and, outside
IPython, only logs it, so moving a control can never fail a test by itself. The
:func:`surface_errors` helper replaces the dashboard's logger by one that re-raises, and
:func:`shown` records the figures and objects a view displays instead of rendering them.
"""

from __future__ import annotations

import logging
import sys
from dataclasses import dataclass, field
from typing import Any

import pytest

import idn_core.views  # noqa: F401 (every view module loaded, so each binding of show is patched)
from idn_core.views import display as display_module


@dataclass
class Shown:
    """Figures passed to ``idn_core.views.display.show`` and objects passed to ``display``."""

    figures: list = field(default_factory=list)
    displayed: list = field(default_factory=list)


@pytest.fixture
def shown(monkeypatch: pytest.MonkeyPatch) -> Shown:
    """Record what views show; dashboards built inside the test bind these recorders."""
    record = Shown()
    original = display_module.show
    for module in list(sys.modules.values()):
        name = getattr(module, "__name__", "")
        if name.startswith("idn_core.views") and getattr(module, "show", None) is original:
            monkeypatch.setattr(module, "show", lambda fig, *a, **k: record.figures.append(fig))
    monkeypatch.setattr("IPython.display.display", lambda *objs, **k: record.displayed.extend(objs))
    return record


class _Reraise(logging.Logger):
    """A logger whose ``warning`` re-raises the exception being handled by its caller."""

    def warning(self, *args: Any, **kwargs: Any) -> None:
        raise  # noqa: PLE0704 - called from interactive.update's ``except`` block


def surface_errors(board: Any) -> Any:
    """Make an ``ipywidgets.interactive`` re-raise its callback's exceptions; return it."""
    board.log = _Reraise("idn_core view tests")
    return board


def controls(board: Any) -> dict[str, Any]:
    """The controls of an ``ipywidgets.interactive`` by keyword argument."""
    return {w._kwarg: w for w in board.kwargs_widgets}
