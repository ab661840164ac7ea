"""Per-class thresholds for the EAD2019 score, and YOLO folders that bring their own class list."""

import numpy as np

from streamer.evaluate.detection_score import score_detections
from streamer.evaluate.folders import folder_class_names, load_annotations
from streamer.evaluate.thresholds import apply_thresholds, cross_fitted_score, tune_class_thresholds
from streamer.paths import EAD2020_SUBSET
from streamer.types import EAD2020_CLASSES, Detections


def _set(labels, boxes, scores=None):
    return Detections.from_names(
        np.array(boxes, np.float64), labels, None if scores is None else np.array(scores, np.float64)
    )


def test_low_scored_false_positives_are_cut_by_their_class_threshold():
    truth = {str(i): _set(["a", "b"], [[0, 0, 50, 50], [100, 100, 150, 150]]) for i in range(4)}
    predictions = {
        str(i): _set(
            ["a", "a", "b"],
            [[0, 0, 50, 50], [300, 300, 340, 340], [100, 100, 150, 150]],
            [0.9, 0.2, 0.7],  # class a: a hit at 0.9, a false alarm at 0.2; class b: one hit
        )
        for i in range(4)
    }
    thresholds = tune_class_thresholds(truth, predictions, ["a", "b", "c"])
    assert 0.2 < thresholds["a"] <= 0.9 and thresholds["b"] == 0.05 and thresholds["c"] == 0.5
    before = score_detections(truth, predictions)
    after = score_detections(truth, apply_thresholds(predictions, thresholds))
    assert after.score > before.score and after.per_class["a"].iou == 1.0


def test_yolo_folder_reads_its_classes_txt():
    assert folder_class_names(EAD2020_SUBSET / "labels") == EAD2020_CLASSES
    boxes = load_annotations(EAD2020_SUBSET / "labels", predictions=False)
    assert "blood" in {name for truth in boxes.values() for name in truth.names}
    assert all(truth.classes == EAD2020_CLASSES for truth in boxes.values())


def test_cross_fitted_score_uses_thresholds_from_the_other_half():
    truth = {str(i): _set(["a"], [[0, 0, 50, 50]]) for i in range(8)}
    alike = {str(i): _set(["a", "a"], [[0, 0, 50, 50], [300, 300, 340, 340]], [0.9, 0.2]) for i in range(8)}
    tuned = score_detections(truth, apply_thresholds(alike, tune_class_thresholds(truth, alike, ["a"])))
    assert cross_fitted_score(truth, alike, ["a"]) == tuned.score == 1.0  # both halves agree
    unlike = dict(alike)
    for i in range(4, 8):  # in the second half the false alarm scores 0.95, above the hit
        unlike[str(i)] = _set(["a", "a"], [[0, 0, 50, 50], [300, 300, 340, 340]], [0.9, 0.95])
    assert cross_fitted_score(truth, unlike, ["a"]) < 1.0
