"""The rule that labels a frame good or bad from its EAD boxes, and the cause fractions behind it.

A frame is **bad** when the union of its `blur`, `contrast` and `saturation` boxes covers at least half of
the image area, otherwise good. Areas are exact unions of axis-aligned rectangles (overlaps count once).
The causes a user can act on are reported as fractions of the frame: blur (`blur` boxes), exposure
(`contrast` boxes: over-, under-exposed or low-contrast regions) and saturation (`saturation` boxes).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from streamer.types import QUALITY_CAUSES

BAD_COVERAGE = 0.5  # a frame is bad when the degraded boxes cover at least this share of its area
CAUSE_CLASSES: dict[str, str] = {"blur": "blur", "exposure": "contrast", "saturation": "saturation"}
DEGRADED_CLASSES: tuple[str, ...] = tuple(CAUSE_CLASSES[cause] for cause in QUALITY_CAUSES)


def union_area(boxes: np.ndarray) -> float:
    """Exact area of the union of (N, 4) x1 y1 x2 y2 boxes (any units; empty or inverted boxes add 0)."""
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    boxes = boxes[(boxes[:, 2] > boxes[:, 0]) & (boxes[:, 3] > boxes[:, 1])]
    if len(boxes) == 0:
        return 0.0
    xs = np.unique(boxes[:, [0, 2]])
    ys = np.unique(boxes[:, [1, 3]])
    x_mid = (xs[:-1] + xs[1:]) / 2  # (X-1,) centres of the elementary columns
    y_mid = (ys[:-1] + ys[1:]) / 2
    inside_x = (boxes[:, 0, None] <= x_mid) & (x_mid <= boxes[:, 2, None])  # (N, X-1)
    inside_y = (boxes[:, 1, None] <= y_mid) & (y_mid <= boxes[:, 3, None])  # (N, Y-1)
    covered = (inside_y[:, :, None] & inside_x[:, None, :]).any(axis=0)  # (Y-1, X-1)
    cell_areas = np.diff(ys)[:, None] * np.diff(xs)[None, :]
    return float(cell_areas[covered].sum())


@dataclass(frozen=True)
class QualityTruth:
    """A frame's label by the rule: `bad`, the share of the frame its degraded boxes cover (`coverage`,
    0–1, the union of all three kinds) and the share per cause (`causes`, keyed by QUALITY_CAUSES)."""

    bad: bool
    coverage: float
    causes: dict[str, float]


def label_frame(boxes: np.ndarray, labels: Sequence[str], width: float, height: float) -> QualityTruth:
    """The rule applied to one frame: boxes (N, 4) x1 y1 x2 y2 in pixels of a width×height image, labels
    (N,) class names. Boxes are clipped to the image first."""
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4).copy()
    boxes[:, [0, 2]] = boxes[:, [0, 2]].clip(0, width)
    boxes[:, [1, 3]] = boxes[:, [1, 3]].clip(0, height)
    names = np.asarray(list(labels), dtype=object)
    area = float(width) * float(height)
    if area <= 0:
        raise ValueError(f"image size must be positive, got {width}x{height}")
    causes = {
        cause: union_area(boxes[names == CAUSE_CLASSES[cause]]) / area if len(names) else 0.0
        for cause in QUALITY_CAUSES
    }
    degraded = np.isin(names, DEGRADED_CLASSES) if len(names) else np.zeros(0, bool)
    coverage = union_area(boxes[degraded]) / area
    return QualityTruth(bad=coverage >= BAD_COVERAGE, coverage=coverage, causes=causes)
