"""``gnnkit mol screen``: streamed top-K against brute force, novelty filter, invalid rows,
Ctrl-C, ensembles, and the Ray engine against the local one."""

from __future__ import annotations

import gzip
import math
import re
import sys
import zlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import rdkit
import torch
from chembl_runs import train_chembl_sample
from rdkit import Chem, DataStructs, rdBase
from rdkit.Chem import rdFingerprintGenerator

from gnnkit.cli.main import main
from gnnkit.data.molecules import DataFileError
from gnnkit.models import build_model
from gnnkit.train import Task, TrainConfig, TrainedModel, save_checkpoint
from gnnkit.workflows.molecules import predict_molecules
from gnnkit.workflows.screen import ScreenConfig, invalid_rows_file, local, screen_library

NCI = Path(rdkit.__file__).parent / "Data" / "NCI" / "first_5K.smi"
#: (position in the library, SMILES, RDKit's reason) of the invalid rows planted in it.
INVALID = [
    (3, "C1CC", "SMILES syntax error: RDKit could not parse the string"),
    (40, "c1ccccc1N(=O)(=O)=O", "Explicit valence for atom # 6 N, 7, is greater than permitted"),
    (41, "xyz", "SMILES syntax error: RDKit could not parse the string"),
]
QUIET = {"progress": False, "workers": 0}


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> Path:
    """Two D-MPNNs (hidden 16, 2 epochs) trained on 150 molecules of the embedded ChEMBL set."""
    return train_chembl_sample(
        tmp_path_factory.mktemp("screen"),
        150,
        TrainConfig(epochs=2, batch_size=32, patience=None, progress="none", seed=0),
        hidden_channels=16,
        ffn_hidden_channels=16,
        ensemble=2,
    )


@pytest.fixture(scope="module")
def single(run) -> Path:
    """One model of the ensemble (its training molecules are listed in the run folder)."""
    return run / "member_0" / "model.pt"


@pytest.fixture(scope="module")
def library(run, tmp_path_factory) -> dict[str, Path]:
    """230 rows: 200 NCI molecules, 27 training molecules, 3 invalid SMILES; as .smi (with a
    blank line after row 9), .csv (with an ``id`` column) and .csv.gz."""
    nci = [line.split()[0] for line in NCI.read_text().splitlines()[:200]]
    training = pd.read_csv(run / "training_smiles.csv").smiles.tolist()[:27]
    smiles = nci[:100] + training + nci[100:]
    for position, text, _ in INVALID:
        smiles.insert(position, text)
    frame = pd.DataFrame({"id": [f"mol{k}" for k in range(len(smiles))], "smiles": smiles})
    root = tmp_path_factory.mktemp("library")
    lines = [f"{s} mol{k}" for k, s in enumerate(smiles)]
    (root / "lib.smi").write_text("\n".join([*lines[:10], "", *lines[10:]]) + "\n")
    frame.to_csv(root / "lib.csv", index=False)
    with gzip.open(root / "lib.csv.gz", "wt") as handle:
        frame.to_csv(handle, index=False)
    return {"smi": root / "lib.smi", "csv": root / "lib.csv", "csv.gz": root / "lib.csv.gz"}


def brute_force(model: Path, library: Path, out: Path) -> pd.DataFrame:
    """Every valid row with its prediction(s), from ``predict_molecules``, as ``row``."""
    frame = predict_molecules(model, library, out).rename_axis("row").reset_index()
    return frame[frame.pIC50.notna()]


def morgan(smiles: str):
    generator = rdFingerprintGenerator.GetMorganGenerator(radius=2, fpSize=2048)
    return generator.GetFingerprint(Chem.MolFromSmiles(smiles))


