"""Data records carried through every stage: Frame, Detections, Verdict, FrameResult.

Images are H×W×3 uint8 RGB everywhere inside streamer; conversion happens at the edges.
Boxes are x1, y1, x2, y2 in pixels of the frame they refer to.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np
import torch

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


@dataclass(frozen=True, eq=False)
class Detections:
    """Detected boxes of one image.

    boxes: (N, 4) float32 x1 y1 x2 y2 in source-frame pixels; scores: (N,) float32 in [0, 1];
    labels: (N,) int64 indices into the detectors' class list; model_ids: optional (N,) int64, which ensemble
    member produced each box (before fusion). Tensors stay on their device until `to_numpy`.
    """

    boxes: torch.Tensor
    scores: torch.Tensor
    labels: torch.Tensor
    model_ids: torch.Tensor | None = None

    def __post_init__(self) -> None:
        n = self.boxes.shape[0] if self.boxes.ndim == 2 else -1
        if self.boxes.ndim != 2 or self.boxes.shape[1] != 4:
            raise ValueError(f"Detections.boxes must be (N, 4), got {tuple(self.boxes.shape)}")
        if tuple(self.scores.shape) != (n,):
            raise ValueError(f"Detections.scores must be ({n},), got {tuple(self.scores.shape)}")
        if tuple(self.labels.shape) != (n,):
            raise ValueError(f"Detections.labels must be ({n},), got {tuple(self.labels.shape)}")
        if self.model_ids is not None and tuple(self.model_ids.shape) != (n,):
            raise ValueError(f"Detections.model_ids must be ({n},), got {tuple(self.model_ids.shape)}")
        if self.labels.dtype != torch.int64:
            raise ValueError(f"Detections.labels must be int64, got {self.labels.dtype}")

    @classmethod
    def empty(cls, device: torch.device | str = "cpu") -> Detections:
        """No detections, on `device`."""
        return cls(
            boxes=torch.zeros((0, 4), dtype=torch.float32, device=device),
            scores=torch.zeros((0,), dtype=torch.float32, device=device),
            labels=torch.zeros((0,), dtype=torch.int64, device=device),
        )

    def __len__(self) -> int:
        return int(self.boxes.shape[0])

    def filter(self, keep: torch.Tensor) -> Detections:
        """A new Detections with the rows selected by a boolean mask or index tensor."""
        return Detections(
            boxes=self.boxes[keep],
            scores=self.scores[keep],
            labels=self.labels[keep],
            model_ids=None if self.model_ids is None else self.model_ids[keep],
        )

    def to(self, device: torch.device | str) -> Detections:
        """A copy on `device`."""
        return Detections(
            boxes=self.boxes.to(device),
            scores=self.scores.to(device),
            labels=self.labels.to(device),
            model_ids=None if self.model_ids is None else self.model_ids.to(device),
        )

    def to_records(self, class_names: tuple[str, ...] = EAD2019_CLASSES) -> list[dict[str, object]]:
        """JSON-ready list of {box: [x1, y1, x2, y2], score, label: class name}."""
        boxes = self.boxes.detach().cpu().numpy()
        scores = self.scores.detach().cpu().numpy()
        labels = self.labels.detach().cpu().numpy()
        return [
            {
                "box": [round(float(v), 2) for v in box],
                "score": round(float(score), 4),
                "label": class_names[int(label)],
            }
            for box, score, label in zip(boxes, scores, labels, strict=True)
        ]


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
