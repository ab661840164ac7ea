"""Post-filter of fused detections: drop the outer box of nested same-class pairs.

Box a lies inside box b when intersection(a, b) > containment * area(a) (area(a) > 0). Of such a pair the
outer one, b, is removed. When two boxes each lie inside the other, the one that comes later in the order
(area ascending, then score descending, then index ascending) counts as outer, so exactly one of them goes.
All pairs are judged on the input set at once: a box that is removed still removes its own outer box.
"""

from __future__ import annotations

import torch

from streamer.fusion.box_ops import box_area, pairwise_intersection
from streamer.types import Detections


def inner_box_mask(
    boxes: torch.Tensor, scores: torch.Tensor, groups: torch.Tensor, containment: float = 0.9
) -> torch.Tensor:
    """Which boxes survive: (N,) bool, false for the outer box of every nested pair of one group.

    boxes (N, 4); scores (N,); groups (N,) int64, only boxes of equal group interact (e.g. the labels).
    """
    count = boxes.shape[0]
    if count < 2:
        return torch.ones(count, dtype=torch.bool, device=boxes.device)
    boxes = boxes.to(torch.float64)
    area = box_area(boxes)
    by_score = torch.sort(scores, descending=True, stable=True).indices
    by_area = by_score[torch.sort(area[by_score], stable=True).indices]
    position = torch.empty_like(by_area)
    position[by_area] = torch.arange(count, device=by_area.device)  # rank in (area, -score, index) order
    inside = (pairwise_intersection(boxes, boxes) > containment * area[:, None]) & (area[:, None] > 0)
    inside &= groups[:, None] == groups[None, :]
    inside &= position[:, None] < position[None, :]  # [a, b]: a inside b and b is the outer one
    return ~inside.any(dim=0)


def remove_outer_boxes(detections: Detections, containment: float = 0.9) -> Detections:
    """Detections without the boxes that contain a same-class box by more than `containment` of its area."""
    return detections.filter(
        inner_box_mask(detections.boxes, detections.scores, detections.labels, containment)
    )
