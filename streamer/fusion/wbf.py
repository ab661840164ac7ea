"""Weighted Boxes Fusion (Solovyev et al.), matching `ensemble_boxes.weighted_boxes_fusion` with
conf_type="avg" and allows_overflow=False.

Per class, boxes (score >= skip_threshold, positive area, score multiplied by their model's weight) are
visited by descending weighted score (ties: model order, then index order). Each joins the cluster whose
current fused box has the highest IoU with it (first cluster on ties) when that IoU > iou_threshold, or
starts a new cluster. A cluster's fused box is the score-weighted mean of its boxes, updated after every
join. Cluster score = mean weighted score * min(M, cluster size) / sum(model weights).
Output is sorted by descending score.

The visit is sequential by nature (each decision depends on the fused boxes left by the previous ones), so
classes are processed side by side: boxes are padded per class into (K, W) and step t handles the t-th box
of every class with one (K, W) IoU against the clusters. Cost: W steps (W = most boxes of one class), each
O(K W) work and a fixed number of tensor operations.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from streamer.fusion.box_ops import box_area, group_slots
from streamer.types import Detections


def _iou_with_clusters(box: torch.Tensor, clusters: torch.Tensor) -> torch.Tensor:
    """IoU of box (K, 4) with clusters (K, W, 4) -> (K, W), as inter / (area_a + area_b - inter)."""
    left = torch.maximum(clusters[..., 0], box[:, None, 0])
    top = torch.maximum(clusters[..., 1], box[:, None, 1])
    right = torch.minimum(clusters[..., 2], box[:, None, 2])
    bottom = torch.minimum(clusters[..., 3], box[:, None, 3])
    inter = (right - left).clamp_(min=0) * (bottom - top).clamp_(min=0)
    return inter / (box_area(clusters) + box_area(box)[:, None] - inter)


def weighted_boxes_fusion(
    per_model: Sequence[Detections],
    *,
    iou_threshold: float = 0.55,
    skip_threshold: float = 0.0,
    model_weights: Sequence[float] | None = None,
) -> Detections:
    """Fuse one image's detections of M models with WBF; see the module doc for the exact rules."""
    if not per_model:
        raise ValueError("weighted_boxes_fusion needs at least one model")
    device = per_model[0].boxes.device
    weights = torch.as_tensor(
        [1.0] * len(per_model) if model_weights is None else list(model_weights),
        dtype=torch.float64,
        device=device,
    )
    counts = torch.tensor([len(d) for d in per_model], device=device)
    model = torch.repeat_interleave(torch.arange(len(per_model), device=device), counts)
    boxes = torch.cat([d.boxes for d in per_model]).to(torch.float64)
    scores = torch.cat([d.scores for d in per_model]).to(torch.float64)
    labels = torch.cat([d.labels for d in per_model])
    keep = (scores >= skip_threshold) & (box_area(boxes) != 0)
    boxes, labels, model = boxes[keep], labels[keep], model[keep]
    scores = scores[keep] * weights[model]  # weighted scores
    if boxes.shape[0] == 0:
        return Detections.empty(device)

    by_score = torch.sort(scores, descending=True, stable=True).indices
    order, slot, width = group_slots(labels[by_score])
    order = by_score[order]
    classes = int(labels.max()) + 1
    cell = labels[order] * width + slot
    present = torch.zeros(classes * width, dtype=torch.bool, device=device)
    present[cell] = True
    padded_boxes = boxes.new_zeros((classes * width, 4))
    padded_boxes[cell] = boxes[order]
    padded_scores = scores.new_zeros(classes * width)
    padded_scores[cell] = scores[order]
    padded_boxes = padded_boxes.view(classes, width, 4).transpose(0, 1).contiguous()  # (W, K, 4) by step
    padded_scores = padded_scores.view(classes, width).t().contiguous()  # (K*W,) -> (W, K)
    present = present.view(classes, width).t().contiguous()  # (K*W,) -> (W, K)

    box_sum = boxes.new_zeros((classes, width, 4))  # sum of score * box per cluster
    score_sum = boxes.new_zeros((classes, width))
    size = boxes.new_zeros((classes, width))
    fused = boxes.new_zeros((classes, width, 4))
    opened = torch.zeros(classes, dtype=torch.int64, device=device)  # clusters per class
    rows = torch.arange(classes, device=device)
    columns = torch.arange(width, device=device)
    for step in range(width):
        box, score, on = padded_boxes[step], padded_scores[step], present[step]
        iou = torch.where(columns[None, :] < opened[:, None], _iou_with_clusters(box, fused), -1.0)
        best_iou, best = iou.max(dim=1)
        joins = best_iou > iou_threshold
        target = torch.where(joins, best, opened).clamp_(max=width - 1)  # padding steps of full rows
        gate = on.to(torch.float64)
        box_sum[rows, target] += box * (score * gate)[:, None]
        score_sum[rows, target] += score * gate
        size[rows, target] += gate
        fused[rows, target] = box_sum[rows, target] / score_sum[rows, target].clamp(min=1e-300)[:, None]
        opened += (on & ~joins).to(torch.int64)

    exists = columns[None, :] < opened[:, None]  # (K, W)
    cluster_size = size[exists]
    fused_scores = score_sum[exists] / cluster_size * cluster_size.clamp(max=len(per_model)) / weights.sum()
    fused_labels = rows[:, None].expand(classes, width)[exists]
    order = torch.sort(fused_scores, descending=True, stable=True).indices
    return Detections(
        boxes=fused[exists][order].to(torch.float32),
        scores=fused_scores[order].to(torch.float32),
        labels=fused_labels[order],
    )
