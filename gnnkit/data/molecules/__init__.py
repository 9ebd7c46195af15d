"""Molecules: RDKit featurizer, CSV datasets, descriptors and named datasets."""

from gnnkit.data.molecules.dataset import InvalidRow, MoleculeCSVDataset, write_invalid_rows
from gnnkit.data.molecules.featurizer import FeaturizerConfig, MoleculeFeaturizer
from gnnkit.data.molecules.graph import MoleculeGraph
from gnnkit.data.molecules.table import DataFileError

__all__ = [
    "DataFileError",
    "FeaturizerConfig",
    "InvalidRow",
    "MoleculeCSVDataset",
    "MoleculeFeaturizer",
    "MoleculeGraph",
    "write_invalid_rows",
]
