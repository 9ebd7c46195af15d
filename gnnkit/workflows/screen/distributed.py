"""The Ray engine: the same screen as a Ray Data pipeline, for a cluster.

::

    read (one streaming task on the driver's node, chunk by chunk)
      → featurize (CPU tasks, in parallel)
      → predict + rank (model actors, one GPU each when the cluster has GPUs; each keeps its
        block's top-K, with similarities, and its invalid rows)
      → merge (this process: the same top-K, ties broken by row, as the local engine)

With GPU actors, featurization runs in CPU tasks beside them and keeps them fed. On a cluster
without GPUs, Ray fuses the featurize step into the model actors (their resources are the
same), so each of the (by default one per CPU) actors featurizes and predicts its chunks.
With ``precision="int8"`` the actors get no GPU unless ``ray_gpus`` asks for one, which is then
refused (int8 runs on CPUs); the ensemble reaches them quantized, with their arguments.

Chunks are the local engine's chunks, featurized and predicted by the same functions
(:mod:`~gnnkit.workflows.screen.pipeline`), so the hits are the same. The per-block top-K is
exact: a molecule in the global top-K is in the top-K of its own block. Between stages a chunk
travels as one pickled record, so Ray never re-blocks it (which would change the batches and,
in the last bits, the predictions). A library that cannot be read to its end sends its
:class:`~gnnkit.data.molecules.table.DataFileError` as a last record through every stage, so
the chunks before it are screened, as by the local engine, before it is raised here.

Ray is an optional dependency (``pip install "gnnkit[distributed]"``), imported only here.
``ray_address`` (or ``$RAY_ADDRESS``) picks a running cluster (see the README); without it
``ray.init()`` starts Ray on this machine. A Ray instance already initialised by the caller is
used as it is.
"""

from __future__ import annotations

import pickle
from collections.abc import Iterator
from contextlib import contextmanager
from types import ModuleType
from typing import Any

import pandas as pd

from gnnkit.data.molecules.similarity import NearestNeighbours
from gnnkit.data.molecules.stream import MoleculeStream
from gnnkit.data.molecules.table import DataFileError
from gnnkit.train import Ensemble
from gnnkit.train.precision import check_precision
from gnnkit.workflows.screen.pipeline import (
    FeaturizedChunk,
    ScreenedBlock,
    featurize_chunk,
    predict_chunk,
    split_results,
)
from gnnkit.workflows.screen.plan import ScreenPlan
from gnnkit.workflows.screen.ranking import NEAREST, SIMILARITY, RankRule, TopK

#: The one column of the records between stages (a pickled chunk, featurized chunk or block).
RECORD = "record"


def import_ray() -> ModuleType:
    """The ``ray`` module, or an error that says how to install it."""
    try:
        import ray
        import ray.data
    except ImportError as error:
        raise ImportError(
            "--engine ray needs Ray Data: pip install 'gnnkit[distributed]' "
            "(or pip install 'ray[data]>=2.9')"
        ) from error
    return ray


def _records(values: list[Any]) -> pd.DataFrame:
    return pd.DataFrame({RECORD: [pickle.dumps(value) for value in values]})


def _unpickled(batch: pd.DataFrame) -> list[Any]:
    return [pickle.loads(value) for value in batch[RECORD]]


def _chunk_source(ray: ModuleType, stream: MoleculeStream) -> Any:
    """A Ray datasource with one read task streaming ``stream``'s chunks from the driver's
    node (where the library file is)."""

    class ChunkSource(ray.data.Datasource):
        def estimate_inmemory_data_size(self) -> int | None:
            return None

        @property
        def supports_distributed_reads(self) -> bool:
            return False

        def get_read_tasks(self, parallelism: int, *args: Any, **kwargs: Any) -> list[Any]:
            def read() -> Iterator[pd.DataFrame]:
                try:
                    for chunk in stream:
                        yield _records([chunk])
                except DataFileError as error:  # a last record, after the chunks read
                    yield _records([error])

            metadata = ray.data.block.BlockMetadata(
                num_rows=None, size_bytes=None, exec_stats=None, input_files=[str(stream.path)]
            )
            return [ray.data.ReadTask(read, metadata)]

    return ChunkSource()


def _featurize(
    batch: pd.DataFrame, featurizer: dict[str, Any], columns: dict[str, str] | None = None
) -> pd.DataFrame:
    """The chunks featurized (see :func:`featurize_chunk` for ``columns``); a read error
    passes through."""
    return _records(
        [
            chunk
            if isinstance(chunk, DataFileError)
            else featurize_chunk(chunk, featurizer, columns)
            for chunk in _unpickled(batch)
        ]
    )


