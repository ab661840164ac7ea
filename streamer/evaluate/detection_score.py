"""The EAD2019 detection score, computed as the challenge's official scorer did, and its EndoCV2020 variant.

Rules (EAD2019, IoU threshold 0.25):
- per class, the predictions of all images are pooled (images in the order of the predictions mapping,
  boxes in file order) and sorted by descending confidence, ties keeping that order;
- each prediction is matched to the same-class ground-truth box of its image with the highest IoU (the first
  such box on ties); it is a true positive if that IoU >= threshold and the box is not used yet, otherwise a
  false positive (no fall-back to the next best box);
- pixel areas use the +1 convention (width = x2 - x1 + 1); boxes overlap only when both sides are > 0;
- AP is the VOC2012 all-point interpolated area; a class's IoU is the mean over its predictions with false
  positives counting 0;
- mAP and IoU average over the classes present in the ground truth; score = 0.6 mAP + 0.4 IoU.
Confidences are compared as numbers (the official scorer compared their text, the same for plain decimals).
EndoCV2020 averages mAP and IoU over the thresholds 0.25, 0.30, ..., 0.75.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from streamer.errors import DataError
from streamer.types import Detections

Metric = Literal["ead2019", "endocv2020"]
METRIC_TITLES: dict[str, str] = {"ead2019": "EAD2019", "endocv2020": "EndoCV2020"}
EAD2019_IOU_THRESHOLD = 0.25
# The official EndoCV2020 thresholds, bit for bit: np.arange(0.25, 0.80, 0.05), first 11 values.
ENDOCV2020_IOU_THRESHOLDS: tuple[float, ...] = tuple(float(t) for t in np.arange(0.25, 0.80, 0.05)[:11])
ENDOCV2020_REPORTED_THRESHOLDS: tuple[float, ...] = (0.25, 0.5, 0.75)
MAP_WEIGHT = 0.6
IOU_WEIGHT = 0.4
IOU_TO_MAP_LIMIT = 1.3


@dataclass(frozen=True, eq=False)
class ClassResult:
    """One class's result. precision, recall: (n_predictions,) curve over the confidence-sorted predictions
    at the first IoU threshold; ap and iou are fractions (averaged over thresholds for EndoCV2020)."""

    name: str
    ap: float
    iou: float
    n_ground_truth: int
    n_predictions: int
    n_true_positives: int
    precision: np.ndarray
    recall: np.ndarray


@dataclass(frozen=True, eq=False)
class DetectionScore:
    """mAP, IoU and score as fractions; per_class in alphabetical order (ground-truth classes only)."""

    metric: Metric
    iou_thresholds: tuple[float, ...]
    per_class: dict[str, ClassResult]
    mean_ap: float
    mean_iou: float
    n_images: int
    map_at: dict[float, float] = field(default_factory=dict)

    @property
    def score(self) -> float:
        """0.6 × mAP + 0.4 × IoU."""
        return MAP_WEIGHT * self.mean_ap + IOU_WEIGHT * self.mean_iou

    @property
    def iou_within_limit(self) -> bool:
        """The challenge's sanity flag: IoU ≤ 1.3 × mAP."""
        return self.mean_iou <= IOU_TO_MAP_LIMIT * self.mean_ap

    def to_json(self) -> dict[str, object]:
        """JSON-ready report with fractions."""
        return {
            "metric": self.metric,
            "mAP": self.mean_ap,
            "IoU": self.mean_iou,
            "score": self.score,
            "iou_within_1.3_mAP": self.iou_within_limit,
            "n_images": self.n_images,
            "iou_thresholds": [round(t, 2) for t in self.iou_thresholds],
            "mAP_at": {f"{t:.2f}": v for t, v in self.map_at.items()},
            "per_class": {
                name: {
                    "AP": result.ap,
                    "IoU": result.iou,
                    "ground_truth": result.n_ground_truth,
                    "predictions": result.n_predictions,
                    "true_positives": result.n_true_positives,
                }
                for name, result in self.per_class.items()
            },
        }


