"""Settings of a molecule training run: :class:`MoleculeTrainConfig` and the models ``mol train``
builds."""

from __future__ import annotations

from dataclasses import MISSING, asdict, dataclass, field, fields
from typing import Any

from gnnkit.choices import (
    CALIBRATIONS,
    CLASSIFICATION_CALIBRATIONS,
    REGRESSION_CALIBRATIONS,
)
from gnnkit.train import TrainConfig
from gnnkit.train.config import setting_changes

TASKS = {"regression": "regression", "classification": "binary", "multiclass": "multiclass"}
MODEL_FIELDS = (
    "hidden_channels",
    "depth",
    "dropout",
    "aggregation",
    "ffn_hidden_channels",
    "ffn_layers",
)
#: Settings of :class:`MoleculeTrainConfig` that a resumed run may change: where the data
#: files and the fine-tuning source are (their SHA-256 is compared instead), featurization
#: processes, and ``train`` (compared by :meth:`~gnnkit.train.TrainConfig.resume_conflicts`).
RESUMABLE_SETTINGS = frozenset({"data", "descriptor_file", "workers", "train", "init_from"})


@dataclass(frozen=True, slots=True)
class MoleculeModel:
    """What ``mol train`` knows of a model: the width and depth it gets when none is given,
    whether it needs 3-D conformers, and whether it takes molecule descriptors."""

    hidden_channels: int
    depth: int
    conformers: bool
    descriptors: bool


#: The models ``mol train`` builds, by registered name. D-MPNN: chemprop's defaults. EGNN
#: (:class:`~gnnkit.models.egnn.MoleculeEGNN`): 128 wide and 4 deep, as its messages run over
#: all atom pairs (cost ∝ n_atoms² · width²); on ETKDG conformers; no descriptors.
MOLECULE_MODELS = {
    "dmpnn": MoleculeModel(hidden_channels=300, depth=3, conformers=False, descriptors=True),
    "egnn": MoleculeModel(hidden_channels=128, depth=4, conformers=True, descriptors=False),
}


