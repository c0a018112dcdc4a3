"""``python -m idn_core.book``: the book build's command line (see :mod:`idn_core.book.cli`)."""

from idn_core.book.cli import main

raise SystemExit(main())