@pytest.mark.parametrize("ascending", [False, True])
def test_top_k_is_the_sorted_prediction(single, library, tmp_path, ascending):
    truth = brute_force(single, library["csv"], tmp_path / "all.csv")
    expected = truth.sort_values(["pIC50", "row"], ascending=[ascending, True]).head(12)
    # One chunk and predict_molecules' batch size: the very same batches, bit-for-bit.
    config = ScreenConfig(top_k=12, ascending=ascending, batch_size=256, **QUIET)
    result = screen_library(single, library["csv"], tmp_path / "hits.csv", config)
    hits = pd.read_csv(tmp_path / "hits.csv")
    assert list(hits.columns) == [
        "rank", "row", "smiles", "id", "pIC50", "max_train_similarity", "nearest_training_smiles"
    ]  # fmt: skip
    assert hits["rank"].tolist() == list(range(1, 13))
    assert hits.row.tolist() == expected.row.tolist()
    assert hits.id.tolist() == expected.id.tolist()
    assert np.array_equal(hits.pIC50.to_numpy(np.float32), expected.pIC50.to_numpy(np.float32))
    assert result.screened == 230 and result.invalid == 3 and not result.interrupted


@pytest.mark.parametrize("kind", ["smi", "csv", "csv.gz"])
def test_formats_and_chunks_give_the_same_hits(single, library, tmp_path, kind):
    reference = screen_library(
        single, library["csv"], tmp_path / "ref.csv", ScreenConfig(top_k=15, **QUIET)
    ).hits
    config = ScreenConfig(top_k=15, chunk_size=37, batch_size=16, **QUIET)
    hits = screen_library(single, library[kind], tmp_path / "hits.csv", config).hits
    assert hits.row.tolist() == reference.row.tolist()
    assert hits.smiles.tolist() == reference.smiles.tolist()
    assert np.allclose(hits.pIC50, reference.pIC50, rtol=0, atol=1e-5)
    assert "name" in hits.columns if kind == "smi" else "id" in hits.columns


def test_invalid_rows_go_to_the_side_file(single, library, tmp_path):
    for kind, first_line in (("csv", 2), ("smi", 1)):
        out = tmp_path / kind / "hits.csv"
        result = screen_library(single, library[kind], out, ScreenConfig(top_k=5, **QUIET))
        invalid = pd.read_csv(invalid_rows_file(out), keep_default_na=False)
        assert result.invalid == 3 and result.invalid_file == tmp_path / kind / "hits.invalid.csv"
        assert list(invalid.columns) == ["row", "line", "smiles", "reason"]
        assert invalid.row.tolist() == [p for p, _, _ in INVALID]
        assert invalid.smiles.tolist() == [s for _, s, _ in INVALID]
        assert invalid.reason.tolist() == [r for _, _, r in INVALID]
        # The .smi file has a blank line after its tenth row.
        lines = [p + first_line + (kind == "smi" and p >= 10) for p, _, _ in INVALID]
        assert invalid.line.tolist() == lines


def test_novelty_filter_keeps_the_best_novel_molecules(single, run, library, tmp_path):
    threshold = 0.4
    training = pd.read_csv(run / "training_smiles.csv").smiles.tolist()
    references = [morgan(s) for s in training]
    truth = brute_force(single, library["csv"], tmp_path / "all.csv")
    with rdBase.BlockLogs():
        similarities = [
            DataStructs.BulkTanimotoSimilarity(morgan(s), references) for s in truth.smiles
        ]
    truth["similarity"] = [max(values) for values in similarities]
    truth["nearest"] = [training[int(np.argmax(values))] for values in similarities]
    assert (truth.similarity == 1.0).sum() >= 27  # the training molecules in the library
    novel = truth[truth.similarity <= threshold]
    expected = novel.sort_values(["pIC50", "row"], ascending=[False, True]).head(20)

    config = ScreenConfig(top_k=20, max_train_similarity=threshold, chunk_size=50, **QUIET)
    hits = screen_library(single, library["csv"], tmp_path / "hits.csv", config).hits
    assert hits.row.tolist() == expected.row.tolist()
    assert (hits.max_train_similarity <= threshold).all()
    assert np.allclose(hits.max_train_similarity, expected.similarity, rtol=0, atol=1e-12)
    assert hits.nearest_training_smiles.tolist() == expected.nearest.tolist()
    # Without the filter the best molecules include training molecules (similarity 1).
    unfiltered = screen_library(
        single, library["csv"], tmp_path / "all_hits.csv", ScreenConfig(top_k=230, **QUIET)
    ).hits
    assert len(unfiltered) == 227 and unfiltered.max_train_similarity.max() == 1.0


