"""Score a detector on an EAD2019-format folder: images with ground-truth labels next to them
(YOLO `class cx cy w h` or scorer `class_name x1 y1 x2 y2` .txt files with the image's stem)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from streamer.errors import DataError
from streamer.evaluate.detection_score import DetectionScore, Metric, score_detections
from streamer.evaluate.folders import find_image, labelled_folder
from streamer.evaluate.scorer_txt import write_scorer_txt
from streamer.images import read_rgb
from streamer.types import Detections

DetectFn = Callable[[np.ndarray], Detections]
"""image (H, W, 3) uint8 RGB -> its detections (boxes in its pixels, with scores)."""


def evaluate_detector_on_folder(
    detect: DetectFn,
    folder: Path,
    *,
    metric: Metric = "ead2019",
    predictions_dir: Path | None = None,
    only: set[str] | None = None,
) -> DetectionScore:
    """Run `detect` on every labelled image of `folder` (labels beside their images, or images/ + labels/)
    and score it; the arguments are those of `predict_folder`."""
    ground_truth, predictions = predict_folder(detect, folder, predictions_dir=predictions_dir, only=only)
    return score_detections(ground_truth, predictions, metric)


def predict_folder(
    detect: DetectFn,
    folder: Path,
    *,
    predictions_dir: Path | None = None,
    only: set[str] | None = None,
) -> tuple[dict[str, Detections], dict[str, Detections]]:
    """(ground truth, predictions) of every labelled image of `folder`, keyed by image stem.

    predictions_dir: when given, each image's predictions are also written there in the scorer's format;
    only: just these image stems (e.g. a validation split), all when None.
    """
    folder, ground_truth = labelled_folder(folder, only)
    if predictions_dir is not None:
        Path(predictions_dir).mkdir(parents=True, exist_ok=True)
    predictions = {}
    for image_id in ground_truth:
        image_path = find_image(folder / f"{image_id}.txt")
        detections = detect(read_rgb(image_path))
        if detections.scores is None:
            if len(detections):
                raise DataError(f"the detector returned boxes without scores for {image_path.name}")
            detections = Detections.empty(detections.classes)
        predictions[image_id] = detections
        if predictions_dir is not None:
            write_scorer_txt(Path(predictions_dir) / f"{image_id}.txt", detections)
    return ground_truth, predictions
