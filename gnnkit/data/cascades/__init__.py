"""Social cascades: the tree data model, Twitter15/16 and UPFD loaders, a calibrated
synthetic generator, structural features and statistics, and leak-free evaluation splits."""

from gnnkit.data.cascades.cascade import Cascade, CascadeError, observe
from gnnkit.data.cascades.dataset import CascadeSet, to_data
from gnnkit.data.cascades.features import feature_names, node_features
from gnnkit.data.cascades.folds import (
    FoldSplit,
    cross_validation_splits,
    given_split,
    holdout_split,
    stratified_folds,
)
from gnnkit.data.cascades.report import QUIRKS, LoadReport
from gnnkit.data.cascades.source import DataOptions, load_cascades
from gnnkit.data.cascades.statistics import (
    cascade_statistics,
    class_summary,
    statistic_names,
    statistics_matrix,
)
from gnnkit.data.cascades.synthetic import TWITTER15, BranchingParams, calibrate, generate
from gnnkit.data.cascades.twitter import (
    TWITTER_CLASSES,
    CascadeFormatError,
    load_twitter,
    write_twitter,
)
from gnnkit.data.cascades.upfd import UPFD_CLASSES, DownloadError, download_upfd, load_upfd

__all__ = [
    "QUIRKS",
    "TWITTER15",
    "TWITTER_CLASSES",
    "UPFD_CLASSES",
    "BranchingParams",
    "Cascade",
    "CascadeError",
    "CascadeFormatError",
    "CascadeSet",
    "DataOptions",
    "DownloadError",
    "FoldSplit",
    "LoadReport",
    "calibrate",
    "cascade_statistics",
    "class_summary",
    "cross_validation_splits",
    "download_upfd",
    "feature_names",
    "generate",
    "given_split",
    "holdout_split",
    "load_cascades",
    "load_twitter",
    "load_upfd",
    "node_features",
    "observe",
    "statistic_names",
    "statistics_matrix",
    "stratified_folds",
    "to_data",
    "write_twitter",
]
