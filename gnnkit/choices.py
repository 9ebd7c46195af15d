"""The named choices of gnnkit's settings, in pure Python: the components check their settings
against these, and the command line offers them without importing torch."""

from __future__ import annotations

from typing import Literal

#: Kinds of prediction task (:class:`gnnkit.train.Task`).
TaskKind = Literal["regression", "binary", "multiclass"]
TASK_KINDS: tuple[str, ...] = ("regression", "binary", "multiclass")
#: Losses of regression tasks (:mod:`gnnkit.train.losses`): squared error, mean-variance
#: estimation, deep evidential regression.
RegressionLoss = Literal["mse", "mve", "evidential"]
REGRESSION_LOSSES: tuple[str, ...] = ("mse", "mve", "evidential")
#: Calibrations fitted on the validation split (:mod:`gnnkit.train.calibration`): the first
#: three for regression, Platt and isotonic for binary classification.
CALIBRATIONS: tuple[str, ...] = ("none", "zscaling", "conformal", "platt", "isotonic")
REGRESSION_CALIBRATIONS: tuple[str, ...] = ("none", "zscaling", "conformal")
CLASSIFICATION_CALIBRATIONS: tuple[str, ...] = ("none", "platt", "isotonic")
#: What a screen ranks by: the prediction or a bound of its calibrated interval.
RANK_BY: tuple[str, ...] = ("mean", "lower", "upper")
#: Layers whose output :meth:`gnnkit.train.Ensemble.fingerprints` returns.
FINGERPRINT_LAYERS: tuple[str, ...] = ("aggregate", "penultimate")

#: Per-atom attribution methods of ``gnnkit mol explain``
#: (:mod:`gnnkit.workflows.molecules.attribution`).
ATTRIBUTION_METHODS: tuple[str, ...] = ("integrated-gradients", "saliency", "occlusion")

#: Numeric precisions of molecule inference (:mod:`gnnkit.train.precision`).
PRECISIONS: tuple[str, ...] = ("fp32", "int8")

#: Engines that run a screen or a hyper-parameter search: this process, or Ray.
ENGINES: tuple[str, ...] = ("local", "ray")
#: Pruners of a hyper-parameter search (:mod:`gnnkit.workflows.hpopt`).
PRUNERS: tuple[str, ...] = ("median", "asha", "none")

#: How a molecule model pools its atoms (:func:`gnnkit.models.dmpnn.aggregate_atoms`).
AGGREGATIONS: tuple[str, ...] = ("norm", "mean", "sum")

#: Molecule splits (:mod:`gnnkit.data.splits`).
SPLIT_TYPES: tuple[str, ...] = ("random", "scaffold", "stratified")
#: What to do with rows holding the same molecule (:mod:`gnnkit.data.molecules.duplicates`).
DEDUPLICATE_MODES: tuple[str, ...] = ("keep", "mean", "first", "error")

#: Registered cascade classifiers (:mod:`gnnkit.models.cascade`).
CASCADE_MODELS: tuple[str, ...] = ("gcnfn", "bigcn", "upfd")
#: Convolutions of the UPFD network's encoder (:class:`gnnkit.models.cascade.UPFDNet`).
UPFD_ENCODERS: tuple[str, ...] = ("gcn", "gat", "sage")
#: Node features that UPFD ships (:mod:`gnnkit.data.cascades.upfd`).
UPFD_FEATURES: tuple[str, ...] = ("profile", "spacy", "bert", "content")
#: Feature groups of a cascade network's input, and the sets ``--features`` names.
FEATURE_GROUPS: tuple[str, ...] = ("structure", "users", "text")
FEATURE_SETS: tuple[str, ...] = ("structure", "users", "text", "all")
#: Cross-validation splits of cascades (:mod:`gnnkit.workflows.cascades.experiment`).
CASCADE_SPLITS: tuple[str, ...] = ("stratified", "claim")
#: Classifiers of the statistics baseline (:mod:`gnnkit.workflows.cascades.baseline`).
CLASSIFIERS: tuple[str, ...] = ("forest", "logistic")


def parse_feature_set(spec: str) -> tuple[str, ...]:
    """The groups of a feature set (``structure``, ``users+text``, ``all``, …), in
    :data:`FEATURE_GROUPS` order."""
    parts = FEATURE_GROUPS if spec == "all" else tuple(spec.split("+"))
    unknown = [p for p in parts if p not in FEATURE_GROUPS]
    if unknown or not parts or len(set(parts)) != len(parts):
        raise ValueError(
            f"unknown feature set {spec!r}; use all or one or more of "
            f"{', '.join(FEATURE_GROUPS)} joined by '+' (e.g. users+text)"
        )
    return tuple(g for g in FEATURE_GROUPS if g in parts)
