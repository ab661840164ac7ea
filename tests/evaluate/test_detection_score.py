"""The EAD2019 / EndoCV2020 rules on small hand-computed cases, and the official scorer's figures on the
bundled scoring set."""

from __future__ import annotations

import numpy as np
import pytest

from streamer.errors import DataError
from streamer.evaluate.detection_score import (
    ENDOCV2020_IOU_THRESHOLDS,
    pairwise_iou,
    score_detections,
    voc_ap,
)
from streamer.evaluate.folders import load_annotations
from streamer.paths import EAD2019_SCORING
from streamer.types import Detections

A = [0, 0, 9, 9]  # 10 x 10 pixels with the +1 convention


def truth(*boxes: tuple[str, list[float]]) -> Detections:
    return Detections.from_names(np.array([b for _, b in boxes], dtype=float), [label for label, _ in boxes])


def guesses(*boxes: tuple[str, float, list[float]]) -> Detections:
    return Detections.from_names(
        np.array([b for _, _, b in boxes], dtype=float),
        [label for label, _, _ in boxes],
        np.array([s for _, s, _ in boxes], dtype=float),
    )


def test_iou_uses_plus_one_pixel_areas() -> None:
    iou = pairwise_iou(np.array([[0, 0, 4, 9], [9, 0, 18, 9], [10, 0, 19, 9]], float), np.array([A], float))
    assert iou[0, 0] == 0.5  # 50 / 100, not 36 / 81
    assert iou[1, 0] == pytest.approx(10 / 190)  # sharing one pixel column counts as overlap
    assert iou[2, 0] == -1.0  # touching edges without a shared pixel do not overlap


def test_duplicate_prediction_is_a_false_positive() -> None:
    score = score_detections({"i": truth(("blur", A))}, {"i": guesses(("blur", 0.9, A), ("blur", 0.8, A))})
    blur = score.per_class["blur"]
    assert (blur.n_true_positives, blur.n_predictions) == (1, 2)
    assert blur.ap == 1.0  # precision 1 reached at recall 1
    assert blur.iou == 0.5  # mean of 1 (true positive) and 0 (false positive)
    assert score.score == pytest.approx(0.6 * 1.0 + 0.4 * 0.5)


def test_no_fall_back_to_the_next_best_box() -> None:
    gt = truth(("blur", A), ("blur", [5, 0, 14, 9]))
    # second prediction: IoU 90/110 with the used box A and 60/140 >= 0.25 with the free box: false positive
    pred = guesses(("blur", 0.9, A), ("blur", 0.8, [1, 0, 10, 9]))
    blur = score_detections({"i": gt}, {"i": pred}).per_class["blur"]
    assert blur.n_true_positives == 1
    assert blur.ap == 0.5
    np.testing.assert_array_equal(blur.recall, [0.5, 0.5])


def test_unused_best_box_makes_a_true_positive_in_later_order() -> None:
    gt = truth(("blur", A), ("blur", [20, 0, 29, 9]))
    pred = guesses(("blur", 0.9, A), ("blur", 0.8, [20, 0, 29, 9]))
    blur = score_detections({"i": gt}, {"i": pred}).per_class["blur"]
    assert blur.n_true_positives == 2 and blur.ap == 1.0 and blur.iou == 1.0


def test_boxes_of_other_classes_are_never_matched() -> None:
    gt = {"i": truth(("bubbles", A), ("blur", [1, 0, 10, 9]))}
    hit = score_detections(gt, {"i": guesses(("blur", 0.9, A))}).per_class["blur"]
    assert hit.n_true_positives == 1 and hit.iou == pytest.approx(
        90 / 110
    )  # the blur box, not the exact bubble
    miss = score_detections(
        {"i": truth(("bubbles", A), ("blur", [50, 50, 59, 59]))}, {"i": guesses(("blur", 0.9, A))}
    )
    assert miss.per_class["blur"].n_true_positives == 0


def test_identical_ground_truth_boxes_match_the_first_only() -> None:
    pred = guesses(("blur", 0.9, A), ("blur", 0.8, A))
    blur = score_detections({"i": truth(("blur", A), ("blur", A))}, {"i": pred}).per_class["blur"]
    assert blur.n_true_positives == 1
    assert blur.ap == 0.5


