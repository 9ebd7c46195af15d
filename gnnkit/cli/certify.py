"""``gnnkit certify``: certify every registered component on random graphs (the components,
and torch, are imported when the command runs)."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from gnnkit.cli.errors import UsageError, set_handler

if TYPE_CHECKING:
    from gnnkit.symmetry.certificate import Certificate


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "certify",
        help=(
            "certify the symmetry of every gnnkit layer, readout, pooling, blueprint model and "
            "whole molecule and cascade model"
        ),
        description=(
            "Build each registered component on a random batch of graphs, relabel nodes, edges "
            "and graphs at random, run each graph alone, and (for 3-D components) move each "
            "graph by its own rotation or reflection and translation; print the largest "
            "deviation from exact equivariance/invariance, relative to the output's scale, and "
            "why a check failed. Exits with status 1 if any component fails. With --pyg, "
            "certifies PyG's own convolutions and aggregations instead and exits with status 0 "
            "once they ran: their failures are findings about PyG, not errors of gnnkit."
        ),
    )
    parser.add_argument("--trials", type=int, default=8, help="random group elements per check")
    parser.add_argument(
        "--seed", type=int, default=0, help="seed for graphs, weights and group elements"
    )
    zoo = parser.add_mutually_exclusive_group()
    zoo.add_argument(
        "--probes",
        action="store_true",
        help="also run layers that break a symmetry on purpose and show that each is caught",
    )
    zoo.add_argument(
        "--pyg",
        action="store_true",
        help=(
            "certify every torch_geometric.nn convolution that builds from (in_channels, "
            "out_channels) and runs on (x, edge_index), and every aggregation as a neighbourhood "
            "aggregation; list the classes skipped and why (exit status 0 once it ran)"
        ),
    )
    parser.add_argument(
        "--only",
        type=lambda text: [name.strip() for name in text.split(",") if name.strip()],
        metavar="NAMES",
        help="with --pyg: only these PyG classes, comma-separated (GCNConv,SumAggregation)",
    )
    set_handler(parser, run)


def format_table(certificates: list[Certificate]) -> str:
    """A fixed-width table: component, symmetry, max error, tolerance, passed, and the reason
    of each failure."""
    header = ("component", "symmetry", "max error", "rtol", "passed", "reason")
    rows = [
        (
            c.component,
            f"{c.symmetry}-{c.expected or c.kind}",
            f"{c.max_error:.2e}",
            f"{c.rtol:.0e}",
            "yes" if c.passed else "NO",
            c.reason,
        )
        for c in certificates
    ]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip()
        for row in [header, *rows]
    ]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)


def run_pyg(args: argparse.Namespace) -> int:
    """Certify PyG's zoo, print the table and the skipped classes; 0 once it ran."""
    from gnnkit.symmetry.pyg_zoo import certify_pyg

    report = certify_pyg(args.only, trials=args.trials, seed=args.seed)
    print(format_table(report.certificates))
    failed = [c for c in report.certificates if not c.passed]
    print(
        f"\n{len(report.certificates) - len(failed)} of {len(report.certificates)} PyG "
        f"certificates passed, {len(failed)} failed; {len(report.skipped)} skipped:"
    )
    for skipped in report.skipped:
        print(f"  {skipped.name}: {skipped.reason}")
    return 0


def run(args: argparse.Namespace) -> int:
    if args.only is not None and not args.pyg:
        raise UsageError("--only needs --pyg")
    if args.pyg:
        return run_pyg(args)
    from gnnkit.ops import describe_backend
    from gnnkit.symmetry.catalogue import PROBES, certify_all, certify_entry

    certificates = certify_all(trials=args.trials, seed=args.seed)
    print(format_table(certificates))
    failed = [c for c in certificates if not c.passed]
    print(
        f"\n{len(certificates) - len(failed)} of {len(certificates)} certificates passed "
        f"(scatter backend: {describe_backend()})"
    )
    if not args.probes:
        return 1 if failed else 0
    print("\nDeliberately broken components (each must FAIL a certificate):\n")
    probe_certificates = [
        c for entry in PROBES for c in certify_entry(entry, trials=args.trials, seed=args.seed)
    ]
    print(format_table(probe_certificates))
    missed = [
        entry.name
        for entry in PROBES
        if all(c.passed for c in probe_certificates if c.component == entry.name)
    ]
    print(f"\n{len(PROBES) - len(missed)} of {len(PROBES)} broken components caught")
    return 1 if failed or missed else 0
