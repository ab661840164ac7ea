"""Detector outputs of one image -> final boxes: score threshold, top-k, class-wise greedy NMS.

Used by single-image prediction (streamer.models.predict) and validation during training; the streaming
pipeline has its own fusion stage.
"""

from __future__ import annotations

import torch

from streamer.models.matching import box_iou


def greedy_nms(boxes: torch.Tensor, scores: torch.Tensor, iou_threshold: float) -> torch.Tensor:
    """Indices (M,) int64 of the boxes kept, best score first; boxes (N, 4) x1 y1 x2 y2, scores (N,)."""
    order = scores.argsort(descending=True)
    iou = box_iou(boxes[order], boxes[order])  # (N, N) in score order
    suppressed = torch.zeros(order.numel(), dtype=torch.bool)
    keep = []
    for position in range(order.numel()):
        if suppressed[position]:
            continue
        keep.append(position)
        suppressed |= iou[position] > iou_threshold
    return order[torch.tensor(keep, dtype=torch.int64)]


def select_detections(
    boxes: torch.Tensor,
    scores: torch.Tensor,
    *,
    score_threshold: float = 0.05,
    top_k: int = 1000,
    iou_threshold: float = 0.5,
    max_detections: int = 100,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """boxes (A, 4) x1 y1 x2 y2, scores (A, K) -> (boxes (N, 4), scores (N,), labels (N,) int64).

    NMS runs per class (boxes of different classes never suppress each other).
    """
    num_classes = scores.shape[1]
    flat = scores.reshape(-1)  # (A, K) -> (A*K,)
    candidates = torch.nonzero(flat > score_threshold).squeeze(1)
    candidates = candidates[flat[candidates].topk(min(top_k, candidates.numel())).indices]
    anchor_index = candidates // num_classes
    labels = candidates % num_classes
    kept_boxes, kept_scores = boxes[anchor_index], flat[candidates]
    offset = (kept_boxes.max() + 1 if kept_boxes.numel() else 0) * labels.unsqueeze(1)
    keep = greedy_nms(kept_boxes + offset, kept_scores, iou_threshold)[:max_detections]
    return kept_boxes[keep], kept_scores[keep], labels[keep]