def test_ensemble_hits_carry_the_spread(run, library, tmp_path):
    truth = brute_force(run, library["csv"], tmp_path / "all.csv").set_index("row")
    config = ScreenConfig(top_k=10, workers=1, chunk_size=40, progress=False)
    hits = screen_library(run, library["csv"], tmp_path / "hits.csv", config).hits
    assert {"pIC50", "pIC50_std"} <= set(hits.columns)
    assert (hits.pIC50_std > 0).all()
    assert np.allclose(hits.pIC50_std, truth.loc[hits.row, "pIC50_std"], rtol=0, atol=1e-5)
    assert np.allclose(hits.pIC50, truth.loc[hits.row, "pIC50"], rtol=0, atol=1e-5)


def test_classification_ranks_by_probability(tmp_path, library):
    torch.manual_seed(0)
    model = build_model("dmpnn", {"hidden_channels": 16, "ffn_hidden_channels": 16})
    trained = TrainedModel(model, Task.create("binary", 1, ["active"]), featurizer={})
    save_checkpoint(trained, tmp_path / "model.pt")
    truth = predict_molecules(tmp_path / "model.pt", library["csv"], tmp_path / "all.csv")
    truth = truth.rename_axis("row").reset_index().dropna(subset=["active"])
    config = ScreenConfig(top_k=5, batch_size=256, **QUIET)
    hits = screen_library(tmp_path / "model.pt", library["csv"], tmp_path / "hits.csv", config)
    expected = truth.sort_values(["active", "row"], ascending=[False, True]).head(5)
    assert hits.hits.row.tolist() == expected.row.tolist()
    assert ((hits.hits.active > 0) & (hits.hits.active < 1)).all()
    assert "max_train_similarity" not in hits.hits.columns  # no training_smiles.csv


def test_ctrl_c_leaves_the_best_of_the_rows_screened(single, library, tmp_path, monkeypatch):
    from gnnkit.workflows.screen import local

    calls = []
    predict = local.predict_chunk

    def interrupted_on_third_chunk(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return predict(*args, **kwargs)

    monkeypatch.setattr(local, "predict_chunk", interrupted_on_third_chunk)
    out = tmp_path / "hits.csv"
    code = main(
        [
            "mol", "screen", "--model", str(single), "--library", str(library["csv"]),
            "--out", str(out), "--top", "8", "--chunk-size", "50", "--workers", "1",
            "--no-progress",
        ]
    )  # fmt: skip
    assert code == 130
    hits = pd.read_csv(out)
    truth = brute_force(single, library["csv"], tmp_path / "all.csv")
    first_chunks = truth[truth.row < 100]
    expected = first_chunks.sort_values(["pIC50", "row"], ascending=[False, True]).head(8)
    assert hits.row.tolist() == expected.row.tolist()
    assert pd.read_csv(invalid_rows_file(out)).row.tolist() == [3, 40, 41]


def truncated_gzip(source: Path, lines: int, path: Path) -> Path:
    """The first ``lines`` lines of ``source`` gzip-compressed, flushed, and cut off before the
    end of the stream."""
    text = "".join(source.read_text().splitlines(keepends=True)[:lines])
    compressor = zlib.compressobj(wbits=31)  # the gzip container
    path.write_bytes(compressor.compress(text.encode()) + compressor.flush(zlib.Z_FULL_FLUSH))
    return path


CUT = "cannot be read after line 121 (a truncated or damaged file?): Compressed file ended "
CUT += "before the end-of-stream marker was reached"


def test_a_truncated_library_keeps_the_hits_of_the_rows_read(single, library, tmp_path, capsys):
    """A .csv.gz cut off after row 119: the 120 rows before (chunks of 50, 50, 20) are
    screened and their best written, then one error names the file and the line."""
    cut = truncated_gzip(library["csv"], 121, tmp_path / "cut.csv.gz")
    out = tmp_path / "hits.csv"
    code = main(
        [
            "mol", "screen", "--model", str(single), "--library", str(cut), "--out", str(out),
            "--top", "8", "--chunk-size", "50", "--workers", "1", "--no-progress",
        ]
    )  # fmt: skip
    assert code == 1
    err = capsys.readouterr().err.splitlines()
    assert err[-1] == f"gnnkit mol screen: error: {cut}: {CUT}"
    assert err[-2] == (
        f"stopped by the error below: only the first 120 rows were screened, and {out} holds "
        "the best of those"
    )
    truth = brute_force(single, library["csv"], tmp_path / "all.csv")
    read = truth[truth.row < 120]
    expected = read.sort_values(["pIC50", "row"], ascending=[False, True]).head(8)
    assert pd.read_csv(out).row.tolist() == expected.row.tolist()
    assert pd.read_csv(invalid_rows_file(out)).row.tolist() == [3, 40, 41]


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (
            b"CCO,mol0\nc1ccccc1,mol1\n",
            "line 1 looks like a molecule ('CCO'), not a header; add a header line naming the "
            "columns, e.g. 'smiles'",
        ),
        (
            bytes(np.random.default_rng(0).integers(128, 256, 64, dtype=np.uint8)),
            "line 1 is not UTF-8 text (byte 1 of the line is 0xaf); a molecule file is UTF-8 "
            "text: .csv, .tsv or .smi, optionally gzip-compressed (.gz)",
        ),
    ],
    ids=["no-header", "random-bytes"],
)
def test_predict_and_screen_refuse_the_same_unreadable_file(
    single, tmp_path, capsys, content, reason
):
    data = tmp_path / "library.csv"
    data.write_bytes(content)
    for command, option in (("predict", "--data"), ("screen", "--library")):
        out = tmp_path / command / "out.csv"
        code = main(["mol", command, "--model", str(single), option, str(data), "--out", str(out)])
        assert code == 1
        error = f"gnnkit mol {command}: error: {data}: {reason}"
        assert capsys.readouterr().err.splitlines()[-1] == error
        assert not out.exists()


