import math

import torch

from streamer.models.box_coder import BoxCoder
from streamer.models.losses import DetectionLoss, focal_loss


def test_focal_loss_matches_hand_computation():
    logits = torch.tensor([2.0, -1.0, 0.5])
    targets = torch.tensor([1.0, 0.0, 0.0])
    p = [1 / (1 + math.exp(-v)) for v in (2.0, -1.0, 0.5)]
    expected = [
        -0.25 * (1 - p[0]) ** 1.5 * math.log(p[0]),
        -0.75 * p[1] ** 1.5 * math.log(1 - p[1]),
        -0.75 * p[2] ** 1.5 * math.log(1 - p[2]),
    ]
    assert torch.allclose(focal_loss(logits, targets), torch.tensor(expected), rtol=1e-5)
    gamma0 = focal_loss(logits, targets, gamma=0.0, alpha=0.5)
    bce = torch.nn.functional.binary_cross_entropy_with_logits(logits, targets, reduction="none")
    assert torch.allclose(gamma0, 0.5 * bce)


def test_detection_loss_normalises_by_positives_and_weights_classification():
    anchors = torch.tensor([[0.0, 0.0, 10.0, 10.0], [50.0, 50.0, 60.0, 60.0], [0.0, 0.0, 10.0, 21.0]])
    boxes = [torch.tensor([[0.0, 0.0, 10.0, 10.0]])]
    labels = [torch.tensor([1])]
    logits = torch.zeros(1, 3, 2)
    deltas = torch.zeros(1, 3, 4)
    deltas[0, 0] = torch.tensor([0.5, 0.0, 0.0, 0.0])
    result = DetectionLoss(gamma=0.0, alpha=0.5)(logits, deltas, anchors, boxes, labels)
    log2 = math.log(2)
    # anchor 0 positive (class 1), anchor 1 background, anchor 2 (IoU 0.48) ignored: 4 logits of 0.5*log2
    assert result["positives"].item() == 1
    assert math.isclose(result["classification"].item(), 4 * 0.5 * log2, rel_tol=1e-5)
    assert math.isclose(result["box"].item(), 0.5 - 0.5 / 9, rel_tol=1e-4)
    doubled = DetectionLoss(gamma=0.0, alpha=0.5, classification_weight=2.0)(
        logits, deltas, anchors, boxes, labels
    )
    assert math.isclose(doubled["loss"].item(), 2 * 4 * 0.5 * log2 + 0.5 - 0.5 / 9, rel_tol=1e-4)
    assert BoxCoder().encode(boxes[0], anchors[:1]).abs().max() < 1e-6
