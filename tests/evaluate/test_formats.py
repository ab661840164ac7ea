"""Scorer text, YOLO and COCO formats: round trips, real files, and malformed input."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import numpy as np
import pytest

from streamer.errors import DataError
from streamer.evaluate.coco_json import CocoWriter, read_coco_json
from streamer.evaluate.folders import load_annotations
from streamer.evaluate.scorer_txt import read_scorer_txt, write_scorer_txt
from streamer.evaluate.yolo_txt import read_yolo_txt, write_yolo_txt
from streamer.paths import EAD2019_SAMPLES, EAD2019_SCORING
from streamer.types import EAD2019_CLASSES, Detections

PREDICTIONS = [
    {"box": [10.5, 20.25, 110.0, 64.0], "score": 0.875, "label": "specularity"},
    {"box": [0.0, 0.0, 639.0, 479.0], "score": 1e-05, "label": "instrument"},
    {"box": [300.0, 40.0, 420.0, 200.0], "score": 0.3333333333333333, "label": 3},  # index of "blur"
]


def assert_same(read: Detections, expected: Detections) -> None:
    """The same class names, boxes and scores, to the last bit."""
    assert read.names == expected.names
    (boxes, scores, _), (expected_boxes, expected_scores, _) = read.numpy(), expected.numpy()
    assert boxes.tolist() == expected_boxes.tolist()
    assert (scores is None) == (expected_scores is None)
    if scores is not None:
        assert scores.tolist() == expected_scores.tolist()


def test_scorer_txt_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "00001.txt"
    write_scorer_txt(path, Detections.from_records(PREDICTIONS))
    assert "e-" not in path.read_text()  # no exponent notation, text order stays numeric
    read = read_scorer_txt(path, predictions=True)
    assert read.names == ("specularity", "instrument", "blur")
    assert_same(read, Detections.from_records(PREDICTIONS))
    ground_truth = Detections.from_records([{"box": r["box"], "label": r["label"]} for r in PREDICTIONS])
    write_scorer_txt(path, ground_truth)
    assert_same(read_scorer_txt(path, predictions=False), ground_truth)


def test_scorer_txt_reads_tabs_spaces_and_blank_lines(tmp_path: Path) -> None:
    path = tmp_path / "a.txt"
    path.write_text("blur\t0.5\t1\t2\t3\t4\n\nbubbles 0.25 5 6  7 8\n")
    read = read_scorer_txt(path, predictions=True)
    assert read.names == ("blur", "bubbles")
    np.testing.assert_array_equal(read.scores, [0.5, 0.25])
    np.testing.assert_array_equal(read.boxes, [[1, 2, 3, 4], [5, 6, 7, 8]])


def test_scorer_txt_keeps_class_names_outside_the_ead2019_list(tmp_path: Path) -> None:
    path = tmp_path / "a.txt"
    path.write_text("polyp 1 2 3 4\nblur 5 6 7 8\npolyp 2 3 4 5\n")
    read = read_scorer_txt(path, predictions=False)
    assert read.names == ("polyp", "blur", "polyp") and read.scores is None
    assert read.classes == (*EAD2019_CLASSES, "polyp") and read.labels.tolist() == [7, 3, 7]


def test_empty_scorer_file_has_no_boxes(tmp_path: Path) -> None:
    path = tmp_path / "empty.txt"
    path.write_text("")
    read = read_scorer_txt(path, predictions=True)
    assert len(read) == 0 and read.boxes.shape == (0, 4) and read.scores is not None


@pytest.mark.parametrize(
    ("text", "predictions", "message"),
    [
        ("blur 1 2 3 4\n", True, "a.txt:1: expected 'class_name confidence x1 y1 x2 y2'"),
        ("blur 1 2 3 4\nblur 0.5 1 2 3 4\n", False, "a.txt:2: expected 'class_name x1 y1 x2 y2'"),
        ("blur 0.5 1 two 3 4\n", True, "a.txt:1: could not convert"),
        ("blur nan 1 2 3 4\n", True, "a.txt:1: numbers must be finite"),
    ],
)
def test_malformed_scorer_txt(tmp_path: Path, text: str, predictions: bool, message: str) -> None:
    path = tmp_path / "a.txt"
    path.write_text(text)
    with pytest.raises(DataError, match=message):
        read_scorer_txt(path, predictions=predictions)


def test_yolo_sample_matches_the_scorer_ground_truth() -> None:
    """The real sample 00003 (YOLO, 512 x 512) and its scorer-format ground truth describe the same boxes."""
    yolo = read_yolo_txt(EAD2019_SAMPLES / "00003.txt", (512, 512), predictions=False)
    scorer = read_scorer_txt(EAD2019_SCORING / "ground-truth" / "00003.txt", predictions=False)
    assert yolo.names == scorer.names
    np.testing.assert_allclose(yolo.boxes, scorer.boxes, atol=1e-9)


def test_yolo_round_trip_on_a_non_square_image(tmp_path: Path) -> None:
    path = tmp_path / "frame.txt"
    write_yolo_txt(path, Detections.from_records(PREDICTIONS), (480, 640))  # (height, width)
    first = path.read_text().splitlines()[0].split()
    assert first[0] == "0" and float(first[1]) == pytest.approx((10.5 + 110) / 2 / 640)
    read = read_yolo_txt(path, (480, 640), predictions=True)
    np.testing.assert_allclose(read.boxes, [r["box"] for r in PREDICTIONS], atol=1e-9)
    np.testing.assert_allclose(read.scores, [r["score"] for r in PREDICTIONS])
    assert read.names == ("specularity", "instrument", "blur")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("blur 0.5 0.5 0.1 0.1\n", "class must be an index 0..6"),
        ("7 0.5 0.5 0.1 0.1\n", "class must be an index 0..6"),
        ("1 250 120 30 40\n", "cx cy w h must be normalised"),
        ("1 0.5 0.5 0.1\n", "expected 'class cx cy w h'"),
    ],
)
def test_malformed_yolo_txt(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "b.txt"
    path.write_text(text)
    with pytest.raises(DataError, match=f"b.txt:1: {message}"):
        read_yolo_txt(path, (512, 512), predictions=False)


def test_yolo_writer_rejects_unknown_classes(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="'polyp' is not one of"):
        write_yolo_txt(
            tmp_path / "c.txt", Detections.from_records([{"box": [0, 0, 1, 1], "label": "polyp"}]), (10, 10)
        )


def test_coco_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "predictions.json"
    with CocoWriter(path) as coco:
        coco.add("frame_000001.jpg", (480, 640), Detections.from_records(PREDICTIONS))
        coco.add("frame_000002.jpg", (480, 640), Detections.empty(EAD2019_CLASSES))
    document = json.loads(path.read_text())
    assert [c["name"] for c in document["categories"]][:2] == ["specularity", "saturation"]
    assert document["annotations"][0]["bbox"] == [10.5, 20.25, 99.5, 43.75]
    assert document["images"][0] == {"id": 1, "file_name": "frame_000001.jpg", "width": 640, "height": 480}
    read = read_coco_json(path, predictions=True)
    assert list(read) == ["frame_000001", "frame_000002"]
    assert_same(read["frame_000001"], Detections.from_records(PREDICTIONS))
    assert read["frame_000001"].classes == EAD2019_CLASSES  # the category names, in their order
    assert len(read["frame_000002"]) == 0


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({"images": []}, "needs 'images', 'annotations' and 'categories'"),
        (
            {"images": [{"id": 1, "file_name": "a.jpg"}], "categories": [{"id": 1, "name": "blur"}],
             "annotations": [{"image_id": 2, "category_id": 1, "bbox": [0, 0, 1, 1], "score": 0.5}]},
            "annotations\\[0\\]: unknown image_id 2",
        ),
        (
            {"images": [{"id": 1, "file_name": "a.jpg"}], "categories": [{"id": 1, "name": "blur"}],
             "annotations": [{"image_id": 1, "category_id": 1, "bbox": [0, 0, 1, 1]}]},
            "annotations\\[0\\]: a prediction needs a 'score'",
        ),
        (
            {"images": [{"id": 1, "file_name": "a.jpg"}], "categories": [{"id": 1, "name": "blur"}],
             "annotations": [{"image_id": 1, "category_id": 1, "bbox": [0, 0], "score": 0.5}]},
            "malformed COCO entry",
        ),
    ],
)  # fmt: skip
def test_malformed_coco(tmp_path: Path, document: object, message: str) -> None:
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(document))
    with pytest.raises(DataError, match=message):
        read_coco_json(path, predictions=True)


def test_coco_file_that_is_not_json(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text("{images:")
    with pytest.raises(DataError, match="cannot read COCO JSON"):
        read_coco_json(path, predictions=False)


def test_load_annotations_recognises_each_format(tmp_path: Path) -> None:
    yolo = load_annotations(EAD2019_SAMPLES, predictions=False)
    assert list(yolo) == ["00003", "00016", "00017", "00039", "00042"]
    scorer = load_annotations(EAD2019_SCORING / "ground-truth", predictions=False)
    assert len(scorer) == 129 and list(scorer) == sorted(scorer)
    np.testing.assert_allclose(yolo["00003"].boxes, scorer["00003"].boxes, atol=1e-9)
    with CocoWriter(tmp_path / "gt.json") as coco:
        coco.add("00003.jpg", (512, 512), scorer["00003"])
    assert_same(load_annotations(tmp_path / "gt.json", predictions=False)["00003"], scorer["00003"])


def test_load_annotations_bad_folders(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=re.escape("no .txt annotation files")):
        load_annotations(tmp_path, predictions=False)
    with pytest.raises(DataError, match=re.escape("expected a folder of .txt files or a COCO .json file")):
        load_annotations(tmp_path / "missing", predictions=False)
    shutil.copy(EAD2019_SAMPLES / "00003.txt", tmp_path / "00003.txt")
    (tmp_path / "classes.txt").write_text(
        "\n".join(EAD2019_CLASSES) + "\n"
    )  # a class list is not a label file
    with pytest.raises(DataError, match=re.escape("00003.txt: YOLO labels need their image")):
        load_annotations(tmp_path, predictions=False)
    shutil.copy(EAD2019_SAMPLES / "00003.jpg", tmp_path / "00003.jpg")
    assert list(load_annotations(tmp_path, predictions=False)) == ["00003"]


def test_records_mixing_scored_and_unscored_boxes_are_rejected() -> None:
    with pytest.raises(DataError, match="mix"):
        Detections.from_records(
            [{"box": [0, 0, 1, 1], "label": "blur", "score": 0.5}, {"box": [0, 0, 1, 1], "label": "blur"}]
        )
    with pytest.raises(DataError, match="class index 9"):
        Detections.from_records([{"box": [0, 0, 1, 1], "label": 9}])
    with pytest.raises(DataError, match="4 values each"):
        Detections.from_records([{"box": [0, 0, 1], "label": "blur"}])
