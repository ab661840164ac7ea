"""The classical detector behind the Engine interface, so it can run in the pipeline and join an ensemble."""

from __future__ import annotations

import torch

from streamer.backends.base import EngineSpec
from streamer.classical.detector import ClassicalDetector
from streamer.errors import ModelError
from streamer.preprocessing import denormalise
from streamer.types import EAD2019_CLASSES

CLASSICAL_DETECTOR_INPUT = (512, 512)  # (H, W) the thresholds were tuned at, like EAD2019 frames


class ClassicalDetectorEngine:
    """Denormalises the batch, runs ClassicalDetector per image, and pads the results into the detector
    engine contract: {"boxes": (B, A, 4) input pixels, "scores": (B, A, K)} with A = most boxes of an image
    (padding rows score 0). `classes`: the run's class list; the classical detector's EAD2019 classes are
    placed at their names' columns (each must be in the list)."""

    backend = "classical"

    def __init__(self, device: str = "cpu", classes: tuple[str, ...] = EAD2019_CLASSES) -> None:
        missing = [name for name in EAD2019_CLASSES if name not in classes]
        if missing:
            raise ModelError(f"the classical detector's classes {missing} are not among the run's {classes}")
        self.spec = EngineSpec(
            name="classical-detector",
            task="detector",
            classes=classes,
            input_size=CLASSICAL_DETECTOR_INPUT,
        )
        self._columns = torch.tensor([classes.index(name) for name in EAD2019_CLASSES])
        self.device = torch.device(device)
        self._detector = ClassicalDetector()

    def infer(self, batch: torch.Tensor) -> dict[str, torch.Tensor]:
        images = denormalise(batch, self.spec.mean, self.spec.std)  # (B, H, W, 3) uint8
        found = [self._detector.detect(image) for image in images]
        anchors = max((len(d) for d in found), default=0)
        boxes = torch.zeros((len(found), anchors, 4))
        scores = torch.zeros((len(found), anchors, len(self.spec.classes)))
        for row, detections in enumerate(found):
            count = len(detections)
            boxes[row, :count] = detections.boxes
            scores[row, torch.arange(count), self._columns[detections.labels]] = detections.scores
        return {"boxes": boxes.to(self.device), "scores": scores.to(self.device)}

    def close(self) -> None:
        """Nothing to release."""
