"""PNG plots of evaluation results, drawn with matplotlib's object API (Agg canvas, no global state)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from streamer.errors import SinkError
from streamer.evaluate.classification import QualityMetrics, RocCurve
from streamer.evaluate.detection_score import DetectionScore, monotone_precision


def plot_detection(score: DetectionScore, folder: Path) -> list[Path]:
    """Per-class AP/IoU bars and precision-recall curves; returns the written files."""
    return [
        _save(_class_bars(score), folder / "ap_per_class.png"),
        _save(_pr_curves(score), folder / "pr_curves.png"),
    ]


def plot_quality(metrics: QualityMetrics, folder: Path) -> list[Path]:
    """Confusion matrix and, when both classes are present, the ROC curve; returns the written files."""
    written = [_save(_confusion(metrics), folder / "confusion.png")]
    if metrics.roc is not None:
        written.append(_save(_roc(metrics.roc, metrics), folder / "roc.png"))
    return written


def _class_bars(score: DetectionScore) -> Figure:
    names = list(score.per_class)
    ap = np.array([score.per_class[n].ap for n in names]) * 100
    iou = np.array([score.per_class[n].iou for n in names]) * 100
    figure = Figure(figsize=(8, 4.5), layout="constrained")
    axes = figure.add_subplot()
    x = np.arange(len(names))
    for offset, values, label in ((-0.2, ap, "AP"), (0.2, iou, "IoU")):
        bars = axes.bar(x + offset, values, width=0.4, label=label)
        axes.bar_label(bars, fmt="%.1f", fontsize=8)
    axes.axhline(
        score.mean_ap * 100, color="C0", linestyle="--", linewidth=1, label=f"mAP {score.mean_ap:.1%}"
    )
    axes.axhline(
        score.mean_iou * 100, color="C1", linestyle=":", linewidth=1, label=f"IoU {score.mean_iou:.1%}"
    )
    axes.set_xticks(x, names, rotation=20)
    axes.set_ylabel("%")
    axes.set_ylim(0, 100)
    axes.set_title(f"{score.metric.upper()} per class, score {score.score:.1%}")
    axes.legend(loc="upper right")
    return figure


def _pr_curves(score: DetectionScore) -> Figure:
    figure = Figure(figsize=(8, 5), layout="constrained")
    axes = figure.add_subplot()
    for colour, (name, result) in enumerate(score.per_class.items()):
        if result.recall.size == 0:
            axes.plot([], [], color=f"C{colour}", label=f"{name} (no predictions)")
            continue
        recall = np.r_[0.0, result.recall]  # (N + 1,) from the origin
        envelope = monotone_precision(result.precision)
        axes.plot(recall[1:], result.precision, color=f"C{colour}", alpha=0.3, linewidth=0.8)
        axes.plot(
            recall,
            np.r_[envelope[0], envelope],
            color=f"C{colour}",
            drawstyle="steps-pre",
            label=f"{name} (AP {result.ap:.1%})",
        )
    axes.set_xlim(0, 1)
    axes.set_ylim(0, 1.02)
    axes.set_xlabel("recall")
    axes.set_ylabel("precision")
    axes.set_title(f"precision-recall at IoU {score.iou_thresholds[0]:.2f} (faint: raw, bold: interpolated)")
    axes.legend(loc="upper left", bbox_to_anchor=(1.02, 1), fontsize=8)
    return figure


def _roc(roc: RocCurve, metrics: QualityMetrics) -> Figure:
    figure = Figure(figsize=(5, 5), layout="constrained")
    axes = figure.add_subplot()
    axes.plot(roc.false_positive_rate, roc.true_positive_rate, marker=".", label="classifier")
    axes.plot([0, 1], [0, 1], color="grey", linestyle="--", linewidth=1, label="chance")
    fpr = metrics.confusion[0, 1] / max(metrics.confusion[0].sum(), 1)
    axes.plot([fpr], [metrics.recall], "o", color="C3", label=f"p_bad >= {metrics.threshold:g}")
    axes.set_xlim(0, 1)
    axes.set_ylim(0, 1)
    axes.set_xlabel("false positive rate (good called bad)")
    axes.set_ylabel("true positive rate (bad called bad)")
    axes.set_title(f"ROC, AUC {roc.auc:.3f}")
    axes.legend(loc="lower right")
    return figure


def _confusion(metrics: QualityMetrics) -> Figure:
    figure = Figure(figsize=(4.5, 4), layout="constrained")
    axes = figure.add_subplot()
    image = axes.imshow(metrics.confusion, cmap="Blues", vmin=0)
    figure.colorbar(image, ax=axes)
    peak = metrics.confusion.max()
    for (row, column), count in np.ndenumerate(metrics.confusion):
        colour = "white" if count > peak / 2 else "black"
        axes.text(column, row, str(count), ha="center", va="center", color=colour, fontsize=14)
    axes.set_xticks([0, 1], ["good", "bad"])
    axes.set_yticks([0, 1], ["good", "bad"])
    axes.set_xlabel("predicted")
    axes.set_ylabel("truth")
    axes.set_title(f"confusion, accuracy {metrics.accuracy:.1%}")
    return figure


def _save(figure: Figure, path: Path) -> Path:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        figure.savefig(path, dpi=120)
    except OSError as error:
        raise SinkError(f"cannot write plot {path}: {error}") from error
    return path
