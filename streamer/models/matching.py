"""Anchor matching: IoU >= 0.5 positive, < 0.4 negative, between ignored, plus the best anchor of each box."""

from __future__ import annotations

import torch

BACKGROUND = -1
IGNORE = -2


def box_iou(boxes_a: torch.Tensor, boxes_b: torch.Tensor) -> torch.Tensor:
    """boxes_a (N, 4), boxes_b (M, 4) x1 y1 x2 y2 -> (N, M) intersection over union."""
    area_a = (boxes_a[:, 2] - boxes_a[:, 0]).clamp(min=0) * (boxes_a[:, 3] - boxes_a[:, 1]).clamp(min=0)
    area_b = (boxes_b[:, 2] - boxes_b[:, 0]).clamp(min=0) * (boxes_b[:, 3] - boxes_b[:, 1]).clamp(min=0)
    top_left = torch.maximum(boxes_a[:, None, :2], boxes_b[None, :, :2])
    bottom_right = torch.minimum(boxes_a[:, None, 2:], boxes_b[None, :, 2:])
    wh = (bottom_right - top_left).clamp(min=0)
    inter = wh[..., 0] * wh[..., 1]
    return inter / (area_a[:, None] + area_b[None, :] - inter).clamp(min=1e-9)


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
    iou = box_iou(boxes, anchors)  # (M, A)
    best_iou, best_box = iou.max(dim=0)
    matched = torch.where(best_iou >= positive_iou, best_box, matched)
    matched = torch.where((best_iou >= negative_iou) & (best_iou < positive_iou), IGNORE, matched)
    best_per_box = iou.max(dim=1, keepdim=True).values  # (M, 1)
    box_index, anchor_index = torch.nonzero((iou == best_per_box) & (best_per_box > 0), as_tuple=True)
    matched[anchor_index] = box_index
    return matched
