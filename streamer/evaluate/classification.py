"""Metrics of the good/bad frame-quality classifier; "bad" is the positive class.

Written with numpy (a handful of formulas) to keep the runtime dependencies small.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from streamer.errors import DataError


@dataclass(frozen=True, eq=False)
class RocCurve:
    """ROC points, one per distinct p_bad (descending) after the origin.

    false_positive_rate, true_positive_rate, thresholds: (K,); a frame is called bad when p_bad >= threshold;
    the first threshold is +inf (nothing called bad).
    """

    false_positive_rate: np.ndarray
    true_positive_rate: np.ndarray
    thresholds: np.ndarray

    @property
    def auc(self) -> float:
        """Area under the curve (trapezoids)."""
        return float(np.trapezoid(self.true_positive_rate, self.false_positive_rate))


@dataclass(frozen=True, eq=False)
class QualityMetrics:
    """Metrics at one threshold (fractions). confusion: (2, 2) counts, rows = truth (good, bad),
    columns = prediction (good, bad). roc is None when the ground truth holds a single class."""

    threshold: float
    accuracy: float
    precision: float
    recall: float
    f1: float
    kappa: float
    confusion: np.ndarray
    roc: RocCurve | None

    @property
    def auc(self) -> float | None:
        return None if self.roc is None else self.roc.auc

    @property
    def sensitivity(self) -> float:
        """Share of bad frames called bad (recall of "bad")."""
        return self.recall

    @property
    def specificity(self) -> float:
        """Share of good frames called good; 0 when there are none."""
        good = self.confusion[0].sum()
        return float(self.confusion[0, 0] / good) if good else 0.0

    @property
    def balanced_accuracy(self) -> float:
        """Mean of sensitivity and specificity."""
        return (self.sensitivity + self.specificity) / 2

    def to_json(self) -> dict[str, object]:
        """JSON-ready report; roc thresholds use null for +inf."""
        roc = None
        if self.roc is not None:
            roc = [
                {"fpr": float(f), "tpr": float(t), "threshold": None if np.isinf(th) else float(th)}
                for f, t, th in zip(
                    self.roc.false_positive_rate,
                    self.roc.true_positive_rate,
                    self.roc.thresholds,
                    strict=True,
                )
            ]
        return {
            "n": int(self.confusion.sum()),
            "threshold": self.threshold,
            "accuracy": self.accuracy,
            "precision": self.precision,
            "recall": self.recall,
            "sensitivity": self.sensitivity,
            "specificity": self.specificity,
            "balanced_accuracy": self.balanced_accuracy,
            "f1": self.f1,
            "auc": self.auc,
            "kappa": self.kappa,
            "confusion": {
                "rows": "truth good, bad",
                "columns": "predicted good, bad",
                "counts": self.confusion.tolist(),
            },
            "roc": roc,
        }


def quality_metrics(is_bad: np.ndarray, p_bad: np.ndarray, threshold: float = 0.5) -> QualityMetrics:
    """Metrics at `threshold`: a frame is called bad when p_bad >= threshold.

    is_bad: (N,) bool ground truth; p_bad: (N,) probability that the frame is bad.
    """
    is_bad = np.asarray(is_bad, dtype=bool)
    p_bad = np.asarray(p_bad, dtype=np.float64)
    if is_bad.shape != p_bad.shape or is_bad.ndim != 1:
        raise ValueError(f"is_bad and p_bad must be equal (N,) arrays, got {is_bad.shape} and {p_bad.shape}")
    if is_bad.size == 0:
        raise DataError("no frames to evaluate: ground truth and predictions have no index in common")
    called_bad = p_bad >= threshold
    confusion = np.array(
        [
            [np.sum(~is_bad & ~called_bad), np.sum(~is_bad & called_bad)],
            [np.sum(is_bad & ~called_bad), np.sum(is_bad & called_bad)],
        ],
        dtype=np.int64,
    )
    (tn, fp), (fn, tp) = confusion
    n = is_bad.size
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return QualityMetrics(
        threshold=threshold,
        accuracy=float((tp + tn) / n),
        precision=float(precision),
        recall=float(recall),
        f1=float(f1),
        kappa=cohen_kappa(confusion),
        confusion=confusion,
        roc=roc_curve(is_bad, p_bad) if 0 < is_bad.sum() < n else None,
    )


def cohen_kappa(confusion: np.ndarray) -> float:
    """Cohen's κ of a (K, K) confusion matrix; 0 when chance agreement is 1 (one class everywhere)."""
    total = confusion.sum()
    observed = np.trace(confusion) / total
    expected = float(np.sum(confusion.sum(axis=0) * confusion.sum(axis=1))) / total**2
    return 0.0 if expected == 1.0 else float((observed - expected) / (1.0 - expected))


def roc_curve(is_bad: np.ndarray, p_bad: np.ndarray) -> RocCurve:
    """ROC over all distinct thresholds; needs both classes in is_bad (N,)."""
    order = np.argsort(-p_bad, kind="stable")
    sorted_p, sorted_bad = p_bad[order], is_bad[order]
    group_ends = np.r_[np.flatnonzero(sorted_p[1:] != sorted_p[:-1]), sorted_p.size - 1]
    true_positives = np.cumsum(sorted_bad)[group_ends]
    false_positives = group_ends + 1 - true_positives
    return RocCurve(
        false_positive_rate=np.r_[0.0, false_positives / np.count_nonzero(~is_bad)],
        true_positive_rate=np.r_[0.0, true_positives / np.count_nonzero(is_bad)],
        thresholds=np.r_[np.inf, sorted_p[group_ends]],
    )


def best_balanced_threshold(is_bad: np.ndarray, p_bad: np.ndarray) -> float:
    """The p_bad threshold with the highest balanced accuracy (Youden's J) over the observed values: the
    midpoint between that value and the next lower one, so that nearby scores fall the same way; 0.5 when
    the ground truth holds a single class."""
    is_bad = np.asarray(is_bad, dtype=bool)
    p_bad = np.asarray(p_bad, dtype=np.float64)
    if not 0 < is_bad.sum() < is_bad.size:
        return 0.5
    roc = roc_curve(is_bad, p_bad)
    best = int(np.argmax(roc.true_positive_rate[1:] - roc.false_positive_rate[1:])) + 1
    values = roc.thresholds
    lower = values[best + 1] if best + 1 < len(values) else 0.0
    return float((values[best] + lower) / 2)
