"""Estimate the lit field of view of an endoscopy frame (the area inside the black border)."""

from __future__ import annotations

import cv2
import numpy as np

# The border is found on a frame shrunk by this factor: the disc edge is smooth, so nothing is lost.
_SHRINK = 4


def estimate_fov(image: np.ndarray, black_level: int = 20, inset: float = 0.02) -> np.ndarray:
    """(H, W) bool mask of the field of view of an (H, W, 3) uint8 RGB frame.

    The largest region brighter than `black_level` (max over channels) is filled (dark areas inside it
    stay in the view) and shrunk by `inset` of the short side, so the dim rim of the disc is excluded.
    A frame with no black border gives a mask of the whole frame.
    """
    height, width = image.shape[:2]
    small = cv2.resize(
        image, (max(width // _SHRINK, 1), max(height // _SHRINK, 1)), interpolation=cv2.INTER_AREA
    )
    red, green, blue = cv2.split(small)
    lit = (cv2.max(cv2.max(red, green), blue) > black_level).astype(np.uint8)  # (h, w)
    contours, _ = cv2.findContours(lit, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    mask = np.zeros(lit.shape, np.uint8)
    if contours:
        largest = max(contours, key=cv2.contourArea)
        cv2.drawContours(mask, [largest], -1, 1, thickness=cv2.FILLED)
        radius = round(inset * min(lit.shape))
        if radius > 0:
            kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
            mask = cv2.erode(mask, kernel)
    return cv2.resize(mask, (width, height), interpolation=cv2.INTER_NEAREST).astype(bool)
