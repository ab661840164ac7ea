"""Score a detector on an EAD2019-format folder: images with ground-truth labels next to them
(YOLO `class cx cy w h` or scorer `class_name x1 y1 x2 y2` .txt files with the image's stem)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from streamer.errors import DataError
from streamer.evaluate.annotations import BoxSet
from streamer.evaluate.detection_score import DetectionScore, Metric, score_detections
from streamer.evaluate.folders import find_image, labelled_folder
from streamer.evaluate.scorer_txt import write_scorer_txt
from streamer.images import read_rgb

DetectFn = Callable[[np.ndarray], list[dict[str, object]]]
"""image (H, W, 3) uint8 RGB -> records {box: [x1, y1, x2, y2] pixels, score: float, label: class name}."""


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
) -> tuple[dict[str, BoxSet], dict[str, BoxSet]]:
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
        records = detect(read_rgb(image_path))
        box_set = BoxSet.from_records(records)
        if len(box_set) and box_set.scores is None:
            raise DataError(f"the detector returned boxes without scores for {image_path.name}")
        predictions[image_id] = box_set if len(box_set) else BoxSet.empty(with_scores=True)
        if predictions_dir is not None:
            write_scorer_txt(Path(predictions_dir) / f"{image_id}.txt", records)
    return ground_truth, predictions
