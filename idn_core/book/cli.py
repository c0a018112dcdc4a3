"""Command line of the book build: ``python -m idn_core.book {build,execute,list}``.

Without arguments it prints its help and exits with status 2 (a usage error, as argparse
does), rather than starting a full build of every notebook.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

from idn_core._util.validation import check_type
from idn_core.book import build as build_module
from idn_core.book.build import build_book
from idn_core.book.execute import execute_all
from idn_core.book.records import BookBuildError
from idn_core.book.toc import plan

PROG = "python -m idn_core.book"
EPILOG = """examples:
  python -m idn_core.book build --profile quick            the whole book, CI sizes
  python -m idn_core.book execute --only 03_ensembles      run one notebook (full profile)
  python -m idn_core.book build --profile quick --only 01_anatomy 02_serve_or_forward
  python -m idn_core.book list --profile quick             notebooks and their parameters
"""


def parser() -> argparse.ArgumentParser:
    """The argument parser (commands, profile, notebook selection, output)."""
    p = argparse.ArgumentParser(
        prog=PROG, description=build_module.__doc__, epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )  # fmt: skip
    p.add_argument(
        "command", choices=["build", "execute", "list"],
        help="build: execute and render the book; execute: run the notebooks only; "
        "list: show the notebooks and their parameters",
    )  # fmt: skip
    p.add_argument(
        "--profile", default="full",
        help="full (notebook defaults, the default) or a profile of notebooks/profiles.yaml",
    )  # fmt: skip
    p.add_argument(
        "--only", nargs="+", metavar="NAME",
        help="only these notebooks (stems such as 01_anatomy); default: every notebook",
    )  # fmt: skip
    p.add_argument("--force", action="store_true", help="re-execute even if cached")
    p.add_argument("--output", type=Path, help="HTML goes to OUTPUT/_build/html")
    return p


def run(args: argparse.Namespace) -> int:
    """Carry out one parsed command; 0 (failures raise ``BookBuildError``)."""
    if args.command == "list":
        for item in plan(args.profile, only=args.only):
            nb = item.notebook
            print(f"{nb.stem}\t{nb.rel}\t{item.parameters or 'defaults'}")
    elif args.command == "execute":
        execute_all(args.profile, force=args.force, only=args.only)
    else:
        build_book(args.profile, output=args.output, force=args.force, only=args.only)
    return 0


def command_status(
    p: argparse.ArgumentParser,
    argv: list[str] | None,
    run: Callable[[argparse.Namespace], int],
    errors: type[Exception] | tuple[type[Exception], ...],
    tag: str,
) -> int:
    """Exit status of a command line: the shape shared by the book's and the sweep's ``main``.

    Without arguments (``argv`` defaults to ``sys.argv[1:]``) print ``p``'s help to stderr
    and return 2 (a usage error, as argparse does); else parse ``argv`` (argparse exits
    with 2 on bad usage) and return ``run(args)``, or 1 after printing ``[tag] ERROR: ...``
    to stderr when ``run`` raises one of ``errors``.
    """
    check_type("p", p, argparse.ArgumentParser)
    check_type("tag", tag, str)
    if not callable(run):
        raise TypeError(f"run must be callable, got {type(run).__name__}")
    argv = sys.argv[1:] if argv is None else argv
    if not argv:
        p.print_help(sys.stderr)
        return 2
    args = p.parse_args(argv)
    try:
        return run(args)
    except errors as exc:
        print(f"[{tag}] ERROR: {exc}", file=sys.stderr)
        return 1


def main(argv: list[str] | None = None) -> int:
    """Parse ``argv`` (default: ``sys.argv[1:]``), run the command; return the exit status."""
    return command_status(parser(), argv, run, BookBuildError, "book")
