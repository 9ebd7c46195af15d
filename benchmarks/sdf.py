"""How fast gnnkit reads an SD file, against RDKit's own supplier.

    python benchmarks/sdf.py [--repeats 3] [--out runs/benchmarks/sdf]

The SD file holds the NCI molecules that ship with RDKit (``rdkit/Data/NCI/first_5K.smi``,
the 4,991 that RDKit parses, 2-D coordinates, title and one property each), written by RDKit's
``SDWriter``. Two readers go over it, alternated, ``--repeats`` times each:

- gnnkit: :func:`gnnkit.data.molecules.sdf.sd_records` (record, line, title, properties,
  canonical SMILES, RDKit's reason for a record it cannot read);
- RDKit: ``ForwardSDMolSupplier`` and ``MolToSmiles`` of each molecule (no line numbers, no
  properties of unreadable records, no reasons).

Prints the median records/s of each.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from rdkit import Chem, rdBase
from screen import NCI

from gnnkit.data.molecules.sdf import sd_records


def write_library(path: Path) -> int:
    """The NCI molecules as an SD file; returns their number."""
    count = 0
    with rdBase.BlockLogs(), Chem.SDWriter(str(path)) as writer:
        for line in NCI.read_text().splitlines():
            fields = line.split()
            mol = Chem.MolFromSmiles(fields[0])
            if mol is None:
                continue
            mol.SetProp("_Name", fields[1] if len(fields) > 1 else f"nci{count}")
            mol.SetProp("value", str(count))
            writer.write(mol)
            count += 1
    return count


def rate(read, path: Path) -> float:
    """Records per second of one pass of ``read`` over ``path``."""
    start = time.perf_counter()
    count = read(path)
    return count / (time.perf_counter() - start)


def gnnkit_pass(path: Path) -> int:
    return sum(1 for _ in sd_records(path))


def rdkit_pass(path: Path) -> int:
    return sum(1 for mol in Chem.ForwardSDMolSupplier(str(path)) if Chem.MolToSmiles(mol))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", default="runs/benchmarks/sdf")
    arguments = parser.parse_args()
    out = Path(arguments.out)
    out.mkdir(parents=True, exist_ok=True)
    path = out / "nci.sdf"
    count = write_library(path)
    rates: dict[str, list[float]] = {"gnnkit": [], "rdkit": []}
    for _ in range(arguments.repeats):
        rates["gnnkit"].append(rate(gnnkit_pass, path))
        rates["rdkit"].append(rate(rdkit_pass, path))
    for name, values in rates.items():
        print(f"{name}: {statistics.median(values):,.0f} records/s (median of {len(values)})")
    print(f"{count} records in {path}")


if __name__ == "__main__":
    main()
