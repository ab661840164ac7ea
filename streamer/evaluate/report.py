"""Printable reports: the per-class detection table (percentages, as the official scorer printed them) and the
quality-classifier summary."""

from __future__ import annotations

from streamer.evaluate.classification import QualityMetrics
from streamer.evaluate.detection_score import METRIC_TITLES, DetectionScore


def format_class_table(score: DetectionScore) -> str:
    """One row per ground-truth class: AP, IoU (percent) and counts of ground truth, predictions, TPs."""
    width = max(len("class"), *(len(name) for name in score.per_class))
    lines = [f"{'class':<{width}}  {'AP':>7}  {'IoU':>7}  {'GT':>6}  {'pred':>6}  {'TP':>6}"]
    for name, result in score.per_class.items():
        lines.append(
            f"{name:<{width}}  {result.ap * 100:6.2f}%  {result.iou * 100:6.2f}%  "
            f"{result.n_ground_truth:6d}  {result.n_predictions:6d}  {result.n_true_positives:6d}"
        )
    return "\n".join(lines)


def format_detection_report(score: DetectionScore) -> str:
    """Title, class table, mAP, IoU, score and the IoU ≤ 1.3 × mAP flag."""
    thresholds = score.iou_thresholds
    if len(thresholds) == 1:
        threshold_text = f"IoU threshold {thresholds[0]:.2f}"
    else:
        threshold_text = f"mean over IoU thresholds {thresholds[0]:.2f}..{thresholds[-1]:.2f}"
    lines = [
        f"{METRIC_TITLES[score.metric]} detection score, {threshold_text}, {score.n_images} images",
        format_class_table(score),
        "",
        f"mAP   = {score.mean_ap * 100:.2f}%",
        f"IoU   = {score.mean_iou * 100:.2f}%",
    ]
    if len(thresholds) > 1:
        lines += [f"mAP@{t:.2f} = {value * 100:.2f}%" for t, value in score.map_at.items()]
    lines += [
        f"score = {score.score * 100:.2f}%  (0.6 × mAP + 0.4 × IoU)",
        f"IoU <= 1.3 × mAP: {'yes' if score.iou_within_limit else 'no'}",
    ]
    return "\n".join(lines)


def format_quality_report(metrics: QualityMetrics, n_without_prediction: int = 0) -> str:
    """Accuracy, sensitivity, specificity, balanced accuracy, precision, F1, AUC, κ (bad = positive class)
    and the confusion matrix."""
    (tn, fp), (fn, tp) = metrics.confusion.tolist()
    auc = "undefined (one class in the ground truth)" if metrics.auc is None else f"{metrics.auc:.4f}"
    lines = [
        f"quality classifier, {tn + fp + fn + tp} frames, bad when p_bad >= {metrics.threshold:g}",
        f"accuracy          = {metrics.accuracy:.4f}",
        f"sensitivity (bad) = {metrics.sensitivity:.4f}",
        f"specificity       = {metrics.specificity:.4f}",
        f"balanced accuracy = {metrics.balanced_accuracy:.4f}",
        f"precision         = {metrics.precision:.4f}",
        f"f1                = {metrics.f1:.4f}",
        f"ROC AUC           = {auc}",
        f"Cohen's kappa     = {metrics.kappa:.4f}",
        "confusion (rows truth, columns predicted):",
        "            good     bad",
        f"  good  {tn:8d}{fp:8d}",
        f"  bad   {fn:8d}{tp:8d}",
    ]
    if n_without_prediction:
        lines.append(f"{n_without_prediction} labelled frame(s) had no prediction and were left out")
    return "\n".join(lines)
