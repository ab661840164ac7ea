"""Helpers shared by the fusion tests: random detections and conversions to and from reference tuples."""

from __future__ import annotations

import numpy as np
import torch

from streamer.types import EAD2019_CLASSES, Detections


def to_detections(
    rows: list[tuple[tuple[float, float, float, float], float, int]],
    classes: tuple[str, ...] = EAD2019_CLASSES,
) -> Detections:
    """Detections from (box, score, label) rows (float32 boxes and scores), labels indexing `classes`."""
    if not rows:
        return Detections.empty(classes)
    return Detections(
        boxes=torch.tensor([r[0] for r in rows], dtype=torch.float32),
        scores=torch.tensor([r[1] for r in rows], dtype=torch.float32),
        labels=torch.tensor([r[2] for r in rows], dtype=torch.int64),
        classes=classes,
    )


def to_rows(detections: Detections) -> list[tuple[tuple[float, float, float, float], float, int]]:
    """(box, score, label) rows with the exact float values of the tensors."""
    return [
        (tuple(float(v) for v in box), float(score), int(label))
        for box, score, label in zip(
            detections.boxes.tolist(), detections.scores.tolist(), detections.labels.tolist(), strict=True
        )
    ]


def random_rows(
    rng: np.random.Generator, count: int, *, objects: np.ndarray, tied: bool, classes: int = 7
) -> list[tuple[tuple[float, float, float, float], float, int]]:
    """`count` detections scattered around `objects` (O, 5: cx, cy, w, h, label) in a 512-pixel frame.

    tied: coordinates on an 8-pixel grid and scores in quarters, so equal overlaps and equal sums occur.
    """
    rows = []
    for _ in range(count):
        cx, cy, w, h, label = objects[rng.integers(len(objects))]
        if rng.random() < 0.2:
            label = rng.integers(classes)
        if tied:
            jitter = rng.integers(-1, 2, 4) * 8.0
            score = float(rng.choice([0.25, 0.5, 0.75, 1.0]))
        else:
            jitter = rng.normal(0.0, 6.0, 4)
            score = float(np.float32(rng.uniform(0.0, 1.0)))
        x1, y1 = cx - w / 2 + jitter[0], cy - h / 2 + jitter[1]
        x2, y2 = cx + w / 2 + jitter[2], cy + h / 2 + jitter[3]
        box = tuple(float(np.float32(v)) for v in (x1, y1, max(x2, x1 + 1.0), max(y2, y1 + 1.0)))
        rows.append((box, score, int(label)))
    return rows


def random_objects(rng: np.random.Generator, count: int, *, tied: bool, classes: int = 7) -> np.ndarray:
    """(count, 5) objects: cx, cy, w, h, label; on an 8-pixel grid when tied."""
    centers = rng.integers(4, 60, (count, 2)) * 8.0 if tied else rng.uniform(30, 480, (count, 2))
    sizes = rng.integers(2, 12, (count, 2)) * 8.0 if tied else rng.uniform(10, 160, (count, 2))
    labels = rng.integers(0, classes, (count, 1)).astype(np.float64)
    return np.concatenate([centers, sizes, labels], axis=1)
