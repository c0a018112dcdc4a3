"""idn_core: cooperative inference strategies in Inference Delivery Networks.

The library behind the IDN Book, in layers; a package imports only from layers below it
(``tests/test_layers.py`` keeps it so)::

    5  book                  the papermill-first build of the book
    4  views                 plotly figures (static sliders) and ipywidgets dashboards
       headlines             every chapter's headline on a scenario of the suite
    3  delivery  placement  ensembles  federated
    2  network               topology, deployment, path latency, the running scenario
    1  learning              data, models, training, zoo, outputs table, confidence
    0  _util                 atomic writes, thread pinning, argument checks, disk cache

Model outputs are computed once (:mod:`idn_core.learning`); delivery is evaluated many
times on the resulting :class:`~idn_core.learning.OutputsTable` with array functions.
Each subpackage's ``__init__`` is its public face; this module re-exports only the
headline names a first experiment needs:

>>> import idn_core
>>> scenario = idn_core.load_scenario()  # doctest: +SKIP
>>> requests = idn_core.make_requests(10_000, scenario.test.n_samples, scenario.devices)  # doctest: +SKIP
"""

from idn_core import delivery, ensembles, federated, learning, network, placement
from idn_core.delivery import Decision, Outcome, cascade_decision, evaluate, summarize
from idn_core.learning import Dataset, OutputsTable, build_zoo, load_dataset
from idn_core.network import (
    Placement,
    RequestStream,
    Scenario,
    Topology,
    load_scenario,
    make_requests,
    tree_topology,
)

__all__ = [
    "Dataset",
    "Decision",
    "OutputsTable",
    "Outcome",
    "Placement",
    "RequestStream",
    "Scenario",
    "Topology",
    "build_zoo",
    "cascade_decision",
    "delivery",
    "ensembles",
    "evaluate",
    "federated",
    "learning",
    "load_dataset",
    "load_scenario",
    "make_requests",
    "network",
    "placement",
    "summarize",
    "tree_topology",
]
