"""Accuracy guard for INT8 models: how far INT8 outputs drift from FP32 outputs on held-out frames.

Detector: FP32 detections (score >= `truth_threshold`) are taken as ground truth and INT8 detections
(score >= `candidate_threshold`, ranked by score) as predictions; the EAD2019-style score is
0.6 * mAP@IoU0.5 + 0.4 * mean best IoU of the truth boxes, in points (FP32 against itself scores 100),
and box agreement is the share of truth boxes that an INT8 box of the same class overlaps with IoU >= 0.5.
Classifier: the share of frames whose good/bad label (p_bad >= 0.5) is the same.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch

from streamer.backends.base import Engine

MATCH_IOU = 0.5
MAP_WEIGHT, IOU_WEIGHT = 0.6, 0.4


@dataclass(frozen=True)
class GuardBounds:
    """Largest accepted loss: detector score points lost, classifier share of labels changed."""

    max_score_loss_points: float = 1.0
    max_label_disagreement: float = 0.01
    truth_threshold: float = 0.3
    candidate_threshold: float = 0.05
    nms_iou: float = 0.5
    max_detections: int = 100


@dataclass
class GuardReport:
    """Outcome of the guard; `metrics` depend on the task (see module docstring)."""

    model: str
    task: str
    frames: int
    passed: bool
    reason: str
    metrics: dict[str, float]
    bounds: GuardBounds
    files: dict[str, str] = field(default_factory=dict)

    def write(self, path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(asdict(self), indent=2) + "\n")
        return path


def box_iou(first: torch.Tensor, second: torch.Tensor) -> torch.Tensor:
    """IoU matrix (N, M) of boxes (N, 4) and (M, 4), x1 y1 x2 y2 pixels."""
    top_left = torch.maximum(first[:, None, :2], second[None, :, :2])
    bottom_right = torch.minimum(first[:, None, 2:], second[None, :, 2:])
    intersection = (bottom_right - top_left).clamp(min=0).prod(dim=2)
    area_first = (first[:, 2:] - first[:, :2]).clamp(min=0).prod(dim=1)
    area_second = (second[:, 2:] - second[:, :2]).clamp(min=0).prod(dim=1)
    return intersection / (area_first[:, None] + area_second[None, :] - intersection).clamp(min=1e-9)


def decode(
    boxes: torch.Tensor, scores: torch.Tensor, threshold: float, nms_iou: float, max_detections: int
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """One image's raw outputs -> (boxes (N, 4), scores (N,), labels (N,)) after per-class greedy NMS.

    boxes: (A, 4) x1 y1 x2 y2 pixels; scores: (A, K) per-class probabilities.
    """
    anchor_index, labels = torch.nonzero(scores >= threshold, as_tuple=True)
    kept_scores = scores[anchor_index, labels]
    order = kept_scores.argsort(descending=True)[: max_detections * 10]
    candidates, candidate_scores, candidate_labels = boxes[anchor_index[order]], kept_scores[order], labels[order]
    keep: list[int] = []
    suppressed = torch.zeros(len(order), dtype=torch.bool)
    same_class = candidate_labels[:, None] == candidate_labels[None, :]
    overlaps = (box_iou(candidates, candidates) > nms_iou) & same_class
    for index in range(len(order)):
        if suppressed[index]:
            continue
        keep.append(index)
        if len(keep) == max_detections:
            break
        suppressed |= overlaps[index]
    kept = torch.tensor(keep, dtype=torch.int64)
    return candidates[kept], candidate_scores[kept], candidate_labels[kept]


def _average_precision(hits: np.ndarray, confidences: np.ndarray, truth_count: int) -> float:
    """All-point interpolated AP from per-prediction hit flags and confidences."""
    if truth_count == 0:
        return 0.0 if len(hits) else 1.0
    if len(hits) == 0:
        return 0.0
    order = np.argsort(-confidences, kind="stable")
    true_positives = np.cumsum(hits[order])
    recall = true_positives / truth_count
    precision = true_positives / np.arange(1, len(hits) + 1)
    envelope = np.maximum.accumulate(precision[::-1])[::-1]
    recall_steps = np.diff(np.concatenate([[0.0], recall]))
    return float(np.sum(recall_steps * envelope))


def detection_agreement(
    truth: list[tuple[torch.Tensor, torch.Tensor, torch.Tensor]],
    predicted: list[tuple[torch.Tensor, torch.Tensor, torch.Tensor]],
    class_count: int,
    strong_score: float,
) -> dict[str, float]:
    """EAD2019-style score (points), mAP, IoU and box agreement of `predicted` against `truth`.

    Each list holds one (boxes (N, 4), scores (N,), labels (N,)) per image. The mAP covers the classes
    with truth boxes or with predictions scoring >= `strong_score`; with none, the agreement is perfect.
    """
    hits: dict[int, list[float]] = {k: [] for k in range(class_count)}
    confidences: dict[int, list[float]] = {k: [] for k in range(class_count)}
    truth_counts = dict.fromkeys(range(class_count), 0)
    best_ious: list[float] = []
    for (truth_boxes, _, truth_labels), (boxes, scores, labels) in zip(truth, predicted, strict=True):
        for label in range(class_count):
            truth_k = truth_boxes[truth_labels == label]
            mask = labels == label
            boxes_k, scores_k = boxes[mask], scores[mask]
            truth_counts[label] += len(truth_k)
            ious = box_iou(boxes_k, truth_k)  # (P, T)
            if len(truth_k):
                best_ious.extend(ious.max(dim=0).values.tolist() if len(boxes_k) else [0.0] * len(truth_k))
            matched = torch.zeros(len(truth_k), dtype=torch.bool)
            for index in scores_k.argsort(descending=True).tolist():
                candidates = ious[index].clone()
                candidates[matched] = -1.0
                hit = len(truth_k) > 0 and float(candidates.max()) >= MATCH_IOU
                if hit:
                    matched[int(candidates.argmax())] = True
                hits[label].append(float(hit))
                confidences[label].append(float(scores_k[index]))
    strong = {k for k in range(class_count) if any(c >= strong_score for c in confidences[k])}
    present = [k for k in range(class_count) if truth_counts[k] or k in strong]
    if not present:  # no truth and no confident prediction: both models see nothing
        return {"score_points": 100.0, "map": 1.0, "iou": 1.0, "box_agreement": 1.0, "truth_boxes": 0.0}
    average_precisions = [
        _average_precision(np.asarray(hits[k]), np.asarray(confidences[k]), truth_counts[k]) for k in present
    ]
    mean_ap = float(np.mean(average_precisions))
    mean_iou = float(np.mean(best_ious)) if best_ious else 0.0
    total_truth = sum(truth_counts.values())
    agreement = (
        float(np.mean([iou >= MATCH_IOU for iou in best_ious])) if total_truth else 0.0
    )
    return {
        "score_points": 100.0 * (MAP_WEIGHT * mean_ap + IOU_WEIGHT * (mean_iou if total_truth else 1.0)),
        "map": mean_ap,
        "iou": mean_iou,
        "box_agreement": agreement,
        "truth_boxes": float(total_truth),
    }


def _run(engine: Engine, frames: torch.Tensor) -> dict[str, torch.Tensor]:
    """Outputs of `engine` over (N, 3, H, W) `frames`, in batches of its max_batch, concatenated on CPU."""
    chunks = [engine.infer(batch) for batch in frames.split(engine.spec.max_batch)]
    return {name: torch.cat([chunk[name].cpu() for chunk in chunks]) for name in chunks[0]}


def check_int8(
    fp32_engine: Engine, int8_engine: Engine, frames: np.ndarray, bounds: GuardBounds | None = None
) -> GuardReport:
    """Compare `int8_engine` with `fp32_engine` on held-out `frames` (N, 3, H, W) float32 normalised."""
    bounds = bounds or GuardBounds()
    spec = fp32_engine.spec
    batch = torch.from_numpy(frames)
    reference, candidate = _run(fp32_engine, batch), _run(int8_engine, batch)
    if spec.task == "classifier":
        labels_fp32, labels_int8 = reference["p_bad"] >= 0.5, candidate["p_bad"] >= 0.5
        disagreement = float((labels_fp32 != labels_int8).float().mean())
        metrics = {
            "label_agreement": 1.0 - disagreement,
            "max_abs_p_bad_difference": float((reference["p_bad"] - candidate["p_bad"]).abs().max()),
        }
        passed = disagreement <= bounds.max_label_disagreement
        reason = f"labels changed on {disagreement:.1%} of frames (bound {bounds.max_label_disagreement:.1%})"
    else:
        truth = [
            decode(b, s, bounds.truth_threshold, bounds.nms_iou, bounds.max_detections)
            for b, s in zip(reference["boxes"], reference["scores"], strict=True)
        ]
        predicted = [
            decode(b, s, bounds.candidate_threshold, bounds.nms_iou, bounds.max_detections)
            for b, s in zip(candidate["boxes"], candidate["scores"], strict=True)
        ]
        metrics = detection_agreement(truth, predicted, len(spec.classes), bounds.truth_threshold)
        loss = 100.0 - metrics["score_points"]
        metrics["score_loss_points"] = loss
        passed = loss <= bounds.max_score_loss_points
        reason = f"EAD2019-style score loss {loss:.2f} points (bound {bounds.max_score_loss_points:.2f})"
    return GuardReport(
        model=spec.name,
        task=spec.task,
        frames=int(frames.shape[0]),
        passed=passed,
        reason=("accepted: " if passed else "refused: ") + reason,
        metrics=metrics,
        bounds=bounds,
    )
