"""Weighted Boxes Fusion (Solovyev et al.), matching `ensemble_boxes.weighted_boxes_fusion` with
conf_type="avg" and allows_overflow=False.

Input per_model[m][b]: model m's detections of image b; a batch is fused in one pass and images never
interact. Rules: per image and class, boxes (score >= skip_threshold, positive area, score multiplied by
their model's weight) are visited by descending weighted score (ties: model order, then index order).
Each joins the cluster whose current fused box has the highest IoU with it (the earliest cluster on ties)
when that IoU > iou_threshold, or starts a new cluster. A cluster's fused box is the score-weighted mean of
its boxes so far. Cluster score = mean weighted score * min(M, cluster size) / sum(model weights). Output
is sorted by descending score.

Computation without a loop over boxes: let g[k] be the cluster (the index of its first box) that box k
joins. The decision for k depends only on g of earlier boxes, so "g <- decisions(g)" (every decision taken
at once, from the fused boxes that g implies at each box's turn) is exact on a longer prefix after each
pass and stops at the unique fixed point, the sequential result; starting from "every box alone", passes
are few: between passes every choice is redirected to the first box of its chain (pointer jumping), so
the second pass usually only confirms the result.
A pass considers only pairs (box k, earlier cluster c) whose member hull touches box k (a fused box never
leaves its members' hull, so other pairs have IoU 0), and gets cluster c's fused box at k's turn from
prefix sums over the members sorted by (cluster, turn). Cost per pass: O(G W^2) cheap comparisons for
the pairs (G groups (image, class), W = most boxes of one group) plus O(P log N) for the P pairs found.
On CPU tensors, Fuser runs the compiled kernel of the same rules instead (streamer.fusion.cpu), one box
at a time; this tensor code serves the other devices.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch

from streamer.fusion.batch import FlatBatch, split_by_image
from streamer.ops.boxes import box_area, group_cells, paired_iou
from streamer.types import Detections


class FusionNotSettled(RuntimeError):
    """The tensor WBF did not reach its fixed point (seen on exact IoU ties with model weights)."""


def _visiting_order(flat: FlatBatch, weights: torch.Tensor) -> tuple[torch.Tensor, ...]:
    """Boxes (N, 4), weighted scores (N,), groups (N,) sorted by (image, class) then weighted score desc.

    Zero-area boxes are dropped; group = image * classes + label.
    """
    scores = flat.scores * weights[flat.model]
    classes = int(flat.labels.max()) + 1 if flat.labels.numel() else 1
    group = flat.image * classes + flat.labels
    keep = torch.nonzero(box_area(flat.boxes) != 0).squeeze(1)  # (N, 1) -> (N,)
    by_score = keep[torch.sort(scores[keep], descending=True, stable=True).indices]
    order = by_score[torch.sort(group[by_score], stable=True).indices]
    return flat.boxes[order], scores[order], group[order], classes


@dataclass(frozen=True)
class _GroupLayout:
    """Boxes padded per group (image, class): cell (N,) position of each box in (G*W); item_at (G*W,) the
    inverse (-1: empty); corners (4, G, W) box coordinates (nan where empty); width W; groups G."""

    cell: torch.Tensor
    item_at: torch.Tensor
    corners: torch.Tensor
    width: int
    groups: int

    @classmethod
    def of(cls, boxes: torch.Tensor, group: torch.Tensor) -> _GroupLayout:
        """Layout of boxes (N, 4), N > 0, by group (N,)."""
        cell, width, groups = group_cells(group)
        item_at = torch.full((groups * width,), -1, dtype=torch.int64, device=boxes.device)
        item_at[cell] = torch.arange(boxes.shape[0], device=boxes.device)
        padded = boxes.new_full((groups * width, 4), torch.nan)
        padded[cell] = boxes
        corners = padded.view(groups, width, 4).movedim(-1, 0)  # (G*W, 4) -> (4, G, W)
        return cls(cell=cell, item_at=item_at, corners=corners, width=width, groups=groups)


def _touching_pairs(
    boxes: torch.Tensor, layout: _GroupLayout, cluster: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Pairs (box k, cluster c) of one group, c opened before k's turn, the hull of c's members touching k.

    boxes (N, 4) in visiting order, cluster (N,) current guess g. Returns k (P,), c (P,).
    """
    items = boxes.shape[0]
    width = layout.width
    members = cluster[:, None].expand(items, 2)
    lows = boxes.new_full((items, 2), torch.inf).scatter_reduce_(0, members, boxes[:, :2], "amin")
    highs = boxes.new_full((items, 2), -torch.inf).scatter_reduce_(0, members, boxes[:, 2:], "amax")
    opened = cluster == torch.arange(items, device=boxes.device)
    hull = boxes.new_full((layout.groups * width, 4), torch.nan)  # nan compares false: never touches
    hull[layout.cell[opened]] = torch.cat([lows, highs], dim=1)[opened]
    hull = hull.view(layout.groups, width, 4).movedim(-1, 0)  # (G*W, 4) -> (4, G, W) clusters
    box = layout.corners
    touching = (
        (box[0, :, :, None] <= hull[2, :, None, :])
        & (box[2, :, :, None] >= hull[0, :, None, :])
        & (box[1, :, :, None] <= hull[3, :, None, :])
        & (box[3, :, :, None] >= hull[1, :, None, :])
    )  # (G, W boxes, W clusters)
    touching &= torch.ones(width, width, dtype=torch.bool, device=boxes.device).tril_(diagonal=-1)
    row, box_slot, cluster_slot = torch.nonzero(touching, as_tuple=True)
    return layout.item_at[row * width + box_slot], layout.item_at[row * width + cluster_slot]


