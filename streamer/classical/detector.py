"""ClassicalDetector: hand-written artefact detection (specularity, saturation, blur, contrast) with the
interface of a learned detector."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import torch

from streamer.classical.fov import estimate_fov
from streamer.classical.highlights import HighlightThresholds, find_highlights
from streamer.classical.tiles import TileThresholds, find_blur_and_contrast
from streamer.errors import DataError
from streamer.types import EAD2019_CLASSES, Detections


@dataclass(frozen=True)
class ClassicalConfig:
    """Thresholds of every classical measure; fov_black_level: max channel value (0-255) of the black
    border around the field of view."""

    highlights: HighlightThresholds = field(default_factory=HighlightThresholds)
    tiles: TileThresholds = field(default_factory=TileThresholds)
    fov_black_level: int = 20


class ClassicalDetector:
    """Finds specular highlights and saturated areas by thresholds and connected components, blurred and
    dark low-contrast regions by tile statistics; classes never produced: artifact, bubbles, instrument.
    Boxes are float32 pixels of the image given; scores in [0, 1] grow with the strength of the statistic;
    labels index the EAD2019 classes."""

    def __init__(self, config: ClassicalConfig | None = None) -> None:
        self.config = config or ClassicalConfig()

    def detect(self, image: np.ndarray) -> Detections:
        """Detections in one (H, W, 3) uint8 RGB image."""
        if (
            not isinstance(image, np.ndarray)
            or image.dtype != np.uint8
            or image.ndim != 3
            or image.shape[2] != 3
        ):
            raise DataError(
                f"ClassicalDetector needs an (H, W, 3) uint8 RGB image, got {getattr(image, 'shape', None)} "
                f"{getattr(image, 'dtype', None)}"
            )
        image = np.ascontiguousarray(image)
        fov = estimate_fov(image, self.config.fov_black_level)
        light = find_highlights(image, fov, self.config.highlights)
        regions = find_blur_and_contrast(image, fov, self.config.tiles)
        boxes = np.concatenate([light[0], regions[0]])
        height, width = image.shape[:2]
        np.clip(boxes, 0, (width, height, width, height), out=boxes)
        return Detections(
            boxes=torch.from_numpy(boxes),
            scores=torch.from_numpy(np.concatenate([light[1], regions[1]])),
            labels=torch.from_numpy(np.concatenate([light[2], regions[2]])),
            classes=EAD2019_CLASSES,
        )

    def detect_batch(self, images: Sequence[np.ndarray]) -> list[Detections]:
        """Detections for each (H, W, 3) uint8 RGB image, in order."""
        return [self.detect(image) for image in images]