class _PredictAndRank:
    """A model actor: predicts each featurized chunk, keeps its top-K and invalid rows."""

    def __init__(
        self,
        ensemble: Ensemble,
        batch_size: int,
        device: str,
        rule: RankRule,
        k: int,
        training_smiles: list[str] | None,
        max_similarity: float | None,
    ) -> None:
        self.ensemble = ensemble.to(device)
        self.batch_size, self.device = batch_size, device
        self.rule, self.k, self.max_similarity = rule, k, max_similarity
        self.neighbours = NearestNeighbours(training_smiles) if training_smiles else None
        self.similarity_columns = [SIMILARITY, NEAREST] if self.neighbours is not None else []

    def __call__(self, batch: pd.DataFrame) -> pd.DataFrame:
        blocks = []
        chunk: FeaturizedChunk | DataFileError
        for chunk in _unpickled(batch):
            if isinstance(chunk, DataFileError):  # a read error passes through
                blocks.append(chunk)
                continue
            block = split_results(predict_chunk(self.ensemble, chunk, self.batch_size, self.device))
            top = TopK(self.k, self.rule, self.neighbours, self.max_similarity)
            top.offer(block.candidates)
            columns = [*block.candidates.columns, *self.similarity_columns]
            hits = top.frame(columns).drop(columns="rank")
            blocks.append(ScreenedBlock(block.screened, hits, block.invalid))
        return _records(blocks)


@contextmanager
def ray_session(ray: ModuleType, address: str | None) -> Iterator[None]:
    """Ray as the caller initialised it, or started here (and shut down afterwards)."""
    started = not ray.is_initialized()
    if started:
        ray.init(address=address, log_to_driver=False)
    try:
        yield
    finally:
        if started:
            ray.shutdown()


@contextmanager
def _data_context(ray: ModuleType, progress: bool) -> Iterator[None]:
    """Ray Data settings of a screen, restored afterwards."""
    context = ray.data.DataContext.get_current()
    options = context.execution_options
    saved = (context.target_max_block_size, options.preserve_order, context.enable_progress_bars)
    # Every record (one chunk) is a block of its own: Ray must not merge the chunks a read
    # task yields into one block, which one actor would then work through alone.
    context.target_max_block_size = 1
    options.preserve_order = True  # invalid rows reported in library order
    context.enable_progress_bars = progress
    try:
        yield
    finally:
        context.target_max_block_size, options.preserve_order, context.enable_progress_bars = saved


def _screen_dataset(ray: ModuleType, plan: ScreenPlan) -> Any:
    """The pipeline as a lazy Ray dataset of pickled :class:`ScreenedBlock` records."""
    config = plan.config
    resources = ray.cluster_resources()
    gpus = config.ray_gpus
    if gpus is None:  # int8 runs on CPUs
        gpus = min(resources.get("GPU", 0), 1) if config.precision == "fp32" else 0
    predictors = config.ray_predictors or max(
        1, int(resources["GPU"] // gpus) if gpus else int(resources.get("CPU", 1))
    )
    device = config.device or ("cuda" if gpus else "cpu")
    check_precision(config.precision, device)
    source = _chunk_source(ray, plan.stream)
    return (
        ray.data.read_datasource(source, override_num_blocks=1, num_cpus=0)
        .map_batches(
            _featurize,
            fn_kwargs={"featurizer": plan.featurizer, "columns": plan.molecule_columns},
            batch_size=1,
            batch_format="pandas",
        )
        .map_batches(
            _PredictAndRank,
            fn_constructor_args=(
                plan.ensemble.to("cpu"),
                plan.batch_size(device),
                device,
                plan.rule,
                config.top_k,
                plan.training_smiles,
                config.max_train_similarity,
            ),
            batch_size=1,
            batch_format="pandas",
            compute=ray.data.ActorPoolStrategy(size=predictors),
            num_cpus=1,
            num_gpus=gpus,
        )
    )


def ray_blocks(plan: ScreenPlan) -> Iterator[ScreenedBlock]:
    """Every chunk of the library screened on the Ray cluster: per chunk, its own top-K and
    invalid rows, in library order."""
    ray = import_ray()
    with ray_session(ray, plan.config.ray_address), _data_context(ray, plan.config.progress):
        dataset = _screen_dataset(ray, plan)
        for batch in dataset.iter_batches(batch_size=None, batch_format="pandas"):
            for block in _unpickled(batch):
                if isinstance(block, DataFileError):  # the library could not be read further
                    raise block
                yield block
