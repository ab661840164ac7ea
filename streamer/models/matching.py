"""Anchor matching: IoU >= 0.5 positive, < 0.4 negative, between ignored, plus the best anchor of each box."""

from __future__ import annotations

import torch

from streamer.ops.boxes import pairwise_iou

BACKGROUND = -1
IGNORE = -2


def match_anchors(
    boxes: torch.Tensor, anchors: torch.Tensor, *, positive_iou: float = 0.5, negative_iou: float = 0.4
) -> torch.Tensor:
    """Assign each anchor to a box.

    boxes: (M, 4) ground truth x1 y1 x2 y2; anchors: (A, 4) x1 y1 x2 y2.
    Returns (A,) int64: the matched box index (positive), BACKGROUND (-1) or IGNORE (-2).
    Every box also takes the anchor(s) with which it has its highest IoU, whatever that IoU.
    """
    matched = torch.full((anchors.shape[0],), BACKGROUND, dtype=torch.int64, device=anchors.device)
    if boxes.shape[0] == 0:
        return matched
    iou = pairwise_iou(boxes, anchors)  # (M, A)
    best_iou, best_box = iou.max(dim=0)
    matched = torch.where(best_iou >= positive_iou, best_box, matched)
    matched = torch.where((best_iou >= negative_iou) & (best_iou < positive_iou), IGNORE, matched)
    best_per_box = iou.max(dim=1, keepdim=True).values  # (M, 1)
    box_index, anchor_index = torch.nonzero((iou == best_per_box) & (best_per_box > 0), as_tuple=True)
    matched[anchor_index] = box_index
    return matched
