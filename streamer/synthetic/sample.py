"""SyntheticSample: one generated image with its exact artefact boxes."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, eq=False)
class SyntheticSample:
    """image: (H, W, 3) uint8 RGB; boxes: (N, 4) float32 x1 y1 x2 y2 pixels (x2, y2 exclusive edges);
    labels: (N,) int64 indices into EAD2019_CLASSES."""

    image: np.ndarray
    boxes: np.ndarray
    labels: np.ndarray

    def __post_init__(self) -> None:
        if self.image.dtype != np.uint8 or self.image.ndim != 3 or self.image.shape[2] != 3:
            raise ValueError(f"image must be (H, W, 3) uint8, got {self.image.shape} {self.image.dtype}")
        n = len(self.labels)
        if self.boxes.shape != (n, 4) or self.boxes.dtype != np.float32:
            raise ValueError(f"boxes must be ({n}, 4) float32, got {self.boxes.shape} {self.boxes.dtype}")
        if self.labels.dtype != np.int64 or self.labels.ndim != 1:
            raise ValueError(f"labels must be (N,) int64, got {self.labels.shape} {self.labels.dtype}")
