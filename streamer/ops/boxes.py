"""Vectorised box geometry (torch) shared by anchor matching, fusion, NMS and the INT8 guard.

Boxes are x1 y1 x2 y2 with continuous area (x2 - x1) * (y2 - y1), no "+1" pixel convention.
"""

from __future__ import annotations

import torch


def box_area(boxes: torch.Tensor) -> torch.Tensor:
    """Areas of boxes (..., 4) -> (...)."""
    return (boxes[..., 2] - boxes[..., 0]) * (boxes[..., 3] - boxes[..., 1])


def _corners(boxes: torch.Tensor) -> tuple[torch.Tensor, ...]:
    """Contiguous x1, y1, x2, y2 of boxes (..., N, 4), each (..., N) (broadcasts run on dense memory)."""
    return boxes.movedim(-1, 0).contiguous().unbind(0)  # (..., N, 4) -> (4, ..., N)


def pairwise_intersection(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Intersection areas of every pair: a (..., N, 4), b (..., M, 4) -> (..., N, M)."""
    ax1, ay1, ax2, ay2 = _corners(a)
    bx1, by1, bx2, by2 = _corners(b)
    width = torch.minimum(ax2[..., :, None], bx2[..., None, :]) - torch.maximum(
        ax1[..., :, None], bx1[..., None, :]
    )
    height = torch.minimum(ay2[..., :, None], by2[..., None, :]) - torch.maximum(
        ay1[..., :, None], by1[..., None, :]
    )
    return width.clamp_(min=0) * height.clamp_(min=0)


def pairwise_iou(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """IoU of every pair: a (..., N, 4), b (..., M, 4) -> (..., N, M); 0 where the union is empty.

    Computed as inter / (area_a + area_b - inter), in this order, so references can reproduce it bit for bit.
    """
    inter = pairwise_intersection(a, b)
    union = box_area(a)[..., :, None] + box_area(b)[..., None, :] - inter
    return inter.div_(union).nan_to_num_(nan=0.0)  # 0 / 0 only where both boxes are empty


def paired_iou(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """IoU of matching rows: a (N, 4), b (N, 4) -> (N,); 0 where the union is empty.

    Same formula and operation order as pairwise_iou.
    """
    size = (torch.minimum(a[:, 2:], b[:, 2:]) - torch.maximum(a[:, :2], b[:, :2])).clamp_(min=0)  # (N, 2)
    inter = size[:, 0] * size[:, 1]
    union = box_area(a) + box_area(b) - inter
    return inter.div_(union).nan_to_num_(nan=0.0)


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


def group_cells(groups: torch.Tensor) -> tuple[torch.Tensor, int, int]:
    """Padding of items by group into a (G, W) grid, items of a group keeping their order.

    groups: (N,) int64 >= 0, N > 0. Returns cell (N,) int64 (flat position g * W + slot of each item),
    W (the largest group size) and G (largest group id + 1).
    """
    order, slot, width = group_slots(groups)
    cell = torch.empty_like(order)
    cell[order] = groups[order] * width + slot
    return cell, width, int(groups.max()) + 1
