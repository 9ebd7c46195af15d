"""The Twitter15/16 loader: every quirk of real files, by rule and count; format errors; the
writer's round trip."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from gnnkit.data.cascades import (
    QUIRKS,
    CascadeFormatError,
    DataOptions,
    generate,
    load_cascades,
    load_twitter,
    write_twitter,
)

ROOT = "['ROOT', 'ROOT', '0.0']"

#: One line per quirk (see the comments); the ROOT line is not the first line.
QUIRKY_TREE = """\
['u1', 'p', '5.0']->['u2', 'x', '7.0']
['ROOT', 'ROOT', '0.0']->['u0', '100', '0.0']
['u0', '100', '0.0']->['u1', 'p', '5.0']
['u0', '100', '0.0']->['u1', 'p', '5.0']
['u1', 'p', '5.0']->['u1', 'p', '5.0']
['u0', '100', '0.0']->['u3', '100', '-2.0']
['u3', '100', '-2.0']->['u4', 'y', '1.0']
['u2', 'x', '7.0']->['u0', '100', '0.0']
['u4', 'y', '1.0']->['u2', 'x', '7.0']
['u5', 'z', '9.0']->['u6', 'w', '8.0']
['u7', 'c1', '3.0']->['u8', 'c2', '4.0']
['u8', 'c2', '4.0']->['u7', 'c1', '3.0']