def test_iou_threshold_is_inclusive() -> None:
    gt = {"i": truth(("blur", A))}
    exactly = score_detections(gt, {"i": guesses(("blur", 0.9, [0, 0, 4, 4]))}).per_class["blur"]  # 25 / 100
    below = score_detections(gt, {"i": guesses(("blur", 0.9, [0, 0, 4, 3]))}).per_class["blur"]  # 20 / 100
    assert (exactly.n_true_positives, exactly.iou) == (1, 0.25)
    assert (below.n_true_positives, below.iou, below.ap) == (0, 0.0, 0.0)


def test_higher_confidence_is_matched_first() -> None:
    pred = guesses(("blur", 0.3, A), ("blur", 0.9, [0, 0, 4, 9]))  # the file lists the weaker one first
    blur = score_detections({"i": truth(("blur", A))}, {"i": pred}).per_class["blur"]
    assert blur.iou == 0.25  # the 0.9 box (IoU 0.5) took the box; the exact 0.3 box is a false positive


def test_equal_confidences_keep_image_order() -> None:
    gt = {"a": truth(), "b": truth(("blur", A))}
    pred = {"a": guesses(("blur", 0.5, A)), "b": guesses(("blur", 0.5, A))}
    assert score_detections(gt, pred).per_class["blur"].ap == 0.5  # false positive of "a" ranks first
    reordered = {"b": pred["b"], "a": pred["a"]}
    assert score_detections(gt, reordered).per_class["blur"].ap == 1.0


def test_equal_confidences_keep_file_order() -> None:
    pred = guesses(("blur", 0.5, [0, 0, 4, 9]), ("blur", 0.5, A))
    blur = score_detections({"i": truth(("blur", A))}, {"i": pred}).per_class["blur"]
    assert blur.iou == 0.25  # first line (IoU 0.5) wins the box, the exact second line is a false positive


def test_all_point_interpolated_ap() -> None:
    # true positives at ranks 1, 3, 5 of 3 ground-truth boxes
    recall = np.array([1, 1, 2, 2, 3]) / 3
    precision = np.array([1, 1 / 2, 2 / 3, 2 / 4, 3 / 5])
    assert voc_ap(recall, precision) == pytest.approx((1 + 2 / 3 + 3 / 5) / 3)
    assert voc_ap(np.zeros(0), np.zeros(0)) == 0.0


def test_ap_through_scoring_matches_interpolation() -> None:
    boxes = [[x, 0, x + 9, 9] for x in (0, 20, 40)]
    gt = truth(*(("blur", b) for b in boxes))
    far = [100, 100, 109, 109]
    pred = guesses(
        ("blur", 0.9, boxes[0]),
        ("blur", 0.8, far),
        ("blur", 0.7, boxes[1]),
        ("blur", 0.6, far),
        ("blur", 0.5, boxes[2]),
    )
    blur = score_detections({"i": gt}, {"i": pred}).per_class["blur"]
    assert blur.ap == pytest.approx((1 + 2 / 3 + 3 / 5) / 3)
    assert blur.iou == pytest.approx(3 / 5)


def test_class_without_predictions_scores_zero() -> None:
    gt = {"i": truth(("blur", A), ("bubbles", [20, 0, 29, 9]))}
    score = score_detections(gt, {"i": guesses(("blur", 0.9, A))})
    bubbles = score.per_class["bubbles"]
    assert (bubbles.ap, bubbles.iou, bubbles.n_predictions) == (0.0, 0.0, 0)
    assert (score.mean_ap, score.mean_iou) == (0.5, 0.5)


def test_classes_only_in_predictions_are_ignored() -> None:
    gt = {"i": truth(("blur", A))}
    score = score_detections(gt, {"i": guesses(("blur", 0.9, A), ("instrument", 0.99, A))})
    assert list(score.per_class) == ["blur"]
    assert score.mean_ap == 1.0


