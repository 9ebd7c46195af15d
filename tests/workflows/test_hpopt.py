"""``gnnkit mol hpopt`` on both engines, ``mol train --config`` and the search-space file."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd
import pytest
import rdkit
from rdkit import Chem, rdBase

from gnnkit.cli.main import build_parser, main
from gnnkit.workflows.hpopt import parse_space

NCI = Path(rdkit.__file__).parent / "Data" / "NCI" / "first_5K.smi"
#: Tiny models and runs: trials of a few seconds.
TINY = ["--epochs", "3", "--ffn-hidden", "16", "--batch-size", "32", "--progress", "none"]
SPACE = {
    "hidden": {"type": "int", "low": 8, "high": 32, "step": 8},
    "dropout": {"type": "float", "low": 0.0, "high": 0.3},
    "aggregation": {"type": "categorical", "choices": ["mean", "sum"]},
}
#: Where a tuned option lands in a run's run.json ("config").
RUN_FIELDS = {"hidden": "hidden_channels", "dropout": "dropout", "aggregation": "aggregation"}


@pytest.fixture(scope="module")
def heavy_atoms(tmp_path_factory) -> Path:
    """120 real NCI molecules; target: heavy-atom count."""
    rows = []
    with rdBase.BlockLogs():
        for line in NCI.read_text().splitlines():
            mol = Chem.MolFromSmiles(line.split()[0])
            if mol is not None and mol.GetNumHeavyAtoms() <= 30:
                rows.append((line.split()[0], mol.GetNumHeavyAtoms()))
            if len(rows) == 120:
                break
    path = tmp_path_factory.mktemp("hpopt") / "heavy.csv"
    pd.DataFrame(rows, columns=["smiles", "heavy_atoms"]).to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def space_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("space") / "space.json"
    path.write_text(json.dumps(SPACE))
    return path


def hpopt(data: Path, space: Path, out: Path, *extra: str) -> int:
    arguments = ["--data", str(data), *TINY, "--trials", "3", "--search-space", str(space)]
    return main(["mol", "hpopt", *arguments, "--out", str(out), *extra])


@pytest.fixture(scope="module")
def local_search(heavy_atoms, space_file, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("search") / "local"
    assert hpopt(heavy_atoms, space_file, out) == 0
    return out


def test_local_search_writes_trials_best_config_and_plot(local_search):
    trials = pd.read_csv(local_search / "trials.csv")
    assert list(trials.columns) == [
        "number",
        "state",
        "value",
        "seconds",
        "started",
        "hidden",
        "dropout",
        "aggregation",
        "error",
    ]
    assert trials.number.tolist() == [0, 1, 2] and set(trials.state) == {"COMPLETE"}
    assert trials.hidden.isin([8, 16, 24, 32]).all() and trials.dropout.between(0, 0.3).all()
    assert trials.aggregation.isin(["mean", "sum"]).all() and trials.error.isna().all()
    assert (trials.value > 0).all() and (trials.seconds > 0).all()
    best = trials.loc[trials.value.idxmin()]
    summary = json.loads((local_search / "hpopt.json").read_text())
    assert summary["best"] == {"number": int(best.number), "value": best.value}
    assert (summary["monitor"], summary["mode"], summary["engine"]) == ("rmse", "min", "local")
    assert summary["trials"] == {"COMPLETE": 3, "PRUNED": 0, "FAIL": 0}
    config = json.loads((local_search / "best_config.json").read_text())
    assert {name: config[name] for name in SPACE} == {
        "hidden": best.hidden,
        "dropout": best.dropout,
        "aggregation": best.aggregation,
    }
    assert (config["epochs"], config["ffn_hidden"], config["batch_size"]) == (3, 16, 32)
    assert (local_search / "trials.png").read_bytes().startswith(b"\x89PNG")


def test_best_config_trains_the_best_trial_again(local_search, tmp_path):
    """``mol train --config best_config.json``: the run's settings are the best trial's, and
    as the trial trained on the same split with the same seed, its best validation RMSE is
    the trial's value."""
    run = tmp_path / "best"
    best = str(local_search / "best_config.json")
    assert main(["mol", "train", "--config", best, "--out", str(run)]) == 0
    config = json.loads(Path(best).read_text())
    settings = json.loads((run / "run.json").read_text())["config"]
    for name, field in RUN_FIELDS.items():
        assert settings[field] == config[name]
    assert settings["train"]["epochs"] == 3 and settings["ffn_hidden_channels"] == 16
    summary = json.loads((local_search / "hpopt.json").read_text())
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["val"]["rmse"] == pytest.approx(summary["best"]["value"], rel=1e-5)


