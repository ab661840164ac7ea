"""The good/bad rule: the union (not the sum) of blur, contrast and saturation boxes against half the frame."""

import numpy as np
import pytest

from streamer.evaluate.quality_labels import label_frame, union_area


def test_union_counts_overlaps_once():
    boxes = np.array([[0, 0, 10, 10], [5, 5, 15, 15]], np.float32)
    assert union_area(boxes) == pytest.approx(175.0)  # 100 + 100 - 25


def test_nested_and_empty_boxes_add_nothing():
    boxes = np.array([[0, 0, 10, 10], [2, 2, 4, 4], [3, 3, 3, 9]], np.float32)
    assert union_area(boxes) == pytest.approx(100.0)
    assert union_area(np.zeros((0, 4))) == 0.0


def test_overlapping_boxes_whose_sum_passes_half_but_union_does_not_are_good():
    # two boxes of 40% of the frame each, overlapping on 35%: sum 80%, union 45%
    boxes = np.array([[0, 0, 40, 100], [5, 0, 45, 100]], np.float32)
    truth = label_frame(boxes, ["blur", "contrast"], 100, 100)
    assert truth.coverage == pytest.approx(0.45)
    assert not truth.bad


def test_disjoint_boxes_of_three_kinds_reaching_half_are_bad():
    boxes = np.array([[0, 0, 20, 100], [20, 0, 40, 100], [40, 0, 50, 100]], np.float32)
    truth = label_frame(boxes, ["blur", "contrast", "saturation"], 100, 100)
    assert truth.coverage == pytest.approx(0.5)
    assert truth.bad
    assert truth.causes == pytest.approx({"blur": 0.2, "exposure": 0.2, "saturation": 0.1})


def test_other_classes_do_not_count_and_boxes_are_clipped_to_the_frame():
    boxes = np.array([[0, 0, 100, 100], [-50, -50, 50, 200]], np.float32)
    truth = label_frame(boxes, ["specularity", "blur"], 100, 100)
    assert truth.coverage == pytest.approx(0.5)  # the blur box clipped to 50x100; specularity ignored
    assert truth.bad
    assert truth.causes["blur"] == pytest.approx(0.5)


def test_a_frame_without_boxes_is_good():
    truth = label_frame(np.zeros((0, 4)), [], 640, 480)
    assert not truth.bad and truth.coverage == 0.0
