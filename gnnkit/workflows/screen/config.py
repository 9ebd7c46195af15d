"""A screen's settings (pure Python: ``gnnkit mol screen`` reads its defaults without torch)."""

from __future__ import annotations

from dataclasses import dataclass

from gnnkit.choices import ENGINES, PRECISIONS, RANK_BY


@dataclass(slots=True)
class ScreenConfig:
    """Settings of :func:`~gnnkit.workflows.screen.screen_library` (``gnnkit mol screen``).

    Ranking: ``top_k`` molecules by the prediction column ``target`` (default: the model's
    first; for multiclass models ``<task>_class<c>``), highest first or lowest first with
    ``ascending``; classification ranks by probability. ``rank_by``: ``"mean"`` (the
    prediction), or ``"lower"`` / ``"upper"``, the bounds of the interval of a model calibrated
    with ``zscaling`` or ``conformal`` (``lower`` is the pessimistic bound when higher is
    better; with ``ascending``, ``upper`` is). ``max_train_similarity`` leaves out
    molecules whose Morgan-fingerprint Tanimoto similarity to the nearest training molecule is
    above it. Reading: ``smiles_column`` (default: the model's training column if the file has
    it, else a column named like ``smiles``), ``smiles_columns`` (for a model of several
    molecules per row: the library's columns, in the model's order; default: the training
    columns, which a CSV/TSV library must have), ``chunk_size`` rows at a time. Work:
    ``workers`` featurization processes beside the one predicting (0: featurize in the
    predicting process), or ``predictors`` > 1 processes that each featurize and predict
    whole chunks on the CPU (local engine; ``workers`` is then unused). ``predictors=None``
    picks the fastest layout: one per CPU core on a CPU (no more than torch's threads nor the
    library's chunks), 1 on a GPU (see
    :func:`~gnnkit.workflows.screen.local.choose_predictors`). ``batch_size``
    molecules per forward pass (default by device,
    :data:`~gnnkit.workflows.screen.plan.BATCH_SIZES`), ``device`` (default ``cuda`` when
    available, the CPU for ``int8``), ``precision``: ``"fp32"`` or ``"int8"`` (CPU only,
    refused on a GPU; see :mod:`gnnkit.train.precision`). ``engine``: ``"local"`` or ``"ray"`` (see
    :mod:`gnnkit.workflows.screen.distributed` for ``ray_address``, ``ray_predictors`` and
    ``ray_gpus``). ``progress``: a progress bar on stderr. ``allow_partial``: screen with the
    trained models of a run whose training stopped part-way (refused otherwise; the hits get a
    ``models_used`` column).
    """

    top_k: int = 100
    target: str | None = None
    ascending: bool = False
    rank_by: str = "mean"
    max_train_similarity: float | None = None
    smiles_column: str | None = None
    smiles_columns: tuple[str, ...] = ()
    chunk_size: int = 2_000
    workers: int = 1
    predictors: int | None = None
    batch_size: int | None = None
    device: str | None = None
    precision: str = "fp32"
    engine: str = "local"
    ray_address: str | None = None
    ray_predictors: int | None = None
    ray_gpus: float | None = None
    progress: bool = True
    allow_partial: bool = False

    def __post_init__(self) -> None:
        for name in ("top_k", "chunk_size", "batch_size"):
            if getattr(self, name) is not None and getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")
        if self.workers < 0:
            raise ValueError(f"workers must be 0 or more, got {self.workers}")
        if self.predictors is not None and self.predictors < 1:
            raise ValueError(f"predictors must be at least 1, got {self.predictors}")
        if self.precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {PRECISIONS}, got {self.precision!r}")
        if self.rank_by not in RANK_BY:
            raise ValueError(f"rank_by must be one of {RANK_BY}, got {self.rank_by!r}")
        if self.engine not in ENGINES:
            raise ValueError(f"engine must be one of {ENGINES}, got {self.engine!r}")
        similarity = self.max_train_similarity
        if similarity is not None and not 0.0 <= similarity <= 1.0:
            raise ValueError(f"max_train_similarity must be in [0, 1], got {similarity}")
