"""Field of view of an endoscope: a circular or octagonal lit disc on black, and its vignetting."""

from __future__ import annotations

import cv2
import numpy as np


def fov_mask(rng: np.random.Generator, width: int, height: int) -> np.ndarray:
    """A random circular or octagonal field of view centred in the frame.

    Returns (height, width) bool, True inside the lit area.
    """
    mask = np.zeros((height, width), np.uint8)
    cx, cy = width / 2.0, height / 2.0
    short = min(width, height)
    if rng.random() < 0.5:
        radius = short / 2.0 * rng.uniform(0.98, 1.12)
        cv2.circle(mask, (round(cx), round(cy)), round(radius), 1, thickness=-1, lineType=cv2.LINE_8)
    else:
        half = short / 2.0 * rng.uniform(1.0, 1.06)
        cut = half * rng.uniform(0.55, 0.7)
        half_w = half * rng.uniform(1.0, 1.15) if width > height else half
        corners = np.array(
            [
                (-half_w + cut, -half),
                (half_w - cut, -half),
                (half_w, -half + cut),
                (half_w, half - cut),
                (half_w - cut, half),
                (-half_w + cut, half),
                (-half_w, half - cut),
                (-half_w, -half + cut),
            ],
            np.float64,
        )
        points = np.round(corners + np.array((cx, cy))).astype(np.int32)  # (8, 2) x y
        cv2.fillConvexPoly(mask, points, 1, lineType=cv2.LINE_8)
    return mask.astype(bool)


def vignette(width: int, height: int, strength: float) -> np.ndarray:
    """Radial light fall-off: (height, width) float32, 1 at the centre, 1 - strength at the short radius."""
    ys = (np.arange(height, dtype=np.float32) - height / 2.0) / (min(width, height) / 2.0)
    xs = (np.arange(width, dtype=np.float32) - width / 2.0) / (min(width, height) / 2.0)
    radius2 = ys[:, None] ** 2 + xs[None, :] ** 2  # (H, W)
    return np.clip(1.0 - strength * radius2**1.3, 0.0, 1.0).astype(np.float32)