def test_cli_screen_end_to_end(run, library, tmp_path, capsys):
    out = tmp_path / "hits.csv"
    code = main(
        [
            "mol", "screen", "--model", str(run), "--library", str(library["csv.gz"]),
            "--out", str(out), "--top", "5", "--max-train-similarity", "0.5", "--workers", "2",
            "--chunk-size", "64", "--no-progress",
        ]
    )  # fmt: skip
    assert code == 0
    hits = pd.read_csv(out)
    assert len(hits) == 5 and (hits.max_train_similarity <= 0.5).all()
    assert "pIC50_std" in hits.columns
    err = capsys.readouterr().err
    assert "screened 230 molecules" in err and "3 rows could not be featurized" in err


def test_predictor_processes_give_the_same_files(run, library, tmp_path):
    """Two processes that each featurize and predict whole chunks write exactly what one
    predicting process with a featurization worker writes (an ensemble, with the filter)."""
    settings = {"top_k": 10, "max_train_similarity": 0.6, "chunk_size": 40, "progress": False}
    one = screen_library(
        run, library["smi"], tmp_path / "one.csv", ScreenConfig(predictors=1, **settings)
    )
    two = screen_library(
        run, library["smi"], tmp_path / "two.csv", ScreenConfig(predictors=2, **settings)
    )
    assert two.screened == one.screened == 230
    assert (tmp_path / "two.csv").read_text() == (tmp_path / "one.csv").read_text()
    assert (tmp_path / "two.invalid.csv").read_text() == (tmp_path / "one.invalid.csv").read_text()


@pytest.mark.parametrize(
    ("device", "cpus", "threads", "expected"),
    [
        ("cpu", 4, 4, 4),  # one predictor per core
        ("cpu", 2, 8, 2),  # no more than the cores this process may use
        ("cpu", 8, 3, 3),  # nor than torch's threads (OMP_NUM_THREADS)
        ("cpu", 1, 1, 1),
        ("cuda", 16, 16, 1),  # one process feeds a GPU
        ("cuda:1", 16, 16, 1),
    ],
)
def test_default_predictors_fill_the_cpu_and_feed_a_gpu_from_one(device, cpus, threads, expected):
    assert local.default_predictors(device, cpus, threads) == expected


