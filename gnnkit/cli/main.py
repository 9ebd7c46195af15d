"""Entry point of the ``gnnkit`` command."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from gnnkit import __version__
from gnnkit.cli import cascade, certify, mol
from gnnkit.cli.errors import USER_ERRORS, exit_status


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gnnkit",
        description="Graph learning on the geometric deep learning blueprint.",
    )
    parser.add_argument("--version", action="version", version=f"gnnkit {__version__}")
    parser.add_argument(
        "--debug",
        action="store_true",
        help="show the Python traceback of an error in the input instead of one line",
    )
    subparsers = parser.add_subparsers(title="commands", metavar="COMMAND")
    certify.add_parser(subparsers)
    mol.add_parser(subparsers)
    cascade.add_parser(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "handler"):
        parser.print_help()
        return 2
    try:
        return args.handler(args)
    except USER_ERRORS as error:
        if args.debug:
            raise
        print(f"{args.command}: error: {error}", file=sys.stderr)
        return exit_status(error)


if __name__ == "__main__":
    sys.exit(main())