def test_classes_are_listed_alphabetically() -> None:
    gt = {"i": truth(("specularity", A), ("artifact", A), ("blur", A))}
    score = score_detections(gt, {"i": guesses()})
    assert list(score.per_class) == ["artifact", "blur", "specularity"]


def test_empty_files_and_predictions_on_empty_images() -> None:
    gt = {"empty": truth(), "full": truth(("blur", A))}
    pred = {"empty": guesses(("blur", 0.9, A)), "full": guesses(("blur", 0.8, A))}
    blur = score_detections(gt, pred).per_class["blur"]
    assert blur.n_true_positives == 1
    np.testing.assert_allclose(blur.precision, [0.0, 0.5])
    assert blur.ap == 0.5


def test_iou_to_map_flag() -> None:
    gt = {"i": truth(("blur", A), ("blur", [20, 0, 29, 9]))}
    one_hit = score_detections(gt, {"i": guesses(("blur", 0.9, A))})  # mAP 0.5, IoU 1.0
    assert (one_hit.mean_ap, one_hit.mean_iou, one_hit.iou_within_limit) == (0.5, 1.0, False)
    two_hits = score_detections(gt, {"i": guesses(("blur", 0.9, A), ("blur", 0.8, [20, 0, 29, 9]))})
    assert two_hits.iou_within_limit


def test_mismatched_images_and_empty_truth_raise_data_error() -> None:
    with pytest.raises(DataError, match="1 image\\(s\\) have no predictions: b"):
        score_detections({"a": truth(("blur", A)), "b": truth()}, {"a": guesses()})
    with pytest.raises(DataError, match="have no ground truth: c"):
        score_detections({"a": truth(("blur", A))}, {"a": guesses(), "c": guesses()})
    with pytest.raises(DataError, match="no boxes"):
        score_detections({"a": truth()}, {"a": guesses(("blur", 0.9, A))})


def test_endocv2020_averages_over_thresholds() -> None:
    assert len(ENDOCV2020_IOU_THRESHOLDS) == 11
    assert ENDOCV2020_IOU_THRESHOLDS[0] == 0.25 and ENDOCV2020_IOU_THRESHOLDS[-1] == pytest.approx(0.75)
    gt = {"i": truth(("blur", [0, 0, 2, 0]))}  # 3 pixels
    pred = {"i": guesses(("blur", 0.9, [0, 0, 1, 0]))}  # IoU 2/3: a hit at 0.25..0.65 (9 of 11 thresholds)
    score = score_detections(gt, pred, "endocv2020")
    assert score.mean_ap == pytest.approx(9 / 11)
    assert score.mean_iou == pytest.approx(9 / 11 * 2 / 3)
    assert score.map_at == {0.25: 1.0, 0.5: 1.0, 0.75: 0.0}
    assert score.per_class["blur"].ap == pytest.approx(9 / 11)


def test_official_figures_on_the_scoring_set() -> None:
    """Reference values printed by the official EAD2019 and EndoCV2020 scorers for data/ead2019/scoring."""
    gt = load_annotations(EAD2019_SCORING / "ground-truth", predictions=False)
    pred = load_annotations(EAD2019_SCORING / "predicted", predictions=True)
    score = score_detections(gt, pred)
    official_ap_percent = {
        "artifact": 30.76, "blur": 6.84, "bubbles": 44.64,
        "contrast": 63.59, "saturation": 45.90, "specularity": 32.17,
    }  # fmt: skip
    assert {name: round(r.ap * 100, 2) for name, r in score.per_class.items()} == official_ap_percent
    assert score.mean_ap == pytest.approx(0.3731772913041634, abs=1e-12)
    assert score.mean_iou == pytest.approx(0.27963160489760547, abs=1e-12)
    endocv = score_detections(gt, pred, "endocv2020")
    assert endocv.mean_ap == pytest.approx(0.2530039321623425, abs=1e-12)
    assert endocv.mean_iou == pytest.approx(0.22507539316836397, abs=1e-12)
    assert endocv.map_at[0.5] == pytest.approx(0.29499892692518465, abs=1e-12)
    assert endocv.map_at[0.75] == pytest.approx(0.0725514257272387, abs=1e-12)
