"""Per-class score thresholds that maximise the EAD2019 score on a labelled set.

The score trades mAP against IoU (a false positive counts as IoU 0), so each class keeps only its
predictions above a threshold. A class's AP and IoU depend only on its own predictions, so each class's
threshold is chosen on its own, from a grid, for the largest 0.6 AP + 0.4 IoU.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import torch

from streamer.errors import DataError
from streamer.evaluate.detection_score import IOU_WEIGHT, MAP_WEIGHT, score_detections
from streamer.types import Detections

THRESHOLD_GRID: tuple[float, ...] = tuple(round(0.05 * i, 2) for i in range(1, 20))  # 0.05 ... 0.95


def apply_thresholds(
    predictions: Mapping[str, Detections], thresholds: Mapping[str, float]
) -> dict[str, Detections]:
    """Keep each predicted box whose score reaches its class's threshold (classes not listed: all kept)."""
    kept = {}
    for key, detections in predictions.items():
        assert detections.scores is not None
        limits = torch.tensor(  # (K,) by class, compared in float64 whatever the scores' precision
            [thresholds.get(name, 0.0) for name in detections.classes],
            dtype=torch.float64,
            device=detections.labels.device,
        )
        kept[key] = detections.filter(detections.scores >= limits[detections.labels])
    return kept


def tune_class_thresholds(
    ground_truth: Mapping[str, Detections],
    predictions: Mapping[str, Detections],
    classes: Sequence[str],
    grid: Sequence[float] = THRESHOLD_GRID,
    default: float = 0.5,
) -> dict[str, float]:
    """{class: threshold} maximising each class's 0.6 AP + 0.4 IoU (EAD2019, IoU 0.25) over `grid`.

    Classes absent from the ground truth get `default`; ties go to the lower threshold.
    """
    best: dict[str, tuple[float, float]] = {}
    for threshold in grid:
        kept = apply_thresholds(predictions, dict.fromkeys(classes, threshold))
        per_class = score_detections(ground_truth, kept).per_class
        for name, result in per_class.items():
            value = MAP_WEIGHT * result.ap + IOU_WEIGHT * result.iou
            if name not in best or value > best[name][1]:
                best[name] = (threshold, value)
    return {name: best[name][0] if name in best else default for name in classes}


def cross_fitted_score(
    ground_truth: Mapping[str, Detections], predictions: Mapping[str, Detections], classes: Sequence[str]
) -> float:
    """EAD2019 score with thresholds that never saw the frames they are applied to: the validation frames
    in name order are cut in two halves (mostly whole videos), each half is thresholded with the values
    tuned on the other, and the pooled result is scored. An estimate of the shipped score on new videos."""
    keys = sorted(ground_truth, key=int) if all(k.isdigit() for k in ground_truth) else sorted(ground_truth)
    return score_across_halves(
        ground_truth, predictions, classes, (keys[: len(keys) // 2], keys[len(keys) // 2 :])
    )


def score_across_halves(
    ground_truth: Mapping[str, Detections],
    predictions: Mapping[str, Detections],
    classes: Sequence[str],
    halves: tuple[Sequence[str], Sequence[str]],
) -> float:
    """EAD2019 score of all frames when each of two halves (frame keys) is thresholded as tuned on the
    other; 0.0 when a half is empty."""
    if not all(halves):
        return 0.0
    kept: dict[str, Detections] = {}
    for tune_on, apply_to in ((halves[0], halves[1]), (halves[1], halves[0])):
        try:
            thresholds = tune_class_thresholds(
                {k: ground_truth[k] for k in tune_on}, {k: predictions[k] for k in tune_on}, classes
            )
        except DataError:
            thresholds = dict.fromkeys(classes, 0.5)
        kept |= apply_thresholds({k: predictions[k] for k in apply_to}, thresholds)
    return score_detections(ground_truth, {k: kept[k] for k in ground_truth}).score
