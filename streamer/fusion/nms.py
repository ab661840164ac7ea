"""Class-aware non-maximum suppression and soft-NMS on tensors, without a Python loop over boxes.

Both process boxes in descending score order, ties broken by ascending index (stable sort), and never let
boxes of different categories interact.

NMS is exact greedy NMS (a box is dropped when its IoU with a kept, higher-ranked box of its category is
> iou_threshold), computed as the unique fixed point of "keep[j] = no kept box ranked before j suppresses
j", iterated from "all kept": after t passes the first t levels of every suppression chain are settled, so
it stops after (longest chain + 1) passes. Up to `_BLOCK` boxes use one dense IoU matrix. Above that, the
pairs that can overlap are found by sorting each category on x1 (O(N log N) plus one pair per two boxes
whose x-intervals touch) and the fixed point runs on the overlapping pairs only; when there are more than
`_MAX_PAIRS` such pairs (boxes piled up along x), dense blocks of `_BLOCK` sorted boxes are used instead:
O(N * kept_same_category) IoU work with bounded memory.

Soft-NMS (Bodla et al.) repeatedly takes the highest remaining score and decays the others by
f(IoU with it). Several boxes are taken per round: the longest run at the top of the current ranking in
which no box is decayed by an earlier one of the run is exactly what the one-at-a-time algorithm would take
next, because scores only decrease. Decays are computed once, inside each category, on a (G, W, W) grid
(W = largest category). The run is searched among the top `_SOFT_NMS_WINDOW` boxes, so a round costs
O(window^2 + N log N) and rounds >= max(N / window, the largest number of mutually overlapping boxes).

nms() on float32 or float64 CPU tensors runs the compiled greedy kernel streamer.fusion.cpu.nms_kernel
(same result); nms_tensors() is the tensor code above, the path for every other device.
"""

from __future__ import annotations

from typing import Literal

import torch

from streamer.fusion import cpu
from streamer.ops.boxes import group_cells, paired_iou, pairwise_iou

_BLOCK = 256
_MAX_PAIRS = 262_144  # beyond this many x-overlapping pairs, dense blocks are faster (measured)
_SOFT_NMS_WINDOW = 64  # soft-NMS looks for its run of boxes among the top 64 of each round

SoftNmsMethod = Literal["gaussian", "linear"]


def _categories_or_zeros(boxes: torch.Tensor, categories: torch.Tensor | None) -> torch.Tensor:
    if categories is None:
        return torch.zeros(boxes.shape[0], dtype=torch.int64, device=boxes.device)
    return categories


def _same_category(pairs: torch.Tensor, rows: torch.Tensor, columns: torch.Tensor) -> torch.Tensor:
    """pairs (R, C) bool restricted to equal categories; rows (R,) and columns (C,) are sorted."""
    if bool(rows[0] == rows[-1]) and bool(columns[0] == columns[-1]) and bool(rows[0] == columns[0]):
        return pairs
    return pairs & (rows[:, None] == columns[None, :])


def _settle_block(suppresses: torch.Tensor, alive: torch.Tensor) -> torch.Tensor:
    """Greedy outcome inside one block.

    suppresses: (B, B) bool, [i, j] true when i ranks before j and would suppress it; alive: (B,) bool,
    boxes not already suppressed from outside the block. Returns keep (B,) bool.
    """
    weights = (suppresses & alive[:, None]).to(torch.float32)
    keep = alive
    while True:
        hit = (keep.to(torch.float32)[None, :] @ weights)[0] > 0  # (1, B) @ (B, B) -> (1, B) -> (B,)
        updated = alive & ~hit
        if torch.equal(updated, keep):
            return keep
        keep = updated


def _x_overlap_pairs(
    boxes: torch.Tensor, categories: torch.Tensor, limit: int
) -> tuple[torch.Tensor, torch.Tensor] | None:
    """Every pair (a, b) of one category whose x-intervals touch, found by sorting on x1; None if > limit.

    Returns item indices a (P,), b (P,), each pair once.
    """
    by_x = torch.sort(boxes[:, 0], stable=True).indices
    order = by_x[torch.sort(categories[by_x], stable=True).indices]  # category-major, x1 ascending
    cell, width, groups = group_cells(categories[order])
    starts = boxes.new_full((groups * width,), torch.inf)  # rows of ascending x1, padded with +inf
    starts[cell] = boxes[order, 0]
    ends = boxes.new_full((groups * width,), -torch.inf)
    ends[cell] = boxes[order, 2]
    reach = torch.searchsorted(starts.view(groups, width), ends.view(groups, width), right=True)  # (G, W)
    count = (reach.view(-1)[cell] - cell % width - 1).clamp_(min=0)  # later boxes of the row starting <= x2
    if int(count.sum()) > limit:
        return None
    first = torch.repeat_interleave(torch.arange(order.shape[0], device=boxes.device), count)
    step = torch.arange(first.shape[0], device=boxes.device) - (torch.cumsum(count, 0) - count)[first]
    return order[first], order[first + 1 + step]  # a row's boxes are consecutive in `order`