@dataclass(slots=True)
class MoleculeTrainConfig:
    """Settings of :func:`train_molecules` (the ``gnnkit mol train`` options).

    Data: ``data`` (a file, a dataset name such as ``esol``, or ``None`` for the embedded
    ChEMBL set), ``smiles_column``, or ``smiles_columns`` (two or more: one molecule of each
    per row, one D-MPNN per column or, with ``shared_encoder``, one for all; see
    :mod:`~gnnkit.data.molecules.components`), ``target_columns``, ``weight_column``,
    ``deduplicate`` (rows holding the same molecule, or the same molecules in every SMILES
    column: ``"keep"`` them all, with a warning, each molecule's rows in one part of every
    split; ``"mean"`` merges them into one with the mean of their targets, regression only;
    ``"first"`` keeps the first; ``"error"`` refuses the file).
    Task and split: ``task`` (regression, classification, multiclass), ``split`` (random,
    scaffold, stratified), ``sizes``, ``splits_file`` (chemprop's ``splits.json``), ``folds``
    (k-fold cross-validation when ≥ 2; 1 or ``None``: one split by ``split``).
    Model: ``model`` (``"dmpnn"``, the D-MPNN on 2-D graphs, or ``"egnn"``, an E(3)-invariant
    EGNN on one ETKDG conformer per molecule, embedded with ``conformer_seed``; molecules that
    cannot be embedded are reported in ``invalid_smiles.csv``), ``hidden_channels`` and
    ``depth`` (``None``: the model's default, see :data:`MOLECULE_MODELS`), ``dropout``,
    ``aggregation``, ``ffn_hidden_channels``, ``ffn_layers`` (chemprop's defaults),
    ``descriptors`` (``rdkit2d`` or ``None``) or ``descriptor_file`` (numeric CSV, one row per
    data row; D-MPNN only), ``atom_features`` (``v2``, ``rich``).
    Training: ``train`` holds every :class:`~gnnkit.train.TrainConfig` setting (epochs 50,
    batch 64, no early stopping, as chemprop); ``workers`` featurization processes;
    ``ensemble`` models per split, trained with seeds ``seed, seed + 1, …`` on the same split
    (see :mod:`gnnkit.workflows.ensemble`).
    Fine-tuning: ``init_from`` (a trained run's folder or model file) starts from its weights,
    ``freeze_encoder`` freezes the message passing, ``freeze_ffn_layers`` the first K layers
    of the FFN head (see :mod:`gnnkit.workflows.molecules.finetune`).
    Uncertainty: ``train.loss`` (``mse``, ``mve``, ``evidential``; see
    :mod:`gnnkit.train.losses`); ``calibration`` fitted on the validation split after training
    (:mod:`gnnkit.train.calibration`): ``none``, ``zscaling`` or ``conformal`` (regression,
    intervals of miscoverage ``alpha``), ``platt`` or ``isotonic`` (binary classification).
    It is stored as ``calibration.json`` beside the models it calibrates: in the run folder for
    one split (one model or an ensemble, fitted on the validation predictions of the whole
    ensemble), in each ``fold_k/`` for cross-validation, and in the run folder too, fitted on
    the pooled validation predictions of every fold (each by its own fold's models: an
    approximation for the folds' ensemble that ``predict`` runs, whose members saw some of
    those molecules in training).
    """

    data: str | None = None
    smiles_column: str | None = None
    target_columns: list[str] | None = None
    weight_column: str | None = None
    deduplicate: str = "keep"
    task: str = "regression"
    split: str = "random"
    sizes: tuple[float, float, float] = (0.8, 0.1, 0.1)
    splits_file: str | None = None
    folds: int | None = None
    model: str = "dmpnn"
    conformer_seed: int = 0
    hidden_channels: int | None = None
    depth: int | None = None
    dropout: float = 0.0
    aggregation: str = "norm"
    ffn_hidden_channels: int = 300
    ffn_layers: int = 1
    descriptors: str | None = None
    descriptor_file: str | None = None
    atom_features: str = "v2"
    workers: int = 1
    ensemble: int = 1
    init_from: str | None = None
    freeze_encoder: bool = False
    freeze_ffn_layers: int = 0
    calibration: str = "none"
    alpha: float = 0.1
    train: TrainConfig = field(default_factory=lambda: TrainConfig(patience=None))
    smiles_columns: list[str] | None = None
    shared_encoder: bool = False

    def __post_init__(self) -> None:
        if self.task not in TASKS:
            raise ValueError(f"task must be one of {', '.join(TASKS)}, got {self.task!r}")
        if self.ensemble < 1:
            raise ValueError(f"ensemble must be at least 1, got {self.ensemble}")
        if self.folds is not None and self.folds < 1:
            raise ValueError(
                f"folds must be at least 1 (1: one split, k >= 2: k-fold), got {self.folds}"
            )
        if self.folds is not None and self.folds >= 2:
            if self.splits_file:
                raise ValueError(
                    "folds (--folds) and splits_file (--splits-file) both choose the splits; give "
                    "one (a splits file may hold several splits, trained like folds)"
                )
            if self.split == "scaffold":
                raise ValueError(
                    "k-fold cross-validation (--folds) assigns molecules to folds at random (by "
                    "class for classification), so it cannot follow split='scaffold' (--split "
                    "scaffold); drop one"
                )
        if self.freeze_ffn_layers < 0:
            raise ValueError(f"freeze_ffn_layers must be 0 or more, got {self.freeze_ffn_layers}")
        if self.init_from is None and (self.freeze_encoder or self.freeze_ffn_layers):
            raise ValueError(
                "freeze_encoder (--freeze-encoder) and freeze_ffn_layers (--freeze-ffn-layers) "
                "freeze weights copied from a trained model: give init_from (--init-from)"
            )
        if self.deduplicate == "mean" and self.task != "regression":
            raise ValueError(
                "deduplicate='mean' averages the targets of a molecule's rows, which suits a "
                f"regression task, not {self.task}; use 'first' or 'error'"
            )
        if self.model not in MOLECULE_MODELS:
            raise ValueError(
                f"model must be one of {', '.join(MOLECULE_MODELS)}, got {self.model!r}"
            )
        spec = MOLECULE_MODELS[self.model]
        self._check_smiles_columns()
        if not spec.descriptors and (self.descriptors or self.descriptor_file):
            raise ValueError(
                f"model {self.model!r} takes no molecule descriptors; use model='dmpnn' or drop "
                "descriptors / descriptor_file"
            )
        if self.hidden_channels is None:
            self.hidden_channels = spec.hidden_channels
        if self.depth is None:
            self.depth = spec.depth
        self.train.task = TASKS[self.task]
        self.train.validate()  # before the data are featurized, not after
        self._check_calibration()

    def _check_calibration(self) -> None:
        """Refuse a calibration that does not fit the task or the model."""
        if self.calibration not in CALIBRATIONS:
            raise ValueError(
                f"calibration must be one of {', '.join(CALIBRATIONS)}, got {self.calibration!r}"
            )
        if not 0 < self.alpha < 1:
            raise ValueError(f"alpha (--alpha) must lie in (0, 1), got {self.alpha}")
        regression = self.task == "regression"
        valid = REGRESSION_CALIBRATIONS if regression else CLASSIFICATION_CALIBRATIONS
        if self.calibration not in valid:
            raise ValueError(
                f"--calibration {self.calibration} does not apply to a {self.task} task, which "
                f"takes {' or '.join(valid[1:])}"
            )
        if self.task == "multiclass" and self.calibration != "none":
            raise ValueError(
                "--calibration applies to regression and binary classification, not multiclass"
            )
        if self.calibration == "zscaling" and self.train.loss == "mse" and self.ensemble == 1:
            raise ValueError(
                "--calibration zscaling scales a predicted standard deviation, which one model "
                "trained with --loss mse lacks; train with --loss mve or evidential, or with "
                "--ensemble N (N >= 2), or use --calibration conformal"
            )

    def _check_smiles_columns(self) -> None:
        """``smiles_columns``: distinct names, not beside ``smiles_column``; several only for
        the D-MPNN; ``shared_encoder`` only with several."""
        columns = self.smiles_columns or []
        if columns and self.smiles_column is not None:
            raise ValueError(
                "give smiles_column (--smiles-column) or smiles_columns (--smiles-columns), "
                "not both"
            )
        if len(set(columns)) != len(columns):
            raise ValueError(f"smiles_columns name a column twice: {columns}")
        if len(columns) > 1 and self.model != "dmpnn":
            raise ValueError(
                f"several SMILES columns (--smiles-columns) need model='dmpnn', not {self.model!r}"
            )
        if self.shared_encoder and len(columns) < 2:
            raise ValueError(
                "shared_encoder (--shared-encoder) shares one D-MPNN between the molecules of "
                "a row; it needs two or more smiles_columns (--smiles-columns A B)"
            )

    @property
    def molecule_columns(self) -> list[str]:
        """The SMILES columns of a run of several molecules per row, else ``[]``."""
        columns = self.smiles_columns or []
        return columns if len(columns) > 1 else []

    def to_dict(self) -> dict[str, Any]:
        out = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "train"}
        out["sizes"] = list(self.sizes)
        out["train"] = asdict(self.train)
        return out

    def resume_conflicts(self, saved: dict[str, Any]) -> list[str]:
        """Settings that differ from ``saved`` (a run's :meth:`to_dict`) and may not change on
        resume (see :data:`RESUMABLE_SETTINGS`)."""
        # A run.json written before a setting existed ran with its default.
        defaults = {f.name: f.default for f in fields(self) if f.default is not MISSING}
        own = setting_changes({**defaults, **saved}, self.to_dict(), RESUMABLE_SETTINGS)
        return own + self.train.resume_conflicts(saved.get("train", {}))
