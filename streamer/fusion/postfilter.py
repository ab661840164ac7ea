"""Post-filter of fused detections: drop the outer box of nested same-class pairs.

Box a lies inside box b when intersection(a, b) > containment * area(a) (area(a) > 0). Of such a pair the
outer one, b, is removed. When two boxes each lie inside the other, the one that comes later in the order
(area ascending, then score descending, then index ascending) counts as outer, so exactly one of them goes.
All pairs are judged on the input set at once: a box that is removed still removes its own outer box.
"""

from __future__ import annotations

import torch

from streamer.ops.boxes import box_area, group_cells, pairwise_intersection
from streamer.types import Detections


def inner_box_mask(
    boxes: torch.Tensor, scores: torch.Tensor, groups: torch.Tensor, containment: float = 0.9
) -> torch.Tensor:
    """Which boxes survive: (N,) bool, false for the outer box of every nested pair of one group.

    boxes (N, 4); scores (N,); groups (N,) int64, only boxes of equal group interact (e.g. the labels).
    Pairs are only formed inside a group, on a (G, W, W) grid (W = largest group).
    """
    count = boxes.shape[0]
    if count < 2:
        return torch.ones(count, dtype=torch.bool, device=boxes.device)
    boxes = boxes.to(torch.float64)
    area = box_area(boxes)
    by_score = torch.sort(scores, descending=True, stable=True).indices
    by_area = by_score[torch.sort(area[by_score], stable=True).indices]
    position = torch.empty_like(area)
    position[by_area] = torch.arange(count, device=boxes.device, dtype=area.dtype)  # (area, -score, index)
    cell, width, group_count = group_cells(groups)
    padded = boxes.new_full((group_count * width, 6), torch.nan)  # empty cells compare false everywhere
    padded[cell] = torch.cat([boxes, area[:, None], position[:, None]], dim=1)
    grid = padded.view(group_count, width, 6)  # (G*W, 6) -> (G, W, 6): x1 y1 x2 y2 area position
    inner_area, rank = grid[..., 4], grid[..., 5]
    inside = (
        pairwise_intersection(grid[..., :4], grid[..., :4]) > containment * inner_area[..., :, None]
    ) & (inner_area[..., :, None] > 0)
    inside &= rank[..., :, None] < rank[..., None, :]  # [g, a, b]: a inside b and b is the outer one
    outer = inside.any(dim=1).view(-1)  # (G, W) -> (G*W,)
    return ~outer[cell]


def remove_outer_boxes(detections: Detections, containment: float = 0.9) -> Detections:
    """Detections without the boxes that contain a same-class box by more than `containment` of its area."""
    return detections.filter(
        inner_box_mask(detections.boxes, detections.scores, detections.labels, containment)
    )
