"""Reading the inputs of `eval quality`: JSONL predictions, label files, the one-table CSV."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from streamer.errors import DataError
from streamer.evaluate.quality_inputs import (
    join_on_index,
    read_quality_labels,
    read_quality_predictions,
    read_quality_table,
)


def write_jsonl(path: Path, records: list[dict[str, object]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path


def test_predictions_from_frames_jsonl(tmp_path: Path) -> None:
    path = write_jsonl(
        tmp_path / "frames.jsonl",
        [
            {"index": 0, "quality": {"label": "bad", "p_bad": 0.9}},
            {"index": 1, "verdict": {"p_bad": 0.2}},
            {"index": 2, "p_bad": 0.4},
            {"index": 3, "dropped": "queue full"},  # no verdict: skipped
        ],
    )
    assert read_quality_predictions(path) == {0: 0.9, 1: 0.2, 2: 0.4}


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("{not json", "frames.jsonl:2: not JSON"),
        ('{"p_bad": 0.5}', "frames.jsonl:2: expected an object with an 'index'"),
        ('{"index": 1, "p_bad": 1.5}', "frames.jsonl:2: p_bad must be in \\[0, 1\\]"),
        ('{"index": -1, "p_bad": 0.5}', "frames.jsonl:2: index must be >= 0"),
    ],
)
def test_malformed_predictions(tmp_path: Path, line: str, message: str) -> None:
    path = tmp_path / "frames.jsonl"
    path.write_text('{"index": 0, "p_bad": 0.5}\n' + line + "\n")
    with pytest.raises(DataError, match=message):
        read_quality_predictions(path)


def test_predictions_without_any_p_bad(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="no record carries a p_bad"):
        read_quality_predictions(write_jsonl(tmp_path / "f.jsonl", [{"index": 0}]))


def test_labels_from_csv_and_json(tmp_path: Path) -> None:
    csv_path = tmp_path / "labels.csv"
    csv_path.write_text("index,label\n0,bad\n1,good\n2,1\n3,0\n")
    assert read_quality_labels(csv_path) == {0: True, 1: False, 2: True, 3: False}
    listed = tmp_path / "labels.json"
    listed.write_text(json.dumps([{"index": 5, "label": "BAD"}, {"index": 6, "label": 0}]))
    assert read_quality_labels(listed) == {5: True, 6: False}
    mapping = tmp_path / "map.json"
    mapping.write_text(json.dumps({"7": "good", "8": "bad"}))
    assert read_quality_labels(mapping) == {7: False, 8: True}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("frame,label\n0,bad\n", "expected a CSV header with columns index,label"),
        ("index,label\n0,blurry\n", "labels.csv:2: label must be bad/good or 1/0"),
        ("index,label\n0\n", "labels.csv:2: missing value for label"),
        ("index,label\nzero,bad\n", "labels.csv:2: index must be an integer"),
    ],
)
def test_malformed_label_csv(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "labels.csv"
    path.write_text(text)
    with pytest.raises(DataError, match=message):
        read_quality_labels(path)


def test_table_csv(tmp_path: Path) -> None:
    path = tmp_path / "table.csv"
    path.write_text("id,label,p_bad\nclip_a/0001.png,bad,0.75\nclip_a/0002.png,good,0.5\n")
    ids, is_bad, p_bad = read_quality_table(path)
    assert ids == ["clip_a/0001.png", "clip_a/0002.png"]
    np.testing.assert_array_equal(is_bad, [True, False])
    np.testing.assert_array_equal(p_bad, [0.75, 0.5])


def test_join_keeps_common_indices_in_order() -> None:
    is_bad, p_bad, left_out = join_on_index({3: True, 1: False, 9: True}, {1: 0.2, 3: 0.8, 4: 0.5})
    np.testing.assert_array_equal(is_bad, [False, True])
    np.testing.assert_array_equal(p_bad, [0.2, 0.8])
    assert left_out == 1