def chunks_of(n: int) -> list[pd.DataFrame]:
    return [pd.DataFrame({"smiles": ["C"], "chunk": [i]}) for i in range(n)]


def chunk_ids(chunks) -> list[int]:
    return [int(chunk["chunk"].iloc[0]) for chunk in chunks]


@pytest.mark.parametrize(("chunks", "expected"), [(20, 6), (6, 6), (3, 3), (1, 1), (0, 1)])
def test_automatic_predictors_are_no_more_than_the_chunks(monkeypatch, chunks, expected):
    monkeypatch.setattr(local, "usable_cpus", lambda: 6)
    monkeypatch.setattr(torch, "get_num_threads", lambda: 6)
    predictors, stream = local.choose_predictors(None, "cpu", chunks_of(chunks))
    assert predictors == expected
    assert chunk_ids(stream) == list(range(chunks))


def test_given_predictors_are_kept(monkeypatch):
    monkeypatch.setattr(local, "usable_cpus", lambda: 6)
    for requested in (1, 3, 12):
        predictors, stream = local.choose_predictors(requested, "cpu", chunks_of(2))
        assert predictors == requested and chunk_ids(stream) == [0, 1]
    assert local.choose_predictors(None, "cuda", chunks_of(5))[0] == 1


def test_counting_chunks_keeps_those_before_an_unreadable_line(monkeypatch):
    monkeypatch.setattr(local, "usable_cpus", lambda: 4)
    monkeypatch.setattr(torch, "get_num_threads", lambda: 4)

    def library():
        yield from chunks_of(2)
        raise DataFileError("library.smi.gz: truncated after line 2")

    predictors, stream = local.choose_predictors(None, "cpu", library())
    assert predictors == 2
    read = []
    with pytest.raises(DataFileError, match="truncated"):
        read.extend(stream)
    assert chunk_ids(read) == [0, 1]


def test_the_automatic_layout_screens_like_one_predictor(run, library, tmp_path, monkeypatch):
    """With two cores and no --predictors, two predictor processes screen the library and
    write what one predicting process writes."""
    monkeypatch.setattr(local, "usable_cpus", lambda: 2)
    torch.set_num_threads(2)  # the autouse fixture restores the tests' single thread
    chosen = []
    choose = local.choose_predictors

    def spy(*args):
        predictors, chunks = choose(*args)
        chosen.append(predictors)
        return predictors, chunks

    monkeypatch.setattr(local, "choose_predictors", spy)
    settings = {"top_k": 10, "chunk_size": 40, "progress": False, "device": "cpu"}
    one = screen_library(
        run, library["csv"], tmp_path / "one.csv", ScreenConfig(predictors=1, **settings)
    )
    auto = screen_library(run, library["csv"], tmp_path / "auto.csv", ScreenConfig(**settings))
    assert chosen == [1, 2] and auto.screened == one.screened
    assert (tmp_path / "auto.csv").read_text() == (tmp_path / "one.csv").read_text()


def test_bad_settings_are_clear_errors(single, tmp_path, library):
    with pytest.raises(ValueError, match=r"--target 'logP' is not a prediction.*pIC50"):
        screen_library(single, library["csv"], tmp_path / "h.csv", ScreenConfig(target="logP"))
    (tmp_path / "bare").mkdir()
    save_checkpoint(
        TrainedModel(build_model("dmpnn", {}), Task.create("regression", 1)),
        tmp_path / "bare" / "model.pt",
    )
    with pytest.raises(ValueError, match=r"no training_smiles\.csv"):
        screen_library(
            tmp_path / "bare",
            library["csv"],
            tmp_path / "h.csv",
            ScreenConfig(max_train_similarity=0.5),
        )
    with pytest.raises(ValueError, match="top_k must be at least 1"):
        ScreenConfig(top_k=0)
    with pytest.raises(ValueError, match="predictors must be at least 1, got 0"):
        ScreenConfig(predictors=0)
    (tmp_path / "file").mkdir()
    save_checkpoint(
        TrainedModel(
            build_model("dmpnn", {"descriptor_dim": 3}),
            Task.create("regression", 1),
            featurizer={"descriptors": "file"},
        ),
        tmp_path / "file" / "model.pt",
    )
    with pytest.raises(ValueError, match="takes descriptors from a file"):
        screen_library(tmp_path / "file", library["csv"], tmp_path / "h.csv")