def test_explicit_options_override_the_config_file(local_search):
    best = str(local_search / "best_config.json")
    config = json.loads(Path(best).read_text())
    parser = build_parser()
    for arguments in (["--config", best, "--hidden", "40"], ["--hidden", "40", "--config", best]):
        args = parser.parse_args(["mol", "train", *arguments])
        assert args.hidden == 40 and args.dropout == config["dropout"] and args.epochs == 3
    args = parser.parse_args(["mol", "train", "--config", best, "--target-columns", "y"])
    assert args.target_columns == ["y"] and args.aggregation == config["aggregation"]


@pytest.mark.parametrize(
    "content, message",
    [
        ({"hiden": 300}, "unknown key 'hiden': no option --hiden in gnnkit mol train"),
        ({"hidden": 0}, "argument --hidden: must be at least 1, got 0"),
        ({"aggregation": "max"}, "argument --aggregation: invalid choice: 'max'"),
        ({"dropout": False}, "--no-dropout is not valid for gnnkit mol train"),
        ([1, 2], "expected a JSON object of option: value"),
    ],
)
def test_bad_config_file_is_one_line_naming_file_and_key(content, message, tmp_path, capsys):
    path = tmp_path / "config.json"
    path.write_text(json.dumps(content))
    with pytest.raises(SystemExit) as exit_:
        main(["mol", "train", "--config", str(path)])
    assert exit_.value.code == 2
    last = capsys.readouterr().err.splitlines()[-1]
    assert last.startswith(f"gnnkit mol train: error: --config {path}: ")
    assert message in last


