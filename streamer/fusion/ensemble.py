"""Stack-vote ensemble of M detectors (the fusion of the EAD2019 RetinaNet ensemble of Kayser et al.).

Input: per_model[m][b], model m's detections of image b, models ordered by their validation score, best
first. All images of a batch are fused in one pass; boxes of different images never interact.

Algorithm, with every ambiguous point fixed:
1. Boxes with score < per_model_threshold are dropped; the rest keep their order inside each model
   ("index order" below is that order).
2. Overlap of a root box r and a box c of the same class:
   confidence_weight * ((s_r + s_c) * 0.5) + iou_weight * IoU(r, c), IoU with continuous area (no +1).
   Boxes of different classes never interact.
3. For i = 0 .. M-2: the roots of model i are its boxes not already assigned to a stack (all boxes of
   model 0). For every later model j, roots of i and still-unassigned boxes of j are matched greedily:
   pairs with overlap >= overlap_threshold are taken in descending overlap (ties: lower root index first,
   then lower box index), skipping a pair when its root already holds a box of model j or its box is
   already taken. So a stack holds at most one box per model, and a box joins at most one stack and then
   leaves all later comparisons. Boxes of j left unassigned become roots when i reaches j. Matching i with
   j does not depend on matching i with another j', so all j are matched at once.
4. A stack (a root and its assigned boxes) yields a detection when its summed confidence >= the vote
   threshold of its class.
5. Its box is the weighted mean of the stack's boxes, weight = confidence, times root_weight for the root;
   its score is mean confidence + count_bonus * number of boxes, clipped to 1.
Output is sorted by descending score (ties: lower root index first).

Vectorisation and cost: boxes are padded per (image, class) into (G, W) (W = most boxes of one group).
A dense (G, W, W) pass keeps the pairs that can qualify (boxes touching, or confidences high enough with
IoU 0); their exact overlaps give the candidate pairs, ranked once by (root's model, overlap). The greedy
runs over the whole list in rounds (see _assign_stacks): a pair that outranks every live pair it competes
with is one the sequential greedy takes, so each round takes all of them at once (at least one). Work:
O(G W^2) cheap comparisons, then rounds x O(E) for E candidate pairs; rounds is usually a handful (bounded
by the longest chain of pairs that wait for one another). Computation is in float64 on the input device;
outputs are float32.
On CPU tensors, Fuser runs the compiled kernel of the same rules instead (streamer.fusion.cpu), one box
at a time; this tensor code serves the other devices.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch

from streamer.fusion.batch import FlatBatch, split_by_image
from streamer.ops.boxes import group_cells, paired_iou
from streamer.types import Detections


@dataclass(frozen=True)
class StackVoteParams:
    """Parameters of the stack vote; vote_thresholds: (K,) summed-confidence threshold per class."""

    vote_thresholds: torch.Tensor
    per_model_threshold: float = 0.2
    overlap_threshold: float = 0.46
    confidence_weight: float = 0.7
    iou_weight: float = 0.3
    root_weight: float = 2.0
    count_bonus: float = 0.03


def _candidate_pairs(flat: FlatBatch, p: StackVoteParams) -> tuple[torch.Tensor, torch.Tensor]:
    """Pairs (a, b) of one image and class, model[a] < model[b], overlap >= threshold, by descending overlap.

    Returns item indices a (E,), b (E,); ties keep (a, b) ascending. A dense pass over each (image, class)
    group keeps the pairs that can qualify (boxes touching, or confidences high enough on their own, since
    IoU is 0 otherwise); the exact overlap is then computed on those pairs only.
    """
    cell, width, groups = group_cells(flat.image * p.vote_thresholds.shape[0] + flat.labels)  # (image, class)
    item_at = torch.full((groups * width,), -1, dtype=torch.int64, device=cell.device)
    item_at[cell] = torch.arange(cell.shape[0], device=cell.device)
    columns = torch.cat([flat.boxes, flat.scores[:, None], flat.model[:, None].to(torch.float64)], dim=1)
    padded = columns.new_full((groups * width, 6), torch.nan)  # empty cells compare false everywhere
    padded[cell] = columns
    x1, y1, x2, y2, score, model = padded.view(groups, width, 6).movedim(-1, 0)  # (G*W, 6) -> 6 x (G, W)
    # confidences that qualify with IoU 0; the small margin keeps this a superset of the exact test below
    confident = score[:, :, None] + score[:, None, :] >= (2.0 * p.overlap_threshold / p.confidence_weight) * (
        1 - 1e-9
    )
    touching = (
        (x1[:, :, None] <= x2[:, None, :])
        & (x1[:, None, :] <= x2[:, :, None])
        & (y1[:, :, None] <= y2[:, None, :])
        & (y1[:, None, :] <= y2[:, :, None])
    )
    maybe = (touching | confident) & (model[:, :, None] < model[:, None, :])  # (G, W, W)
    cell_group, row, col = torch.nonzero(maybe, as_tuple=True)  # row-major: (a, b) index order
    root = item_at[cell_group * width + row]
    box = item_at[cell_group * width + col]
    iou = paired_iou(flat.boxes[root], flat.boxes[box])
    overlap = p.confidence_weight * ((flat.scores[root] + flat.scores[box]) * 0.5) + p.iou_weight * iou
    qualified = torch.nonzero(overlap >= p.overlap_threshold).squeeze(1)  # (E, 1) -> (E,)
    by_overlap = qualified[torch.sort(overlap[qualified], descending=True, stable=True).indices]
    return root[by_overlap], box[by_overlap]


def _assign_stacks(
    root_item: torch.Tensor, box_item: torch.Tensor, model: torch.Tensor, models: int
) -> torch.Tensor:
    """Greedy stack assignment over the ranked pairs; returns root_of (N,) int64 (itself for roots).

    The sequential algorithm takes pairs in priority order (root's model, then the overlap rank) and
    takes a pair (a, b) unless b is taken, a is taken, or a already holds a box of b's model. Each round
    takes every live pair that outranks all live pairs it competes with (same box b; same (a, model of
    b); a pair that would take a itself), which the sequential order would take too, then drops the pairs
    that lost. Each round takes at least the best live pair.
    """
    items = model.shape[0]
    device = model.device
    priority = torch.sort(model[root_item], stable=True).indices  # by root's model, overlap rank inside
    root_item, box_item = root_item[priority], box_item[priority]
    row = root_item * models + model[box_item]  # (root, model of the box): holds at most one box
    rank = torch.arange(root_item.shape[0], device=device)
    none = rank.shape[0]
    taken = torch.zeros(items, dtype=torch.int64, device=device)  # > 0: box joined a stack
    row_full = torch.zeros(items * models, dtype=torch.int64, device=device)  # > 0: row holds its box
    selected = torch.zeros_like(rank, dtype=torch.bool)
    alive = torch.ones_like(selected)
    while bool(alive.any()):
        live_rank = torch.where(alive, rank, none)
        best_for_box = torch.full((items,), none, device=device).scatter_reduce_(
            0, box_item, live_rank, "amin"
        )
        best_for_row = torch.full((items * models,), none, device=device).scatter_reduce_(
            0, row, live_rank, "amin"
        )
        chosen = (
            (best_for_box[box_item] == rank)  # implies alive
            & (best_for_row[row] == rank)
            & (best_for_box[root_item] == none)  # no live pair could still take the root
        )
        selected |= chosen
        hits = chosen.to(torch.int64)
        taken.scatter_add_(0, box_item, hits)
        row_full.scatter_add_(0, row, hits)
        alive &= (taken[box_item] == 0) & (taken[root_item] == 0) & (row_full[row] == 0)
    root_of = torch.arange(items, device=device)
    root_of[box_item[selected]] = root_item[selected]
    return root_of


def stack_vote(per_model: Sequence[Sequence[Detections]], params: StackVoteParams) -> list[Detections]:
    """Fuse the detections of M models (best first) on B images: per_model[m][b] -> one Detections per image.

    See the module doc for the rules; images never interact.
    """
    flat = FlatBatch.of(per_model, params.per_model_threshold)
    count = flat.scores.shape[0]
    device = flat.scores.device
    if count == 0:
        return [Detections.empty(flat.classes, device) for _ in range(flat.images)]
    root_item, box_item = _candidate_pairs(flat, params)
    root_of = _assign_stacks(root_item, box_item, flat.model, flat.models)
    is_root = root_of == torch.arange(count, device=device)
    weight = flat.scores * torch.where(is_root, params.root_weight, 1.0)
    # per stack: sum of weight * box (4), sum of weight, sum of confidence, number of boxes
    parts = torch.cat(
        [
            flat.boxes * weight[:, None],
            weight[:, None],
            flat.scores[:, None],
            torch.ones_like(weight)[:, None],
        ],
        dim=1,
    )
    sums = parts.new_zeros((count, 7)).index_add_(0, root_of, parts)
    thresholds = params.vote_thresholds.to(device=device, dtype=torch.float64)
    elected = torch.nonzero(is_root & (sums[:, 5] >= thresholds[flat.labels])).squeeze(1)  # (D, 1) -> (D,)
    stacks = sums.index_select(0, elected)
    fused_scores = (stacks[:, 5] / stacks[:, 6] + params.count_bonus * stacks[:, 6]).clamp(max=1.0)
    return split_by_image(
        stacks[:, :4] / stacks[:, 4:5],
        fused_scores,
        flat.labels.index_select(0, elected),
        flat.image.index_select(0, elected),
        flat.images,
        flat.classes,
    )