def sd_library(csv: Path, path: Path) -> Path:
    """The molecules of ``csv`` as an SD file (titles from ``id``), each SMILES RDKit rejects
    a record holding a carbon with five bonds."""
    with rdBase.BlockLogs(), Chem.SDWriter(str(path)) as writer:
        for name, text in pd.read_csv(csv)[["id", "smiles"]].itertuples(index=False):
            mol = Chem.MolFromSmiles(text)
            if mol is None:
                mol = Chem.MolFromSmiles("C(C)(C)(C)(C)C", sanitize=False)
                mol.UpdatePropertyCache(strict=False)
            mol.SetProp("_Name", name)
            writer.write(mol)
    return path


def test_ray_engine_gives_the_local_hits(run, library, tmp_path):
    ray = pytest.importorskip("ray")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    cut = truncated_gzip(library["csv"], 121, tmp_path / "cut.csv.gz")
    sd = sd_library(library["csv"], tmp_path / "lib.sdf")
    try:
        settings = {"top_k": 10, "max_train_similarity": 0.6, "chunk_size": 60, **QUIET}
        local = screen_library(
            run, library["smi"], tmp_path / "local.csv", ScreenConfig(**settings)
        )
        distributed = screen_library(
            run,
            library["smi"],
            tmp_path / "ray.csv",
            ScreenConfig(engine="ray", **settings),  # two model actors
        )
        for engine in ("local", "ray"):  # the chunks read before the error are screened
            config = ScreenConfig(engine=engine, **settings)
            with pytest.raises(DataFileError, match=re.escape(f"{cut}: {CUT}")):
                screen_library(run, cut, tmp_path / f"cut_{engine}.csv", config)
            screen_library(run, sd, tmp_path / f"sd_{engine}.csv", config)
    finally:
        ray.shutdown()
    assert (tmp_path / "sd_ray.csv").read_text() == (tmp_path / "sd_local.csv").read_text()
    sd_invalid = pd.read_csv(tmp_path / "sd_ray.invalid.csv", keep_default_na=False)
    assert sd_invalid.row.tolist() == [p for p, _, _ in INVALID] and set(sd_invalid.smiles) == {""}
    assert sd_invalid.reason[0].endswith(
        "Explicit valence for atom # 0 C, 5, is greater than permitted"
    )
    assert (tmp_path / "sd_ray.invalid.csv").read_text() == (
        tmp_path / "sd_local.invalid.csv"
    ).read_text()
    sd_hits = pd.read_csv(tmp_path / "sd_local.csv")
    assert list(sd_hits.columns[:4]) == ["rank", "row", "smiles", "name"]
    csv_hits = pd.read_csv(tmp_path / "local.csv")  # the same molecules, ranked alike
    assert sd_hits.name.tolist() == [f"mol{row}" for row in csv_hits.row]
    pd.testing.assert_frame_equal(distributed.hits, local.hits)
    assert (tmp_path / "ray.csv").read_text() == (tmp_path / "local.csv").read_text()
    assert (tmp_path / "ray.invalid.csv").read_text() == (
        tmp_path / "local.invalid.csv"
    ).read_text()
    assert distributed.screened == local.screened == 230
    assert not math.isnan(distributed.hits.max_train_similarity.max())
    cut_hits = pd.read_csv(tmp_path / "cut_ray.csv")
    assert len(cut_hits) == 10 and cut_hits.row.max() < 120
    assert (tmp_path / "cut_ray.csv").read_text() == (tmp_path / "cut_local.csv").read_text()


def test_ray_engine_without_ray_says_how_to_install(monkeypatch):
    from gnnkit.workflows.screen.distributed import import_ray

    monkeypatch.setitem(sys.modules, "ray", None)
    with pytest.raises(ImportError, match=r"pip install 'gnnkit\[distributed\]'"):
        import_ray()
