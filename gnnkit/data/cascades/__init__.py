"""Social cascades: the tree data model, Twitter15/16 and UPFD loaders, a calibrated
synthetic generator, structural, user and text features, statistics, and leak-free (and
claim-disjoint) evaluation splits."""

from gnnkit.choices import FEATURE_SETS, parse_feature_set
from gnnkit.data.cascades.cascade import Cascade, CascadeError, observe
from gnnkit.data.cascades.content import TextEncoder, UserTable, claim_groups
from gnnkit.data.cascades.dataset import CascadeSet, to_data
from gnnkit.data.cascades.features import feature_names, node_features
from gnnkit.data.cascades.featurizer import CascadeFeaturizer
from gnnkit.data.cascades.folds import (
    FoldSplit,
    cross_validation_splits,
    given_split,
    group_cross_validation_splits,
    group_folds,
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
from gnnkit.data.cascades.synthetic import (
    TWITTER15,
    BranchingParams,
    ContentParams,
    calibrate,
    generate,
)
from gnnkit.data.cascades.twitter import (
    TWITTER_CLASSES,
    CascadeFormatError,
    load_twitter,
    write_twitter,
)
from gnnkit.data.cascades.upfd import UPFD_CLASSES, download_upfd, load_upfd
from gnnkit.errors import DownloadError

__all__ = [
    "FEATURE_SETS",
    "QUIRKS",
    "TWITTER15",
    "TWITTER_CLASSES",
    "UPFD_CLASSES",
    "BranchingParams",
    "Cascade",
    "CascadeError",
    "CascadeFeaturizer",
    "CascadeFormatError",
    "CascadeSet",
    "ContentParams",
    "DataOptions",
    "DownloadError",
    "FoldSplit",
    "LoadReport",
    "TextEncoder",
    "UserTable",
    "calibrate",
    "cascade_statistics",
    "claim_groups",
    "class_summary",
    "cross_validation_splits",
    "download_upfd",
    "feature_names",
    "generate",
    "given_split",
    "group_cross_validation_splits",
    "group_folds",
    "holdout_split",
    "load_cascades",
    "load_twitter",
    "load_upfd",
    "node_features",
    "observe",
    "parse_feature_set",
    "statistic_names",
    "statistics_matrix",
    "stratified_folds",
    "to_data",
    "write_twitter",
]
