"""``python -m idn_core.sweep``: the sweep's command line (see :mod:`idn_core.sweep.cli`)."""

from idn_core.sweep.cli import sweep_main

raise SystemExit(sweep_main())