"""
#: The ROOT line names an earlier post (another id, negative delay).
SHIFTED_TREE = """\
['ROOT', 'ROOT', '0.0']->['v0', '199', '-30.0']
['v0', '199', '-30.0']->['v1', '200', '0.5']
['v0', '199', '-30.0']->['v2', '200', '-10.0']
"""


def write_folder(root: Path, labels: str, trees: dict[str, str]) -> Path:
    (root / "tree").mkdir(parents=True)
    (root / "label.txt").write_text(labels)
    for source_id, text in trees.items():
        (root / "tree" / f"{source_id}.txt").write_text(text)
    return root


#: Source texts: 100 twice (identical), then with another text; 200 has none; 999 and 400 are
#: not loaded cascades.
QUIRKY_TEXTS = (
    "100\tsame claim URL\n100\tsame claim URL\n\n100\tanother text\n"
    "999\tnot in label.txt\n400\tunlabelled tree\n"
)


@pytest.fixture
def quirky(tmp_path: Path) -> Path:
    folder = write_folder(
        tmp_path / "twitter",
        "false:100\ntrue:200\nunverified:300\n",
        {"100": QUIRKY_TREE, "200": SHIFTED_TREE, "400": f"{ROOT}->['a', '400', '0.0']\n"},
    )
    (folder / "source_tweets.txt").write_text(QUIRKY_TEXTS)
    return folder


def test_each_quirk_is_repaired_by_its_rule_and_counted(quirky: Path) -> None:
    data = load_twitter(quirky)
    report = data.report
    expected = {
        "self_loops": 1,
        "duplicate_edges": 1,
        "extra_parents": 2,  # an edge into the root, and u2's second parent
        "orphan_parents": 1,  # u5 is never a child
        "cycles_broken": 1,  # u7 <-> u8
        "negative_delays": 1,  # u3 at -2 minutes
        "delays_before_parent": 1,  # u6 (8 minutes) under u5 (9 minutes)
        "root_delay_shifted": 1,  # tree 200
        "root_id_mismatch": 1,  # tree 200's ROOT line names post 199
        "missing_tree_files": 1,  # 300
        "unlabelled_tree_files": 1,  # 400
        "duplicate_texts": 1,  # 100's second line
        "conflicting_texts": 1,  # 100's third line: the first text is kept
        "missing_texts": 1,  # 200
        "unknown_text_ids": 2,  # 999 and 400 (not loaded)
    }
    assert report.occurrences == expected
    assert set(expected) == set(QUIRKS)
    assert report.cascades_affected["self_loops"] == 1
    assert report.skipped == {
        "300": f"{quirky / 'tree' / '300.txt'} is missing",
        "400": f"{quirky / 'tree' / '400.txt'} has no label in label.txt",
    }
    assert report.cascades == 2 and [c.source_id for c in data.cascades] == ["100", "200"]
    assert "cycles_broken: 1 in 1 cascade(s)" in report.summary()
    assert report.to_dict()["quirks"]["orphan_parents"]["rule"] == QUIRKS["orphan_parents"]

    tree = data.cascades[0]
    # canonical order: root, u3 (0, clamped), u4 (1), u7 (3), u8 (4), u1 (5), u2 (7), u5, u6 (9)
    np.testing.assert_array_equal(tree.delay, [0, 0, 1, 3, 4, 5, 7, 9, 9])
    np.testing.assert_array_equal(tree.parent, [-1, 0, 1, 0, 3, 0, 5, 0, 7])
    assert tree.label == "false" and tree.text == "same claim URL"
    # every node keeps its author, in canonical order
    assert tree.users.tolist() == ["u0", "u3", "u4", "u7", "u8", "u1", "u2", "u5", "u6"]
    assert data.has_users and data.has_text

    shifted = data.cascades[1]
    np.testing.assert_array_equal(shifted.delay, [0.0, 20.0, 30.5])
    assert shifted.source_id == "200" and shifted.label == "true" and shifted.text is None
    assert shifted.users.tolist() == ["v0", "v2", "v1"]  # v2 at 20 minutes, v1 at 30.5


@pytest.mark.parametrize(
    ("labels", "tree", "message"),
    [
        ("false:1\n", f"{ROOT}->['a', '1', '0.0']\nnot an edge\n", r"1\.txt:2: expected"),
        ("false:1\n", "['a', '1', '0.0']->['b', '2', '1.0']\n", "no line with parent"),
        (
            "false:1\n",
            f"{ROOT}->['a', '1', '0.0']\n{ROOT}->['b', '1', '0.0']\n",
            r"1\.txt:2: a second ROOT line \(the first is line 1\)",
        ),
        (
            "false:1\n",
            f"{ROOT}->['a', '1', '0.0']\n['a', '1', '0.0']->['b', '2', 'soon']\n",
            r"1\.txt:2: delay 'soon' is not a number",
        ),
        (
            "false:1\nmaybe:2\n",
            f"{ROOT}->['a', '1', '0.0']\n",
            r"label\.txt:2: unknown label 'maybe'",
        ),
        (
            "false:1\ntrue:1\n",
            f"{ROOT}->['a', '1', '0.0']\n",
            r"label\.txt:2: source 1 is labelled twice",
        ),
        ("false-1\n", f"{ROOT}->['a', '1', '0.0']\n", r"label\.txt:1: expected 'label:source_id'"),
        (
            "false:1\n",
            f"{ROOT}->['a', '1', '0.0']\n['a', '1', '0.0']->['', '2', '1.0']\n",
            r"1\.txt:2: malformed user id '': expected letters, digits",
        ),
        (
            "false:1\n",
            f"{ROOT}->['a', '1', '0.0']\n['a', '1', '0.0']->['b c', '2', '1.0']\n",
            r"1\.txt:2: malformed user id 'b c'",
        ),
        (
            "false:1\n",
            f"{ROOT}->['a', '1 ', '0.0']\n",
            r"1\.txt:1: malformed post id '1 '",
        ),
    ],
)
def test_format_errors_name_file_line_and_reason(tmp_path, labels, tree, message) -> None:
    folder = write_folder(tmp_path / "bad", labels, {"1": tree})
    with pytest.raises(CascadeFormatError, match=message):
        load_twitter(folder)


@pytest.mark.parametrize(
    ("texts", "message"),
    [
        ("1 no tab here\n", r"source_tweets\.txt:1: expected 'source_id<TAB>text', no tab"),
        ("1\tfine\n1/2\tbad id\n", r"source_tweets\.txt:2: malformed post id '1/2'"),
    ],
)
def test_text_format_errors_name_file_and_line(tmp_path: Path, texts: str, message: str) -> None:
    folder = write_folder(tmp_path / "bad", "false:1\n", {"1": f"{ROOT}->['a', '1', '0.0']\n"})
    (folder / "source_tweets.txt").write_text(texts)
    with pytest.raises(CascadeFormatError, match=message):
        load_twitter(folder)


def test_a_folder_without_label_file_is_explained(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"label\.txt does not exist; a Twitter15/16"):
        load_twitter(tmp_path)
    with pytest.raises(ValueError, match="unknown data 'twiter:x'"):
        load_cascades("twiter:x")


def test_prediction_reads_every_tree_and_the_labels_and_texts_it_finds(tmp_path: Path) -> None:
    trees = {source_id: f"{ROOT}->['a', '{source_id}', '0.0']\n" for source_id in "312"}
    folder = write_folder(tmp_path / "new", "false:3\n", trees)
    (folder / "source_tweets.txt").write_text("2\tan unlabelled post\n")
    data = load_twitter(folder, require_labels=False)
    assert [(c.source_id, c.label, c.text) for c in data.cascades] == [
        ("3", "false", None),
        ("1", None, None),
        ("2", None, "an unlabelled post"),
    ]
    assert data.labels().tolist() == [1, -1, -1] and data.report.skipped == {}
    assert data.report.occurrences["unlabelled_tree_files"] == 0
    assert data.report.occurrences["missing_texts"] == 2

    training = load_cascades(f"twitter:{folder}")
    assert [c.source_id for c in training.cascades] == ["3"]
    assert training.report.occurrences["unlabelled_tree_files"] == 2
    assert sorted(training.report.skipped) == ["1", "2"]

    (folder / "label.txt").unlink()
    options = DataOptions(require_labels=False)
    unlabelled = load_cascades(f"twitter:{folder}", options)
    assert [(c.source_id, c.label) for c in unlabelled.cascades] == [
        ("1", None),
        ("2", None),
        ("3", None),
    ]


def test_a_folder_without_cascades_is_explained(tmp_path: Path) -> None:
    folder = write_folder(tmp_path / "empty", "\n", {"1": f"{ROOT}->['a', '1', '0.0']\n"})
    message = f"{folder / 'label.txt'}: no 'label:source_id' line; training and evaluation"
    with pytest.raises(CascadeFormatError, match=re.escape(message)):
        load_twitter(folder)
    (folder / "label.txt").write_text("false:2\n")
    message = f"{folder}: no cascade to load: no tree file named in label.txt"
    with pytest.raises(CascadeFormatError, match=re.escape(message)):
        load_twitter(folder)
    (folder / "tree" / "1.txt").unlink()
    (folder / "label.txt").unlink()
    message = f"{folder}: no cascade to load: no tree file"
    with pytest.raises(CascadeFormatError, match=re.escape(message) + "$"):
        load_twitter(folder, require_labels=False)


def test_files_may_start_with_a_byte_order_mark(tmp_path: Path) -> None:
    folder = write_folder(tmp_path / "bom", "false:1\n", {"1": f"{ROOT}->['a', '1', '0.0']\n"})
    (folder / "source_tweets.txt").write_text("1\tthe claim\n")
    for path in (folder / "label.txt", folder / "tree" / "1.txt", folder / "source_tweets.txt"):
        path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    data = load_twitter(folder)
    assert [(c.source_id, c.label, c.text) for c in data.cascades] == [("1", "false", "the claim")]
    assert data.cascades[0].users.tolist() == ["a"]


def test_generated_cascades_round_trip_through_the_loader(tmp_path: Path) -> None:
    data = generate(12, seed=3, size_scale=0.05)
    write_twitter(data, tmp_path / "gen")
    lines = (tmp_path / "gen" / "tree" / "syn000000.txt").read_text().splitlines()
    author = data.cascades[0].users[0]
    assert lines[0].startswith(f"{ROOT}->['{author}', 'syn000000', '0.0']")
    loaded = load_cascades(f"twitter:{tmp_path / 'gen'}")
    assert loaded.report.occurrences == dict.fromkeys(QUIRKS, 0)
    assert [c.source_id for c in loaded.cascades] == [c.source_id for c in data.cascades]
    for original, back in zip(data.cascades, loaded.cascades):
        assert back.label == original.label and back.text == original.text
        np.testing.assert_array_equal(back.parent, original.parent)
        np.testing.assert_array_equal(back.delay, original.delay)
        np.testing.assert_array_equal(back.users, original.users)


def test_writer_refuses_what_the_format_cannot_hold(tmp_path: Path) -> None:
    from gnnkit.data.cascades import UPFD_CLASSES, Cascade, CascadeSet

    untimed = CascadeSet([Cascade("a", np.array([-1]), label="fake")], UPFD_CLASSES)
    with pytest.raises(ValueError, match="no labels"):
        write_twitter(untimed, tmp_path)