def score_detections(
    ground_truth: Mapping[str, Detections], predictions: Mapping[str, Detections], metric: Metric = "ead2019"
) -> DetectionScore:
    """Score predictions (with scores) against ground truth (scores not read); both keyed by the same image
    ids, boxes in pixels, classes compared by name.

    Equal confidences rank in the order of `predictions` (images), then of each image's boxes.
    """
    matches = _match_best_boxes(ground_truth, predictions)
    classes = sorted(set(matches.gt_labels.tolist()))
    if not classes:
        raise DataError("the ground truth has no boxes; the detection score is undefined")
    if metric == "ead2019":
        per_class = _score_classes(matches, classes, EAD2019_IOU_THRESHOLD)
        mean_ap, mean_iou = _class_means(per_class)
        return DetectionScore(
            metric,
            (EAD2019_IOU_THRESHOLD,),
            per_class,
            mean_ap,
            mean_iou,
            len(ground_truth),
            {EAD2019_IOU_THRESHOLD: mean_ap},
        )
    if metric == "endocv2020":
        return _score_endocv2020(matches, classes, len(ground_truth))
    raise ValueError(f"unknown metric {metric!r}")


def voc_ap(recall: np.ndarray, precision: np.ndarray) -> float:
    """VOC2012 all-point AP: precision made monotone from the right, summed where recall changes.

    recall, precision: (N,) over confidence-sorted predictions. Summed left to right like the official code.
    """
    mrec = np.concatenate([[0.0], recall, [1.0]])  # (N + 2,)
    mpre = np.concatenate([[0.0], monotone_precision(precision), [0.0]])  # (N + 2,)
    changes = np.flatnonzero(mrec[1:] != mrec[:-1]) + 1
    terms = (mrec[changes] - mrec[changes - 1]) * mpre[changes]
    return float(np.add.accumulate(terms)[-1]) if terms.size else 0.0


def monotone_precision(precision: np.ndarray) -> np.ndarray:
    """(N,) precision made non-increasing: each point takes the best precision at its recall or beyond."""
    return np.maximum.accumulate(precision[::-1])[::-1]


def pairwise_iou(boxes: np.ndarray, others: np.ndarray) -> np.ndarray:
    """IoU with the +1 pixel convention of the EAD2019 scorer (kept here so the scores match it exactly;
    streamer.ops.boxes has the continuous one). boxes: (M, 4), others: (G, 4) x1 y1 x2 y2 pixels.

    Returns (M, G) float64, -1 where the boxes do not overlap (an intersection side <= 0).
    """
    a, b = boxes[:, None, :], others[None, :, :]  # (M, 1, 4), (1, G, 4)
    inter_w = np.minimum(a[..., 2], b[..., 2]) - np.maximum(a[..., 0], b[..., 0]) + 1  # (M, G)
    inter_h = np.minimum(a[..., 3], b[..., 3]) - np.maximum(a[..., 1], b[..., 1]) + 1  # (M, G)
    inter = inter_w * inter_h
    union = (
        (a[..., 2] - a[..., 0] + 1) * (a[..., 3] - a[..., 1] + 1)
        + (b[..., 2] - b[..., 0] + 1) * (b[..., 3] - b[..., 1] + 1)
        - inter
    )
    overlaps = (inter_w > 0) & (inter_h > 0)
    iou = np.full(inter.shape, -1.0)
    np.divide(inter, union, out=iou, where=overlaps)
    return iou


@dataclass(frozen=True, eq=False)
class _Matches:
    """All predictions pooled in image order; best_gt: (P,) pooled index of the best same-class ground-truth
    box in the same image, -1 if none overlaps; best_iou: (P,) its IoU, -1 if none."""

    labels: np.ndarray
    scores: np.ndarray
    best_gt: np.ndarray
    best_iou: np.ndarray
    gt_labels: np.ndarray