def test_failed_trial_is_recorded_and_the_search_goes_on(
    heavy_atoms, space_file, tmp_path, monkeypatch
):
    from gnnkit.workflows.hpopt import trial

    train_one, calls = trial.train_one, []

    def second_fails(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("CUDA out of memory. Tried to allocate 2.00 GiB")
        return train_one(*args, **kwargs)

    monkeypatch.setattr(trial, "train_one", second_fails)
    assert hpopt(heavy_atoms, space_file, tmp_path / "s") == 0
    trials = pd.read_csv(tmp_path / "s" / "trials.csv")
    assert trials.state.tolist() == ["COMPLETE", "FAIL", "COMPLETE"]
    assert trials.error[1] == "RuntimeError: CUDA out of memory. Tried to allocate 2.00 GiB"
    assert math.isnan(trials.value[1]) and trials.error[[0, 2]].isna().all()
    summary = json.loads((tmp_path / "s" / "hpopt.json").read_text())
    assert summary["trials"] == {"COMPLETE": 2, "PRUNED": 0, "FAIL": 1}


def test_a_search_without_a_completed_trial_is_an_error(
    heavy_atoms, space_file, tmp_path, monkeypatch, capsys
):
    from gnnkit.workflows.hpopt import trial

    def fails(*args, **kwargs):
        raise FloatingPointError("loss is NaN")

    monkeypatch.setattr(trial, "train_one", fails)
    assert hpopt(heavy_atoms, space_file, tmp_path / "s") == 1
    out = (tmp_path / "s").resolve()
    assert capsys.readouterr().err.splitlines()[-1] == (
        f"gnnkit mol hpopt: error: none of the 3 trials completed; see {out / 'trials.csv'}"
    )
    trials = pd.read_csv(tmp_path / "s" / "trials.csv")
    assert (trials.error == "FloatingPointError: loss is NaN").all()
    assert not (tmp_path / "s" / "best_config.json").exists()


def test_ray_engine_runs_the_same_study_one_trial_at_a_time(
    heavy_atoms, space_file, local_search, tmp_path
):
    """On a Ray instance of 2 CPUs, 1 CPU per trial and --max-concurrent-trials 1: the trials
    never overlap, and the seeded TPE sampler draws what it drew on the local engine."""
    ray = pytest.importorskip("ray")
    pytest.importorskip("ray.tune")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        out = tmp_path / "ray"
        extra = ["--engine", "ray", "--cpus-per-trial", "1", "--max-concurrent-trials", "1"]
        assert hpopt(heavy_atoms, space_file, out, *extra) == 0
    finally:
        ray.shutdown()
    trials = pd.read_csv(out / "trials.csv")
    local = pd.read_csv(local_search / "trials.csv")
    assert set(trials.state) == {"COMPLETE"}
    columns = ["hidden", "dropout", "aggregation"]
    pd.testing.assert_frame_equal(trials[columns], local[columns])
    assert trials.value.to_numpy() == pytest.approx(local.value.to_numpy(), rel=1e-5)
    started = (pd.to_datetime(trials.started) - pd.Timestamp(0, tz="UTC")).dt.total_seconds()
    assert (started.iloc[1:].to_numpy() >= (started + trials.seconds).iloc[:-1].to_numpy()).all()
    assert (out / "best_config.json").read_text() == (local_search / "best_config.json").read_text()


#: A search space and the error it gets (after "space.json: parameter ").
BAD_SPACES = [
    ({"hiden": {"type": "int", "low": 1, "high": 2}}, "'hiden' cannot be tuned; tunable "
     "parameters: hidden, depth, dropout, ffn_layers, ffn_hidden, aggregation, batch_size, "
     "init_lr, max_lr, final_lr"),
    ({"hidden": {"type": "integer"}}, "'hidden': type must be one of int, float, categorical, "
     "got 'integer'"),
    ({"hidden": {"type": "float", "low": 1, "high": 2}}, "'hidden' is an integer; use type 'int'"),
    ({"dropout": {"type": "int", "low": 0, "high": 1}}, "'dropout' is a real number; use type "
     "'float'"),
    ({"hidden": {"type": "int", "low": 1}}, "'hidden': type 'int' needs 'low' and 'high'"),
    ({"hidden": {"type": "int", "low": 0, "high": 8}}, "'hidden': 0 is not a valid value: must "
     "be at least 1"),
    ({"dropout": {"type": "float", "low": 0, "high": 1.0}}, "'dropout': 1.0 is not a valid "
     "value: must be below 1"),
    ({"depth": {"type": "int", "low": 5, "high": 2}}, "'depth': low (5) is above high (2)"),
    ({"max_lr": {"type": "float", "low": 0.0, "high": 0.01, "log": True}}, "'max_lr': 0.0 is "
     "not a valid value: must be above 0"),
    ({"hidden": {"type": "int", "low": 8, "high": 64, "step": 8, "log": True}}, "'hidden': give "
     "'step' or 'log', not both"),
    ({"aggregation": {"type": "categorical", "choices": ["norm", "max"]}}, "'aggregation': "
     "'max' is not a valid value: expected one of ['norm', 'mean', 'sum']"),
    ({"aggregation": {"type": "int", "low": 1, "high": 2}}, "'aggregation' takes names; use "
     "type 'categorical' with 'choices'"),
    ({"batch_size": {"type": "categorical", "choices": []}}, "'batch_size': 'choices' must be "
     "a non-empty list"),
    ({"depth": {"type": "int", "low": 2, "high": 4, "stepsize": 1}}, "'depth': unknown key "
     "'stepsize' for type 'int'"),
]  # fmt: skip


@pytest.mark.parametrize("spec, message", BAD_SPACES)
def test_search_space_errors_name_the_parameter(spec, message):
    with pytest.raises(ValueError) as error:
        parse_space(spec, "space.json")
    assert str(error.value) == f"space.json: parameter {message}"


def test_an_empty_search_space_is_an_error():
    with pytest.raises(ValueError, match=r"^space\.json: expected a non-empty JSON object"):
        parse_space({}, "space.json")


def test_bad_search_space_file_is_one_line_before_any_training(tmp_path, capsys):
    path = tmp_path / "space.json"
    arguments = ["--data", "missing.csv", "--search-space", str(path), "--out", str(tmp_path)]
    path.write_text('{"hidden": {"type": "int", "low": 100, "high": 600, "step": 100},}')
    assert main(["mol", "hpopt", *arguments]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"gnnkit mol hpopt: error: {path}: not valid JSON (")
    assert err.count("\n") == 1
    path.write_text('{"hidden": {"type": "int", "low": 100}}')
    assert main(["mol", "hpopt", *arguments]) == 1
    assert capsys.readouterr().err == (
        f"gnnkit mol hpopt: error: {path}: parameter 'hidden': type 'int' needs 'low' and 'high'\n"
    )


def test_asha_prunes_trials_and_records_the_value_they_reached(heavy_atoms, space_file, tmp_path):
    """Successive halving from epoch 1 with a reduction factor of 3: a trial that is not the
    best at epoch 1 among the trials so far is stopped there, with its epoch-1 value."""
    extra = ["--pruner", "asha", "--warmup-epochs", "1"]
    assert hpopt(heavy_atoms, space_file, tmp_path / "s", *extra) == 0
    trials = pd.read_csv(tmp_path / "s" / "trials.csv")
    assert trials.state[0] == "COMPLETE"  # the first trial is the best one so far
    pruned = trials[trials.state == "PRUNED"]
    assert len(pruned) >= 1 and pruned.value.notna().all() and pruned.error.isna().all()
    summary = json.loads((tmp_path / "s" / "hpopt.json").read_text())
    assert summary["trials"]["PRUNED"] == len(pruned)
