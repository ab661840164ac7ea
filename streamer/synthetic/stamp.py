"""Stamp: the pixel mask of one drawn artefact, and its tight visible box inside a view."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, eq=False)
class Stamp:
    """One drawn artefact. mask: (h, w) bool of the pixels it covers, its top-left at (x, y) in the
    coordinates of the image it was drawn on; area: number of True pixels in mask."""

    label: int
    x: int
    y: int
    mask: np.ndarray

    @classmethod
    def from_mask(cls, label: int, x: int, y: int, mask: np.ndarray) -> Stamp | None:
        """A stamp cropped to the bounding box of `mask` (placed at x, y); None if the mask is empty."""
        rows = np.flatnonzero(mask.any(axis=1))
        cols = np.flatnonzero(mask.any(axis=0))
        if rows.size == 0:
            return None
        crop = mask[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
        return cls(label=label, x=x + int(cols[0]), y=y + int(rows[0]), mask=np.ascontiguousarray(crop))

    @property
    def area(self) -> int:
        return int(np.count_nonzero(self.mask))


def visible_box(
    stamp: Stamp, dx: int, dy: int, visible: np.ndarray, min_fraction: float = 0.25
) -> tuple[int, int, int, int] | None:
    """Tight box (x1, y1, x2, y2 exclusive, view pixels) of the stamp's pixels that are visible.

    dx, dy: the stamp's offset into the view (view = stamp coordinates minus the view origin);
    visible: (H, W) bool, pixels of the view where the stamp can be seen (field of view, not occluded).
    Returns None when less than `min_fraction` of the stamp (or fewer than 4 pixels) is visible or the box
    is thinner than 2 pixels.
    """
    height, width = visible.shape
    h, w = stamp.mask.shape
    left, top = stamp.x - dx, stamp.y - dy
    x0, y0 = max(left, 0), max(top, 0)
    x1, y1 = min(left + w, width), min(top + h, height)
    if x1 <= x0 or y1 <= y0:
        return None
    seen = stamp.mask[y0 - top : y1 - top, x0 - left : x1 - left] & visible[y0:y1, x0:x1]
    if np.count_nonzero(seen) < max(4.0, min_fraction * stamp.area):
        return None
    rows = np.flatnonzero(seen.any(axis=1))
    cols = np.flatnonzero(seen.any(axis=0))
    box = (x0 + int(cols[0]), y0 + int(rows[0]), x0 + int(cols[-1]) + 1, y0 + int(rows[-1]) + 1)
    if box[2] - box[0] < 2 or box[3] - box[1] < 2:
        return None
    return box
