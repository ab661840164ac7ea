"""Specular highlights and saturated areas: thresholds on brightness and colour saturation, then
connected components."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

SPECULARITY, SATURATION = 0, 1


@dataclass(frozen=True)
class HighlightThresholds:
    """bright_value: minimum HSV value (0-255) of a highlight pixel; max_saturation: maximum HSV saturation
    (0-255), highlights are near white; clip_value: value counted as clipped; saturation_area: minimum
    area of a saturated region as a fraction of the field of view (smaller bright regions are specular
    highlights); min_area: minimum highlight area in pixels at 512x512 (scaled with the frame area);
    group_gap: half the gap (pixels at 512, scaled with the short side) bridged between blobs of one group;
    min_clipped_share: share of clipped pixels below which a region too large for a highlight is ignored."""

    bright_value: int = 225
    max_saturation: int = 70
    clip_value: int = 250
    saturation_area: float = 0.0025
    min_area: float = 4.0
    group_gap: float = 2.0
    min_clipped_share: float = 0.25


def find_highlights(
    image: np.ndarray, fov: np.ndarray, thresholds: HighlightThresholds
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Bright near-white regions of an (H, W, 3) uint8 RGB image inside the (H, W) bool `fov`.

    Returns boxes (N, 4) float32 x1 y1 x2 y2 pixels (exclusive x2, y2), scores (N,) float32 in [0, 1]
    and labels (N,) int64: SATURATION for regions of at least `saturation_area` of the view,
    SPECULARITY for smaller ones.
    """
    hsv = cv2.cvtColor(image, cv2.COLOR_RGB2HSV)
    low = (0, 0, thresholds.bright_value)
    high = (180, thresholds.max_saturation, 255)
    bright = cv2.inRange(hsv, low, high)  # (H, W) uint8, 255 where near white
    bright = cv2.bitwise_and(bright, bright, mask=np.ascontiguousarray(fov).view(np.uint8))
    # Blobs closer than 2 * gap pixels form one group, as a cluster of highlights is one artefact.
    gap = max(1, round(thresholds.group_gap * min(image.shape[:2]) / 512.0))
    grouped = cv2.dilate(bright, np.ones((2 * gap + 1, 2 * gap + 1), np.uint8))
    count, ids, stats, _ = cv2.connectedComponentsWithStatsWithAlgorithm(
        grouped, 8, cv2.CV_32S, cv2.CCL_GRANA
    )
    if count <= 1:
        return np.zeros((0, 4), np.float32), np.zeros(0, np.float32), np.zeros(0, np.int64)
    where = np.flatnonzero(bright)  # (P,) flat index of every bright pixel
    members = ids.ravel()[where]  # (P,) group id of every bright pixel
    value = hsv[..., 2].ravel()[where]  # (P,)
    saturation = hsv[..., 1].ravel()[where]  # (P,)
    areas = np.bincount(members, minlength=count).astype(np.float32)  # (count,) bright pixels per group
    mean_value = np.bincount(members, weights=value, minlength=count) / np.maximum(areas, 1)
    mean_sat = np.bincount(members, weights=saturation, minlength=count) / np.maximum(areas, 1)
    clipped = value >= thresholds.clip_value
    clipped_share = np.bincount(members, weights=clipped, minlength=count) / np.maximum(areas, 1)

    scale = image.shape[0] * image.shape[1] / (512.0 * 512.0)
    big_enough = areas >= max(3.0, thresholds.min_area * scale)
    is_saturation = areas >= thresholds.saturation_area * max(int(np.count_nonzero(fov)), 1)
    # A large bright region that is hardly clipped is pale tissue (fat, fascia), not over-exposure.
    pale = is_saturation & (clipped_share < thresholds.min_clipped_share)
    keep = np.flatnonzero(big_enough & ~pale)
    keep = keep[keep != 0]  # component 0 is the background
    x, y = stats[keep, cv2.CC_STAT_LEFT], stats[keep, cv2.CC_STAT_TOP]
    w, h = stats[keep, cv2.CC_STAT_WIDTH], stats[keep, cv2.CC_STAT_HEIGHT]
    # Undo the dilation: the group's box shrinks back to its bright pixels (exact away from the image edge).
    boxes = np.stack([x + gap, y + gap, x + w - gap, y + h - gap], axis=1).astype(np.float32)  # (N, 4)
    span = 255.0 - thresholds.bright_value
    brightness = np.clip((mean_value[keep] - thresholds.bright_value) / span, 0.0, 1.0)
    whiteness = np.clip(1.0 - mean_sat[keep] / thresholds.max_saturation, 0.0, 1.0)
    specular_score = 0.3 + 0.4 * brightness + 0.3 * whiteness
    saturation_score = 0.3 + 0.7 * clipped_share[keep]
    saturated = is_saturation[keep]
    scores = np.where(saturated, saturation_score, specular_score).astype(np.float32)
    labels = np.where(saturated, SATURATION, SPECULARITY).astype(np.int64)
    return boxes, scores, labels