def _decisions(
    boxes: torch.Tensor,
    scores: torch.Tensor,
    layout: _GroupLayout,
    cluster: torch.Tensor,
    iou_threshold: float,
) -> torch.Tensor:
    """Every box's choice (cluster index, or itself for a new cluster) given the guess `cluster` (N,)."""
    items = boxes.shape[0]
    index = torch.arange(items, device=boxes.device)
    box_at, cluster_at = _touching_pairs(boxes, layout, cluster)
    key = cluster * items + index  # members grouped by cluster, in turn order
    sorted_key, by_key = torch.sort(key)
    weighted = torch.cat([boxes * scores[:, None], scores[:, None]], dim=1)[by_key]  # (N, 5)
    before = torch.cat([weighted.new_zeros(1, 5), torch.cumsum(weighted, dim=0)])  # exclusive prefix sums
    first = torch.searchsorted(sorted_key, cluster_at * items)
    upto = torch.searchsorted(sorted_key, cluster_at * items + box_at)  # members that came before the box
    state = before[upto] - before[first]  # (P, 5): sum of score * box, sum of score
    fused = state[:, :4] / state[:, 4:]
    iou = paired_iou(fused, boxes[box_at])
    best = torch.full((items,), -1.0, dtype=iou.dtype, device=iou.device).scatter_reduce_(
        0, box_at, iou, "amax"
    )
    is_best = iou == best[box_at]
    first_best = torch.full_like(index, items).scatter_reduce_(
        0, box_at[is_best], cluster_at[is_best], "amin"
    )
    return torch.where(best > iou_threshold, first_best, index)


def _follow_to_first(choice: torch.Tensor) -> torch.Tensor:
    """Point every box (N,) at the first box of its chain (choice[k] <= k) by pointer jumping.

    Keeps an already exact prefix unchanged and turns "joins the cluster of box m" into "joins the cluster
    m joined", which usually makes the next pass the last one.
    """
    while True:
        jumped = choice[choice]
        if torch.equal(jumped, choice):
            return choice
        choice = jumped


def weighted_boxes_fusion(
    per_model: Sequence[Sequence[Detections]],
    *,
    iou_threshold: float = 0.55,
    skip_threshold: float = 0.0,
    model_weights: Sequence[float] | None = None,
) -> list[Detections]:
    """Fuse per_model[m][b] (model m's detections of image b) with WBF: one Detections per image.

    See the module doc for the exact rules; images never interact.
    """
    flat = FlatBatch.of(per_model, skip_threshold)
    device = flat.scores.device
    weights = torch.as_tensor(
        [1.0] * flat.models if model_weights is None else list(model_weights),
        dtype=torch.float64,
        device=device,
    )
    boxes, scores, group, classes = _visiting_order(flat, weights)
    items = boxes.shape[0]
    if items == 0:
        return [Detections.empty(flat.classes, device) for _ in range(flat.images)]
    layout = _GroupLayout.of(boxes, group)
    cluster = torch.arange(items, device=device)
    for _ in range(items + 1):  # each pass settles at least one more box of the sequential order
        decided = _decisions(boxes, scores, layout, cluster, iou_threshold)
        if torch.equal(decided, cluster):
            break
        cluster = _follow_to_first(decided)
    else:  # never loop forever: the caller falls back to the sequential kernel
        raise FusionNotSettled(
            f"weighted boxes fusion did not settle after {items + 1} passes over {items} boxes"
        )
    # per cluster: sum of score * box (4), sum of score, number of boxes
    parts = torch.cat([boxes * scores[:, None], scores[:, None], torch.ones_like(scores)[:, None]], dim=1)
    sums = parts.new_zeros((items, 6)).index_add_(0, cluster, parts)
    opened = torch.nonzero(cluster == torch.arange(items, device=device)).squeeze(1)  # (C, 1) -> (C,)
    clusters = sums.index_select(0, opened)
    size = clusters[:, 5]
    fused_scores = clusters[:, 4] / size * size.clamp(max=flat.models) / weights.sum()
    opened_group = group.index_select(0, opened)
    return split_by_image(
        clusters[:, :4] / clusters[:, 4:5],
        fused_scores,
        opened_group % classes,
        opened_group // classes,
        flat.images,
        flat.classes,
    )
