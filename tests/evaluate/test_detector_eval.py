"""Scoring a detector callable on the bundled EAD2019 sample folder (images + YOLO labels)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from streamer.errors import DataError
from streamer.evaluate.detection_score import score_detections
from streamer.evaluate.detector_eval import evaluate_detector_on_folder
from streamer.evaluate.folders import find_image, load_annotations
from streamer.images import read_rgb
from streamer.paths import EAD2019_SAMPLES
from streamer.types import EAD2019_CLASSES, Detections


def oracle_detector() -> tuple[dict[bytes, Detections], list[np.ndarray]]:
    """A fake detector that answers each sample image with its ground truth, and the images it saw."""
    answers = {}
    for image_id, truth in load_annotations(EAD2019_SAMPLES, predictions=False).items():
        image = read_rgb(find_image(EAD2019_SAMPLES / f"{image_id}.txt"))
        scores = torch.full((len(truth),), 0.9, dtype=torch.float64)
        answers[image.tobytes()] = Detections(truth.boxes, scores, truth.labels, truth.classes)
    return answers, []


def test_perfect_detector_scores_one_and_sees_rgb_images(tmp_path: Path) -> None:
    answers, seen = oracle_detector()

    def detect(image: np.ndarray) -> Detections:
        seen.append(image)
        return answers[image.tobytes()]

    score = evaluate_detector_on_folder(detect, EAD2019_SAMPLES, predictions_dir=tmp_path)
    assert (score.mean_ap, score.mean_iou, score.score) == (1.0, 1.0, 1.0)
    assert len(seen) == 5 and all(i.dtype == np.uint8 and i.shape == (512, 512, 3) for i in seen)
    written = load_annotations(tmp_path, predictions=True)
    assert sorted(written) == ["00003", "00016", "00017", "00039", "00042"]
    rescored = score_detections(load_annotations(EAD2019_SAMPLES, predictions=False), written)
    assert rescored.score == 1.0


def test_silent_detector_scores_zero() -> None:
    score = evaluate_detector_on_folder(lambda image: Detections.empty(EAD2019_CLASSES), EAD2019_SAMPLES)
    assert score.score == 0.0 and all(r.n_predictions == 0 for r in score.per_class.values())
    no_records = evaluate_detector_on_folder(lambda image: Detections.from_records([]), EAD2019_SAMPLES)
    assert no_records.score == 0.0  # nothing found, even without scores, is an empty prediction


def test_slightly_larger_boxes_lower_the_iou_only() -> None:
    answers, _ = oracle_detector()

    def shrink(image: np.ndarray) -> Detections:
        oracle = answers[image.tobytes()]
        grown = oracle.boxes + torch.tensor([0.0, 0.0, 1.0, 1.0], dtype=torch.float64)
        return Detections(grown, oracle.scores, oracle.labels, oracle.classes)

    score = evaluate_detector_on_folder(shrink, EAD2019_SAMPLES, metric="endocv2020")
    assert score.metric == "endocv2020"
    assert 0.0 < score.mean_iou < 1.0 and score.map_at[0.25] == 1.0


def test_detector_without_scores_is_a_data_error() -> None:
    with pytest.raises(DataError, match="without scores"):
        evaluate_detector_on_folder(
            lambda image: Detections.from_records([{"box": [0, 0, 5, 5], "label": "blur"}]), EAD2019_SAMPLES
        )
