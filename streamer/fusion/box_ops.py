"""Vectorised box geometry shared by the fusion modules.

Boxes are x1 y1 x2 y2 with continuous area (x2 - x1) * (y2 - y1), no "+1" pixel convention.
"""

from __future__ import annotations

import torch


def box_area(boxes: torch.Tensor) -> torch.Tensor:
    """Areas of boxes (..., 4) -> (...)."""
    return (boxes[..., 2] - boxes[..., 0]) * (boxes[..., 3] - boxes[..., 1])


def pairwise_intersection(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Intersection areas of every pair: a (..., N, 4), b (..., M, 4) -> (..., N, M)."""
    left = torch.maximum(a[..., :, None, 0], b[..., None, :, 0])
    top = torch.maximum(a[..., :, None, 1], b[..., None, :, 1])
    right = torch.minimum(a[..., :, None, 2], b[..., None, :, 2])
    bottom = torch.minimum(a[..., :, None, 3], b[..., None, :, 3])
    return (right - left).clamp_(min=0) * (bottom - top).clamp_(min=0)


def pairwise_iou(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """IoU of every pair: a (..., N, 4), b (..., M, 4) -> (..., N, M); 0 where the union is empty.

    Computed as inter / (area_a + area_b - inter), in this order, so references can reproduce it bit for bit.
    """
    inter = pairwise_intersection(a, b)
    union = box_area(a)[..., :, None] + box_area(b)[..., None, :] - inter
    return torch.where(union > 0, inter / union.clamp(min=torch.finfo(union.dtype).tiny), 0.0)


def group_slots(labels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, int]:
    """Stable grouping of items by label, for padding into a (num_labels, width) layout.

    labels: (N,) int64 >= 0. Returns order (N,) int64 (stable argsort by label: items of one label keep
    their relative order), slot (N,) int64 (column of each sorted item inside its label's row) and
    width (the largest group size; 0 when N == 0).
    """
    if labels.numel() == 0:
        empty = torch.zeros(0, dtype=torch.int64, device=labels.device)
        return empty, empty, 0
    order = torch.sort(labels, stable=True).indices
    sorted_labels = labels[order]
    counts = torch.bincount(sorted_labels)
    starts = torch.cumsum(counts, 0) - counts
    slot = torch.arange(labels.numel(), device=labels.device) - starts[sorted_labels]
    return order, slot, int(counts.max())