def _nms_sparse(
    boxes: torch.Tensor, scores: torch.Tensor, iou_threshold: float, pairs: tuple[torch.Tensor, torch.Tensor]
) -> torch.Tensor:
    """Greedy NMS from the candidate pairs; returns keep (N,) bool.

    Iterates "kept unless a kept, higher-ranked box suppresses it" from "all kept" to its unique fixed point,
    the greedy result (exact after (longest suppression chain + 1) passes).
    """
    a, b = pairs
    hit = torch.nonzero(paired_iou(boxes[a], boxes[b]) > iou_threshold).squeeze(1)  # (E, 1) -> (E,)
    a, b = a[hit], b[hit]
    rank = torch.empty_like(scores, dtype=torch.int64)
    rank[torch.sort(scores, descending=True, stable=True).indices] = torch.arange(
        scores.shape[0], device=scores.device
    )
    winner = torch.where(rank[a] < rank[b], a, b)
    loser = a + b - winner
    keep = torch.ones_like(scores, dtype=torch.bool)
    while True:
        suppressed = torch.zeros_like(rank).index_add_(0, loser, keep[winner].to(torch.int64)) > 0
        if torch.equal(~suppressed, keep):
            return keep
        keep = ~suppressed


def _nms_blocks(
    boxes: torch.Tensor, scores: torch.Tensor, iou_threshold: float, categories: torch.Tensor
) -> torch.Tensor:
    """Greedy NMS on dense blocks of `_BLOCK` boxes (bounded memory whatever the overlaps); keep (N,) bool."""
    device = boxes.device
    by_score = torch.sort(scores, descending=True, stable=True).indices
    order = by_score[torch.sort(categories[by_score], stable=True).indices]  # category-major, score desc
    sorted_boxes = boxes[order]
    sorted_categories = categories[order]
    kept_chunks: list[torch.Tensor] = []
    kept_boxes = sorted_boxes[:0]
    kept_categories = sorted_categories[:0]
    for start in range(0, order.shape[0], _BLOCK):
        block_boxes = sorted_boxes[start : start + _BLOCK]
        block_categories = sorted_categories[start : start + _BLOCK]
        alive = torch.ones(block_boxes.shape[0], dtype=torch.bool, device=device)
        first = int(torch.searchsorted(kept_categories, block_categories[:1]))
        if first < kept_boxes.shape[0]:
            outside = _same_category(
                pairwise_iou(block_boxes, kept_boxes[first:]) > iou_threshold,
                block_categories,
                kept_categories[first:],
            )
            alive = ~outside.any(dim=1)
        suppresses = _same_category(
            pairwise_iou(block_boxes, block_boxes) > iou_threshold, block_categories, block_categories
        ).triu_(diagonal=1)
        keep = _settle_block(suppresses, alive)
        kept_chunks.append(order[start + torch.nonzero(keep).squeeze(1)])  # (K, 1) -> (K,)
        kept_boxes = torch.cat([kept_boxes, block_boxes[keep]])
        kept_categories = torch.cat([kept_categories, block_categories[keep]])
    keep = torch.zeros(boxes.shape[0], dtype=torch.bool, device=device)
    keep[torch.cat(kept_chunks)] = True
    return keep


def nms(
    boxes: torch.Tensor,
    scores: torch.Tensor,
    iou_threshold: float,
    categories: torch.Tensor | None = None,
) -> torch.Tensor:
    """Greedy class-aware NMS.

    boxes: (N, 4) x1 y1 x2 y2; scores: (N,); categories: optional (N,) int64, boxes only suppress boxes of
    their own category. Returns indices (K,) int64 of the kept boxes, by descending score (ties: lower
    index first).
    float32 or float64 CPU tensors go to the compiled kernel (streamer.fusion.cpu.nms_kernel, same result;
    it compiles on its first call), everything else to the tensor code (nms_tensors).
    """
    compiled = (
        boxes.device.type == "cpu"
        and boxes.dtype in (torch.float32, torch.float64)
        and scores.dtype in (torch.float32, torch.float64)
        and iou_threshold >= 0
    )
    if not compiled:
        return nms_tensors(boxes, scores, iou_threshold, categories)
    with torch.inference_mode():
        categories = _categories_or_zeros(boxes, categories)
        kept = cpu.nms_kernel(
            boxes.detach().contiguous().numpy(),
            scores.detach().contiguous().numpy(),
            categories.detach().contiguous().numpy(),
            boxes.detach().numpy().dtype.type(iou_threshold),  # compared in the boxes' dtype, as torch does
        )
    return torch.from_numpy(kept)


