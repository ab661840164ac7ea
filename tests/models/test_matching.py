import torch

from streamer.models.matching import BACKGROUND, IGNORE, match_anchors
from streamer.ops.boxes import pairwise_iou


def test_pairwise_iou_by_hand():
    a = torch.tensor([[0.0, 0.0, 10.0, 10.0]])
    b = torch.tensor([[5.0, 0.0, 15.0, 10.0], [20.0, 20.0, 30.0, 30.0], [0.0, 0.0, 10.0, 10.0]])
    assert torch.allclose(pairwise_iou(a, b), torch.tensor([[50 / 150, 0.0, 1.0]]))


def test_thresholds_positive_ignored_negative_and_best_anchor():
    boxes = torch.tensor([[0.0, 0.0, 10.0, 10.0], [100.0, 100.0, 110.0, 110.0]])
    anchors = torch.tensor(
        [
            [0.0, 0.0, 10.0, 12.0],  # IoU 0.83 with box 0 -> positive
            [0.0, 0.0, 10.0, 22.0],  # IoU 0.45 -> ignored
            [0.0, 0.0, 10.0, 30.0],  # IoU 0.33 -> background
            [100.0, 100.0, 110.0, 140.0],  # IoU 0.25 with box 1, but its best anchor -> positive
            [300.0, 300.0, 310.0, 310.0],  # no overlap -> background
        ]
    )
    matched = match_anchors(boxes, anchors)
    assert matched.tolist() == [0, IGNORE, BACKGROUND, 1, BACKGROUND]


def test_no_boxes_means_all_background():
    matched = match_anchors(torch.zeros((0, 4)), torch.tensor([[0.0, 0.0, 5.0, 5.0]] * 3))
    assert matched.tolist() == [BACKGROUND] * 3