def _match_best_boxes(
    ground_truth: Mapping[str, Detections], predictions: Mapping[str, Detections]
) -> _Matches:
    _check_same_images(ground_truth, predictions)
    labels, scores, best_gt, best_iou, gt_labels = [], [], [], [], []
    gt_offset = 0
    for image_id, pred in predictions.items():  # the official scorer pooled predictions in file-name order
        gt = ground_truth[image_id]
        pred_boxes, pred_scores, _ = pred.numpy()
        gt_boxes, _, _ = gt.numpy()
        if pred_scores is None:
            raise DataError(f"predictions for {image_id} have no confidences")
        pred_names, gt_names = pred.names, gt.names
        iou = pairwise_iou(pred_boxes, gt_boxes)  # (M, G)
        other_class = np.array(pred_names, dtype=object)[:, None] != np.array(gt_names, dtype=object)[None, :]
        iou[other_class] = -1.0  # (M, G)
        if gt_boxes.shape[0]:
            best = np.argmax(iou, axis=1)  # first box on ties, like a strict `>` scan
            best_iou.append(iou[np.arange(len(pred)), best])
            best_gt.append(np.where(best_iou[-1] > -1.0, best + gt_offset, -1))
        else:
            best_iou.append(np.full(len(pred), -1.0))
            best_gt.append(np.full(len(pred), -1))
        labels.extend(pred_names)
        scores.append(pred_scores)
        gt_labels.extend(gt_names)
        gt_offset += len(gt)
    return _Matches(
        labels=np.array(labels, dtype=object),
        scores=np.concatenate(scores) if scores else np.zeros(0),
        best_gt=np.concatenate(best_gt).astype(np.int64) if best_gt else np.zeros(0, np.int64),
        best_iou=np.concatenate(best_iou) if best_iou else np.zeros(0),
        gt_labels=np.array(gt_labels, dtype=object),
    )


def _check_same_images(ground_truth: Mapping[str, Detections], predictions: Mapping[str, Detections]) -> None:
    """The official scorer required one prediction file per ground-truth file and the reverse."""
    for missing, side in (
        (ground_truth.keys() - predictions.keys(), "predictions"),
        (predictions.keys() - ground_truth.keys(), "ground truth"),
    ):
        if missing:
            names = ", ".join(sorted(missing)[:5]) + (", ..." if len(missing) > 5 else "")
            raise DataError(f"{len(missing)} image(s) have no {side}: {names}")


def _score_classes(matches: _Matches, classes: list[str], threshold: float) -> dict[str, ClassResult]:
    results = {}
    for name in classes:
        members = np.flatnonzero(matches.labels == name)
        order = members[
            np.argsort(-matches.scores[members], kind="stable")
        ]  # descending, ties in input order
        best_gt, best_iou = matches.best_gt[order], matches.best_iou[order]
        candidates = np.flatnonzero(best_iou >= threshold)
        _, first_use = np.unique(
            best_gt[candidates], return_index=True
        )  # a box counts for its first claimant
        true_positive = np.zeros(order.size, dtype=bool)
        true_positive[candidates[first_use]] = True
        n_ground_truth = int(np.count_nonzero(matches.gt_labels == name))
        tp_cumulative = np.cumsum(true_positive)
        recall = tp_cumulative / n_ground_truth
        precision = tp_cumulative / np.arange(1, order.size + 1)
        iou = float(np.mean(np.where(true_positive, best_iou, 0.0))) if order.size else 0.0
        results[name] = ClassResult(
            name,
            voc_ap(recall, precision),
            iou,
            n_ground_truth,
            int(order.size),
            int(true_positive.sum()),
            precision,
            recall,
        )
    return results


def _class_means(per_class: dict[str, ClassResult]) -> tuple[float, float]:
    """mAP and IoU over the classes, summed in class order like the official code."""
    n = len(per_class)
    return sum(r.ap for r in per_class.values()) / n, sum(r.iou for r in per_class.values()) / n


def _score_endocv2020(matches: _Matches, classes: list[str], n_images: int) -> DetectionScore:
    per_threshold = [_score_classes(matches, classes, t) for t in ENDOCV2020_IOU_THRESHOLDS]
    means = np.array([_class_means(results) for results in per_threshold])  # (T, 2) mAP, IoU
    map_at = {t: _class_means(_score_classes(matches, classes, t))[0] for t in ENDOCV2020_REPORTED_THRESHOLDS}
    first = per_threshold[0]
    per_class = {
        name: ClassResult(
            name,
            float(np.mean([results[name].ap for results in per_threshold])),
            float(np.mean([results[name].iou for results in per_threshold])),
            first[name].n_ground_truth,
            first[name].n_predictions,
            first[name].n_true_positives,
            first[name].precision,
            first[name].recall,
        )
        for name in classes
    }
    return DetectionScore(
        "endocv2020",
        ENDOCV2020_IOU_THRESHOLDS,
        per_class,
        float(np.mean(means[:, 0])),
        float(np.mean(means[:, 1])),
        n_images,
        map_at,
    )
