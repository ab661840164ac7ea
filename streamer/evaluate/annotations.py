"""BoxSet: the boxes of one image, as ground truth (no scores) or predictions (with scores).

Every reader in streamer.evaluate produces `dict[image_id, BoxSet]`, image ids being file stems;
every scorer consumes that mapping. Boxes are x1 y1 x2 y2 in pixels of the image.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np

from streamer.errors import DataError
from streamer.types import EAD2019_CLASSES


def class_name(label: object) -> str:
    """A class name from a name or an index into EAD2019_CLASSES."""
    if isinstance(label, (int, np.integer)) and not isinstance(label, bool):
        if not 0 <= label < len(EAD2019_CLASSES):
            raise DataError(f"class index {label} is outside 0..{len(EAD2019_CLASSES) - 1}")
        return EAD2019_CLASSES[label]
    if isinstance(label, str) and label and not any(c.isspace() for c in label):
        return label
    raise DataError(f"invalid class label {label!r}: expected a name without spaces or an EAD2019 index")


@dataclass(frozen=True, eq=False)
class BoxSet:
    """Boxes of one image.

    labels: class names, one per box; boxes: (N, 4) float64 x1 y1 x2 y2 pixels;
    scores: (N,) float64 confidences, or None for ground truth.
    """

    labels: tuple[str, ...]
    boxes: np.ndarray
    scores: np.ndarray | None = None

    def __post_init__(self) -> None:
        n = len(self.labels)
        if self.boxes.shape != (n, 4):
            raise ValueError(f"BoxSet.boxes must be ({n}, 4), got {self.boxes.shape}")
        if self.scores is not None and self.scores.shape != (n,):
            raise ValueError(f"BoxSet.scores must be ({n},), got {self.scores.shape}")

    @classmethod
    def empty(cls, with_scores: bool) -> BoxSet:
        """No boxes; `with_scores` makes it an (empty) prediction set."""
        return cls((), np.zeros((0, 4)), np.zeros((0,)) if with_scores else None)

    @classmethod
    def from_records(cls, records: Iterable[Mapping[str, object]]) -> BoxSet:
        """From records {box: [x1, y1, x2, y2], label, score?: float} (`Detections.to_records`).

        label: a class name or an index into EAD2019_CLASSES.

        The set has scores when the records have them (all or none).
        """
        records = list(records)
        if not records:
            return cls.empty(with_scores=False)
        try:
            labels = tuple(class_name(r["label"]) for r in records)
            boxes = np.array([[float(v) for v in r["box"]] for r in records], dtype=np.float64)  # (N, 4)
            has_scores = ["score" in r for r in records]
            scores = np.array([float(r["score"]) for r in records]) if all(has_scores) else None
        except (KeyError, TypeError, ValueError) as error:
            raise DataError(f"detection record without a valid box/label/score: {error}") from error
        if any(has_scores) and scores is None:
            raise DataError("detection records mix entries with and without a score")
        if boxes.shape != (len(records), 4):
            raise DataError(f"detection boxes must have 4 values each, got shape {boxes.shape}")
        return cls(labels, boxes, scores)

    def to_records(self) -> list[dict[str, object]]:
        """JSON-ready records {box, label, score?}, in box order."""
        records: list[dict[str, object]] = []
        for i, label in enumerate(self.labels):
            record: dict[str, object] = {"box": [float(v) for v in self.boxes[i]], "label": label}
            if self.scores is not None:
                record["score"] = float(self.scores[i])
            records.append(record)
        return records

    def __len__(self) -> int:
        return len(self.labels)
