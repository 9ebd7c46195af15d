"""How ``gnnkit`` reports errors: one line for bad input, the traceback for bugs."""

from __future__ import annotations

import argparse

import pytest

from gnnkit.cli import main as cli_main
from gnnkit.cli.main import main


@pytest.fixture
def smiles_file(tmp_path):
    path = tmp_path / "molecules.csv"
    path.write_text("smiles\nCCO\n")
    return path


def test_a_mol_error_is_one_line_on_stderr(tmp_path, smiles_file, capsys) -> None:
    missing = tmp_path / "no-run"
    status = main(
        [
            "mol",
            "predict",
            "--model",
            str(missing),
            "--data",
            str(smiles_file),
            "--out",
            str(tmp_path / "out.csv"),
        ]
    )
    err = capsys.readouterr().err
    assert status == 1
    assert err == (
        f"gnnkit mol predict: error: {missing}: no model.pt there nor in member*/ or fold*/ "
        "sub-folders; pass the output folder of a training run\n"
    )


def test_debug_shows_the_traceback_of_a_user_error(tmp_path, smiles_file) -> None:
    with pytest.raises(FileNotFoundError, match=r"no model\.pt there"):
        main(
            [
                "--debug",
                "mol",
                "predict",
                "--model",
                str(tmp_path / "no-run"),
                "--data",
                str(smiles_file),
                "--out",
                str(tmp_path / "out.csv"),
            ]
        )


def test_a_bug_keeps_its_traceback(monkeypatch) -> None:
    def broken(args: argparse.Namespace) -> int:
        raise RuntimeError("a bug")

    parser = cli_main.build_parser()
    monkeypatch.setattr(cli_main, "build_parser", lambda: parser)
    parser.set_defaults(handler=broken, command="gnnkit")
    with pytest.raises(RuntimeError, match="a bug"):
        main([])
