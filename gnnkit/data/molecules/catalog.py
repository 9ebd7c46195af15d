"""Named molecule datasets: the embedded ChEMBL set (no network) and MoleculeNet downloads.

``resolve_dataset(name_or_path)`` turns what a user typed after ``--data`` into a local file
and its columns: ``None`` or ``"chembl"`` → the embedded set; ``"esol"``, ``"freesolv"``,
``"lipophilicity"``, ``"bbbp"``, ``"tox21"``, ``"hiv"`` → the MoleculeNet file, downloaded once
into ``cache_root()/downloads``; anything else → a local file path.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import shutil
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import rdkit

from gnnkit.data.cache import cache_root
from gnnkit.data.molecules.table import DataFileError

EMBEDDED_NAME = "chembl"
RDKIT_DATA = Path(rdkit.__file__).parent / "Contrib" / "FreeWilson" / "data"
TOX21_TASKS = [
    "NR-AR",
    "NR-AR-LBD",
    "NR-AhR",
    "NR-Aromatase",
    "NR-ER",
    "NR-ER-LBD",
    "NR-PPAR-gamma",
    "SR-ARE",
    "SR-ATAD5",
    "SR-HSE",
    "SR-MMP",
    "SR-p53",
]
DEEPCHEM = "https://deepchemdata.s3-us-west-1.amazonaws.com/datasets/"


@dataclass(frozen=True, slots=True)
class DatasetSpec:
    """A data file and how to read it."""

    path: Path
    smiles_column: str | None = None
    target_columns: list[str] | None = None
    task: str | None = None


@dataclass(frozen=True, slots=True)
class RemoteDataset:
    """A public dataset: where it lives, what it holds, and how to check a download.

    ``rows`` is the number of data rows of the published file; ``sha256`` its digest when
    known (``None``: the first download's digest is recorded beside it and later copies must
    match it).
    """

    url: str
    smiles_column: str
    target_columns: list[str]
    task: str
    rows: int
    sha256: str | None = None

    @property
    def filename(self) -> str:
        return self.url.rsplit("/", 1)[-1]


MOLECULENET: dict[str, RemoteDataset] = {
    "esol": RemoteDataset(
        DEEPCHEM + "delaney-processed.csv",
        "smiles",
        ["measured log solubility in mols per litre"],
        "regression",
        1128,
    ),
    "freesolv": RemoteDataset(DEEPCHEM + "SAMPL.csv", "smiles", ["expt"], "regression", 642),
    "lipophilicity": RemoteDataset(
        DEEPCHEM + "Lipophilicity.csv", "smiles", ["exp"], "regression", 4200
    ),
    "bbbp": RemoteDataset(DEEPCHEM + "BBBP.csv", "smiles", ["p_np"], "classification", 2050),
    "tox21": RemoteDataset(
        DEEPCHEM + "tox21.csv.gz", "smiles", TOX21_TASKS, "classification", 7831
    ),
    "hiv": RemoteDataset(DEEPCHEM + "HIV.csv", "smiles", ["HIV_active"], "classification", 41127),
}


def embedded_chembl() -> DatasetSpec:
    """CHEMBL2321810 (1,017 molecules, pIC50), joined from the two files RDKit ships, written
    once to ``cache_root()/embedded/chembl2321810.csv`` with columns ``smiles``, ``chembl_id``,
    ``pIC50``."""
    target = cache_root() / "embedded" / "chembl2321810.csv"
    if not target.exists():
        smiles_file = RDKIT_DATA / "CHEMBL2321810.smi"
        activity_file = RDKIT_DATA / "CHEMBL2321810_act.csv"
        activity = {}
        for line in activity_file.read_text().splitlines()[1:]:
            name, value = line.split(",")
            activity[name.strip()] = value.strip()
        rows = ["smiles,chembl_id,pIC50"]
        for line in smiles_file.read_text().splitlines():
            if not line.strip():
                continue
            smiles, name = line.split()
            rows.append(f"{smiles},CHEMBL{name},{activity[name]}")
        target.parent.mkdir(parents=True, exist_ok=True)
        temporary = target.with_suffix(".tmp")
        temporary.write_text("\n".join(rows) + "\n")
        temporary.replace(target)
    return DatasetSpec(target, "smiles", ["pIC50"], "regression")


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _count_rows(path: Path) -> int:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt") as handle:
        return sum(1 for line in handle if line.strip()) - 1


def download(name: str, *, directory: Path | None = None, url: str | None = None) -> Path:
    """The local copy of MoleculeNet dataset ``name``, downloading it if needed.

    ``url`` overrides the public address (e.g. a mirror, or ``file://`` for a local copy). A
    download is checked — row count, and SHA-256 when known or recorded by an earlier download —
    before it takes its final name. Offline, the error names the URL and how to pass a local
    file instead.
    """
    remote = MOLECULENET[name]
    directory = directory or cache_root() / "downloads"
    path = directory / remote.filename
    recorded = path.with_name(path.name + ".sha256")
    if path.exists():
        return path
    source = url or remote.url
    directory.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".part")
    try:
        with urllib.request.urlopen(source, timeout=60) as response, open(partial, "wb") as out:
            shutil.copyfileobj(response, out)
    except (urllib.error.URLError, OSError) as error:
        partial.unlink(missing_ok=True)
        raise DataFileError(
            f"cannot download the {name} dataset from {source}: {error}. Without network, "
            f"download that file elsewhere and pass it as a local file: --data {remote.filename} "
            f"--smiles-column {remote.smiles_column!r} (or place it at {path})"
        ) from None
    rows = _count_rows(partial)
    if rows != remote.rows:
        partial.unlink()
        raise DataFileError(
            f"{source}: expected {remote.rows} data rows for {name}, got {rows}; the download is "
            "incomplete or not the published file"
        )
    digest = _digest(partial)
    expected = remote.sha256 or (recorded.read_text().strip() if recorded.exists() else None)
    if expected is not None and digest != expected:
        partial.unlink()
        raise DataFileError(f"{source}: SHA-256 {digest} does not match the expected {expected}")
    recorded.write_text(digest + "\n")
    os.replace(partial, path)
    return path


def resolve_dataset(name_or_path: str | os.PathLike | None) -> DatasetSpec:
    """What ``--data`` names: the embedded set, a MoleculeNet dataset, or a local file."""
    if name_or_path is None or str(name_or_path).lower() == EMBEDDED_NAME:
        return embedded_chembl()
    key = str(name_or_path).lower()
    if key in MOLECULENET and not Path(name_or_path).exists():
        remote = MOLECULENET[key]
        return DatasetSpec(download(key), remote.smiles_column, remote.target_columns, remote.task)
    return DatasetSpec(Path(name_or_path))