def nms_tensors(
    boxes: torch.Tensor,
    scores: torch.Tensor,
    iou_threshold: float,
    categories: torch.Tensor | None = None,
) -> torch.Tensor:
    """nms() with tensor operations on the tensors' device (the only path for devices other than the CPU)."""
    if boxes.shape[0] == 0:
        return torch.zeros(0, dtype=torch.int64, device=boxes.device)
    categories = _categories_or_zeros(boxes, categories)
    pairs = None if boxes.shape[0] <= _BLOCK else _x_overlap_pairs(boxes, categories, _MAX_PAIRS)
    if pairs is None:
        keep = _nms_blocks(boxes, scores, iou_threshold, categories)
    else:
        keep = _nms_sparse(boxes, scores, iou_threshold, pairs)
    kept = torch.nonzero(keep).squeeze(1)  # (K, 1) -> (K,), index order so equal scores stay in it
    return kept[torch.sort(scores[kept], descending=True, stable=True).indices]


def soft_nms(
    boxes: torch.Tensor,
    scores: torch.Tensor,
    *,
    sigma: float = 0.5,
    iou_threshold: float = 0.3,
    method: SoftNmsMethod = "gaussian",
    min_score: float = 0.001,
    categories: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Class-aware soft-NMS.

    boxes: (N, 4); scores: (N,); decay of a box by a taken box of its category with overlap u:
    gaussian exp(-u^2 / sigma), linear (1 - u) when u > iou_threshold else 1. Boxes whose decayed score is
    below min_score are dropped.
    Returns (indices (K,) int64 in the order they were taken, decayed scores (K,)).
    """
    device = boxes.device
    if method not in ("gaussian", "linear"):
        raise ValueError(f"unknown soft-NMS method {method!r}")
    if boxes.shape[0] == 0:
        return torch.zeros(0, dtype=torch.int64, device=device), scores[:0]
    cell, width, groups = group_cells(_categories_or_zeros(boxes, categories))
    padded = boxes.new_full((groups * width, 4), torch.nan)  # empty cells: IoU 0, decay 1
    padded[cell] = boxes
    grid = padded.view(groups, width, 4)  # (G*W, 4) -> (G, W, 4)
    iou = pairwise_iou(grid, grid)  # (G, W, W), only boxes of one category meet
    if method == "gaussian":
        decay = torch.exp(-(iou * iou) / sigma)
    else:
        decay = torch.where(iou > iou_threshold, 1.0 - iou, 1.0)
    current = scores.new_full((groups * width,), -torch.inf)  # per cell; taken and empty cells: -inf
    current[cell] = scores
    taken: list[torch.Tensor] = []
    taken_scores: list[torch.Tensor] = []
    while True:
        ranked = current[cell]
        ranked = torch.where(ranked >= min_score, ranked, -torch.inf)  # also turns -inf * 0 (nan) into -inf
        order = torch.sort(ranked, descending=True, stable=True).indices  # ties: lower index first
        head = order[: min(_SOFT_NMS_WINDOW, int(torch.isfinite(ranked).sum()))]
        if head.shape[0] == 0:
            break
        head_group, head_slot = cell[head] // width, cell[head] % width
        pair_decay = decay[head_group[:, None], head_slot[:, None], head_slot[None, :]]  # (T, T)
        affected = ((pair_decay != 1.0) & (head_group[:, None] == head_group[None, :])).triu_(diagonal=1)
        blocked = affected.any(dim=0)  # [j]: some earlier box of the run decays j; never true for j = 0
        run = int(torch.argmax(blocked.to(torch.int8))) if bool(blocked.any()) else head.shape[0]
        picked_cells = cell[head[:run]]
        taken.append(head[:run])
        taken_scores.append(current[picked_cells])
        current[picked_cells] = -torch.inf
        rows = decay[
            head_group[:run], head_slot[:run]
        ]  # (P, W): decay of every cell of the picked box's group
        factor = torch.ones_like(current).view(groups, width)  # (G*W,) -> (G, W)
        factor.scatter_reduce_(0, head_group[:run, None].expand_as(rows), rows, "prod")
        current *= factor.view(-1)  # (G, W) -> (G*W,)
    if not taken:
        return torch.zeros(0, dtype=torch.int64, device=device), scores[:0]
    return torch.cat(taken), torch.cat(taken_scores)
