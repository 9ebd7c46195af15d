"""Entry point of the ``gnnkit`` command."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from gnnkit import __version__
from gnnkit.cli import cascade, certify, mol


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gnnkit",
        description="Graph learning on the geometric deep learning blueprint.",
    )
    parser.add_argument("--version", action="version", version=f"gnnkit {__version__}")
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
    return args.handler(args)


if __name__ == "__main__":
    sys.exit(main())
