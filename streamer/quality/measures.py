"""Classical focus and exposure measures, used to explain why a frame was judged bad."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

FOCUS_BLURRY = (
    120.0  # variance of the Laplacian (grey levels²) at ~160 px under which a frame looks defocused
)
DARK_MEAN = 40.0  # mean grey level (0–255) under which a frame is under-exposed
BRIGHT_MEAN = 210.0  # mean grey level above which a frame is over-exposed
SATURATED_SHARE = 0.15  # share of clipped pixels (>= 250) above which a frame is saturated


@dataclass(frozen=True)
class FrameMeasures:
    """focus: variance of the Laplacian; brightness: mean grey level 0–255; saturated: share of pixels >= 250."""

    focus: float
    brightness: float
    saturated: float

    def reasons(self) -> tuple[str, ...]:
        """Human-readable reasons a frame may be bad, e.g. ("blurry (focus 8.1)",)."""
        found = []
        if self.focus < FOCUS_BLURRY:
            found.append(f"blurry (focus {self.focus:.1f})")
        if self.brightness < DARK_MEAN:
            found.append(f"under-exposed (mean {self.brightness:.0f})")
        if self.brightness > BRIGHT_MEAN:
            found.append(f"over-exposed (mean {self.brightness:.0f})")
        if self.saturated > SATURATED_SHARE:
            found.append(f"saturated ({self.saturated:.0%} clipped)")
        return tuple(found)


def measure(image: np.ndarray) -> FrameMeasures:
    """Measures of an H×W×3 uint8 RGB image (use a downscaled crop: cost grows with pixels)."""
    grey = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    focus = float(cv2.Laplacian(grey, cv2.CV_32F).var())
    return FrameMeasures(
        focus=focus,
        brightness=float(grey.mean()),
        saturated=float((grey >= 250).mean()),
    )
