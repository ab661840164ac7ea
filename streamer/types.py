"""Data records carried through every stage: Frame, Detections, Verdict, FrameResult.

Images are H×W×3 uint8 RGB everywhere inside streamer; conversion happens at the edges.
Boxes are x1, y1, x2, y2 in pixels of the frame they refer to.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np
import torch

from streamer.errors import DataError

EAD2019_CLASSES: tuple[str, ...] = (
    "specularity",
    "saturation",
    "artifact",
    "blur",
    "contrast",
    "bubbles",
    "instrument",
)
EAD2020_CLASSES: tuple[str, ...] = (*EAD2019_CLASSES, "blood")


@dataclass(frozen=True, eq=False)
class Frame:
    """One captured video frame.

    index: 0-based position in the source; pts: presentation timestamp in `time_base` units
    (seconds = pts * time_base); captured_ns: `time.monotonic_ns()` when the frame left the source;
    image: H×W×3 uint8 RGB; decode_ns: time the source spent producing it (ns).
    """

    index: int
    pts: int
    time_base: float
    captured_ns: int
    source: str
    image: np.ndarray
    decode_ns: int = 0

    def __post_init__(self) -> None:
        image = self.image
        if (
            not isinstance(image, np.ndarray)
            or image.dtype != np.uint8
            or image.ndim != 3
            or image.shape[2] != 3
        ):
            shape = getattr(image, "shape", None)
            dtype = getattr(image, "dtype", None)
            raise ValueError(f"Frame.image must be H×W×3 uint8, got shape {shape} dtype {dtype}")
        if self.index < 0:
            raise ValueError(f"Frame.index must be >= 0, got {self.index}")

    @property
    def height(self) -> int:
        return int(self.image.shape[0])

    @property
    def width(self) -> int:
        return int(self.image.shape[1])

    @property
    def seconds(self) -> float:
        """Presentation time in seconds."""
        return self.pts * self.time_base


RECORD_BOX_DECIMALS = 2  # a record's box keeps 0.01 px
RECORD_SCORE_DECIMALS = 4  # and its score 1e-4


@dataclass(frozen=True, eq=False)
class Detections:
    """The boxes of one image: a detector's output, or ground truth (`scores` None).

    boxes: (N, 4) float32 or float64 x1 y1 x2 y2 in pixels of the source image; scores: (N,) float
    confidences in [0, 1], or None for ground truth; labels: (N,) int64 indices into `classes`, the class
    names (a detector's come from its model manifest, a label file's from the file). Tensors stay on
    their device (the pipeline's on the GPU) until `numpy()`, `names`, `rounded()` or `to_records()`.

    Records are the JSON form (frames.jsonl): `{"box": [x1, y1, x2, y2], "score": s, "label": name}`, no
    "score" for ground truth; `to_records` writes them, `from_records` reads them.
    """

    boxes: torch.Tensor
    scores: torch.Tensor | None
    labels: torch.Tensor
    classes: tuple[str, ...]

    def __post_init__(self) -> None:
        n = self.boxes.shape[0] if self.boxes.ndim == 2 else -1
        if self.boxes.ndim != 2 or self.boxes.shape[1] != 4 or not self.boxes.is_floating_point():
            raise ValueError(
                f"Detections.boxes must be (N, 4) floats, got {tuple(self.boxes.shape)} {self.boxes.dtype}"
            )
        if self.scores is not None and tuple(self.scores.shape) != (n,):
            raise ValueError(f"Detections.scores must be ({n},), got {tuple(self.scores.shape)}")
        if tuple(self.labels.shape) != (n,):
            raise ValueError(f"Detections.labels must be ({n},), got {tuple(self.labels.shape)}")
        if self.labels.dtype != torch.int64:
            raise ValueError(f"Detections.labels must be int64, got {self.labels.dtype}")
        if not isinstance(self.classes, tuple):
            raise ValueError(f"Detections.classes must be a tuple of class names, got {type(self.classes)}")

    @classmethod
    def empty(cls, classes: tuple[str, ...], device: torch.device | str = "cpu") -> Detections:
        """No boxes (an empty prediction, with scores), on `device`."""
        return cls(
            boxes=torch.zeros((0, 4), dtype=torch.float32, device=device),
            scores=torch.zeros((0,), dtype=torch.float32, device=device),
            labels=torch.zeros((0,), dtype=torch.int64, device=device),
            classes=classes,
        )

    @classmethod
    def from_names(
        cls,
        boxes: np.ndarray,
        names: Sequence[str],
        scores: np.ndarray | None = None,
        classes: tuple[str, ...] = EAD2019_CLASSES,
    ) -> Detections:
        """From (N, 4) pixel boxes, one class name per box and (N,) scores or None, as float64 CPU tensors.

        Labels index `classes`; a name not in it is added after its classes, in order of appearance.
        """
        index: dict[str, int] = {}
        for i, name in enumerate(classes):
            index.setdefault(name, i)
        known = list(classes)
        labels = []
        for name in names:
            if name not in index:
                index[name] = len(known)
                known.append(name)
            labels.append(index[name])
        return cls(
            boxes=torch.from_numpy(np.ascontiguousarray(boxes, dtype=np.float64).reshape(len(labels), 4)),
            scores=None
            if scores is None
            else torch.from_numpy(np.ascontiguousarray(scores, dtype=np.float64)),
            labels=torch.tensor(labels, dtype=torch.int64),
            classes=tuple(known),
        )

    @classmethod
    def from_records(
        cls, records: Iterable[Mapping[str, object]], classes: tuple[str, ...] = EAD2019_CLASSES
    ) -> Detections:
        """From records {box: [x1, y1, x2, y2], score?, label} (`to_records`), as float64 CPU tensors.

        label: a class name, or an index into `classes`; names not in `classes` are added after them.
        The detections have scores when the records have them (all or none; an empty list has none).
        """
        records = list(records)
        try:
            names = [_class_name(r["label"], classes) for r in records]
            boxes = np.array([[float(v) for v in r["box"]] for r in records], dtype=np.float64)  # (N, 4)
            has_scores = ["score" in r for r in records]
            scores = np.array([float(r["score"]) for r in records]) if records and all(has_scores) else None
        except (KeyError, TypeError, ValueError) as error:
            raise DataError(f"detection record without a valid box/label/score: {error}") from error
        if any(has_scores) and scores is None:
            raise DataError("detection records mix entries with and without a score")
        if records and boxes.shape != (len(records), 4):
            raise DataError(f"detection boxes must have 4 values each, got shape {boxes.shape}")
        return cls.from_names(boxes.reshape(len(records), 4), names, scores, classes)

    def __len__(self) -> int:
        return int(self.boxes.shape[0])

    @property
    def names(self) -> tuple[str, ...]:
        """The class name of each box."""
        return tuple(self.classes[label] for label in self.labels.tolist())

    def filter(self, keep: torch.Tensor) -> Detections:
        """A new Detections with the rows selected by a boolean mask or index tensor."""
        return Detections(
            self.boxes[keep],
            None if self.scores is None else self.scores[keep],
            self.labels[keep],
            self.classes,
        )

    def to(self, device: torch.device | str) -> Detections:
        """A copy on `device`."""
        return Detections(
            self.boxes.to(device),
            None if self.scores is None else self.scores.to(device),
            self.labels.to(device),
            self.classes,
        )

    def numpy(self) -> tuple[np.ndarray, np.ndarray | None, np.ndarray]:
        """(boxes (N, 4) float64, scores (N,) float64 or None, labels (N,) int64) as arrays on the CPU."""
        boxes = self.boxes.detach().cpu().numpy().astype(np.float64, copy=False)
        scores = (
            None if self.scores is None else self.scores.detach().cpu().numpy().astype(np.float64, copy=False)
        )
        return boxes, scores, self.labels.detach().cpu().numpy()

    def rounded(self) -> Detections:
        """These detections as their records hold them: float64 on the CPU, boxes rounded to 0.01 px and
        scores to 1e-4 (what every output file of a run holds)."""
        boxes, scores, labels = self._record_values()
        return Detections(
            torch.tensor(boxes, dtype=torch.float64).reshape(-1, 4),
            None if scores is None else torch.tensor(scores, dtype=torch.float64),
            torch.tensor(labels, dtype=torch.int64),
            self.classes,
        )

    def to_records(self) -> list[dict[str, object]]:
        """JSON-ready records in box order: {box: [x1, y1, x2, y2] to 0.01 px, score to 1e-4 (not for
        ground truth), label: class name}."""
        boxes, scores, labels = self._record_values()
        records: list[dict[str, object]] = []
        for i, (box, label) in enumerate(zip(boxes, labels, strict=True)):
            record: dict[str, object] = {"box": box}
            if scores is not None:
                record["score"] = scores[i]
            record["label"] = self.classes[label]
            records.append(record)
        return records

    def _record_values(self) -> tuple[list[list[float]], list[float] | None, list[int]]:
        """(boxes, scores or None, labels) as Python numbers, rounded as records keep them."""
        boxes = [[round(v, RECORD_BOX_DECIMALS) for v in box] for box in self.boxes.detach().cpu().tolist()]
        scores = None
        if self.scores is not None:
            scores = [round(v, RECORD_SCORE_DECIMALS) for v in self.scores.detach().cpu().tolist()]
        return boxes, scores, self.labels.detach().cpu().tolist()


def _class_name(label: object, classes: tuple[str, ...]) -> str:
    """A record's label as a class name: a name as it is, an index looked up in `classes`."""
    if isinstance(label, (int, np.integer)) and not isinstance(label, bool):
        if not 0 <= label < len(classes):
            raise DataError(f"class index {label} is outside 0..{len(classes) - 1}")
        return classes[label]
    if isinstance(label, str) and label and not any(c.isspace() for c in label):
        return label
    raise DataError(f"invalid class label {label!r}: expected a name without spaces or a class index")


QUALITY_CAUSES: tuple[str, ...] = ("blur", "exposure", "saturation")  # what a quality gate explains
MAIN_CAUSE_SHARE = 0.25  # a cause covering this share of the frame is named on the overlay


class QualityLabel(StrEnum):
    GOOD = "good"
    BAD = "bad"


@dataclass(frozen=True)
class Verdict:
    """Frame quality decision.

    label: the decision (after any hysteresis); p_bad: the classifier's probability that the frame is bad;
    causes: share of the frame (0–1) that is blurred, badly exposed and saturated, keyed by QUALITY_CAUSES
    (empty when the classifier gives none); frame_label: the frame's own label before hysteresis (None when
    no hysteresis ran).
    """

    label: QualityLabel
    p_bad: float
    causes: Mapping[str, float] = field(default_factory=dict)
    frame_label: QualityLabel | None = None

    def __post_init__(self) -> None:
        if not 0.0 <= self.p_bad <= 1.0:
            raise ValueError(f"Verdict.p_bad must be in [0, 1], got {self.p_bad}")

    @property
    def is_good(self) -> bool:
        return self.label is QualityLabel.GOOD

    def main_causes(self, at_least: float = MAIN_CAUSE_SHARE) -> list[str]:
        """Causes covering at least `at_least` of the frame, largest first; the largest alone when none does."""
        ranked = sorted(self.causes, key=lambda cause: -self.causes[cause])
        chosen = [cause for cause in ranked if self.causes[cause] >= at_least]
        return chosen or ranked[:1]


@dataclass
class FrameResult:
    """Everything known about one frame after processing.

    stamps_ns: monotonic timestamps (ns) at the end of each stage, keyed by stage name, in stage order;
    dropped: None, or the reason the frame was not processed.
    """

    frame: Frame
    verdict: Verdict | None = None
    detections: Detections | None = None
    stamps_ns: dict[str, int] = field(default_factory=dict)
    dropped: str | None = None

    def latency_ms(self) -> dict[str, float]:
        """Per-stage latency (ms): `decode`, then each stage from the previous stamp, and `e2e` from capture
        to the last stamp."""
        latencies: dict[str, float] = {"decode": self.frame.decode_ns / 1e6}
        previous = self.frame.captured_ns
        for stage, stamp in self.stamps_ns.items():
            latencies[stage] = (stamp - previous) / 1e6
            previous = stamp
        if self.stamps_ns:
            latencies["e2e"] = (previous - self.frame.captured_ns) / 1e6
        return latencies
