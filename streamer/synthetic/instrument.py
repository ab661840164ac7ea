"""A metallic instrument entering the view from the border: dark shaft, steel tip, jaws, specular streak."""

from __future__ import annotations

import numpy as np

INSTRUMENT = 6


class Instrument:
    """An instrument on a fixed axis in view coordinates; `draw(view, tip)` pushes its tip `tip` pixels
    along the axis from the entry point. Shading maps are computed once, so each frame only thresholds."""

    def __init__(self, rng: np.random.Generator, width: int, height: int, scale: float) -> None:
        cx, cy = width / 2.0, height / 2.0
        entry_angle = rng.uniform(0, 2 * np.pi)
        reach = 0.5 * np.hypot(width, height) + 20.0 * scale
        ex, ey = cx + reach * np.cos(entry_angle), cy + reach * np.sin(entry_angle)
        heading = entry_angle + np.pi + rng.uniform(-0.4, 0.4)
        dx, dy = np.cos(heading), np.sin(heading)
        self.half_width = rng.uniform(16.0, 38.0) * scale
        self.metal_length = self.half_width * rng.uniform(2.0, 4.0)
        self.jaw_length = self.half_width * rng.uniform(1.2, 2.2)
        self.jaw_gap = rng.uniform(0.0, 0.6)
        # Tip travel along the axis: from just entering to past the centre of the view.
        self.tip_range = (reach - 0.35 * min(width, height), reach + 0.15 * min(width, height))

        ys = np.arange(height, dtype=np.float32)[:, None] - np.float32(ey)
        xs = np.arange(width, dtype=np.float32)[None, :] - np.float32(ex)
        along = xs * np.float32(dx) + ys * np.float32(dy)  # (H, W) pixels from the entry point
        across = -xs * np.float32(dy) + ys * np.float32(dx)  # (H, W) signed pixels from the axis
        near = np.abs(across) < self.half_width + 2.0
        rows = np.flatnonzero(near.any(axis=1))
        cols = np.flatnonzero(near.any(axis=0))
        self.window = (
            (int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1) if rows.size else None
        )
        if self.window is None:
            return
        x0, y0, x1, y1 = self.window
        self.along = along[y0:y1, x0:x1]
        self.across = across[y0:y1, x0:x1] / np.float32(self.half_width)  # (h, w), -1..1 across the shaft
        cylinder = np.sqrt(np.clip(1.0 - self.across**2, 0.0, 1.0))
        streak_at = rng.uniform(-0.5, 0.1)
        streak = np.exp(-(((self.across - streak_at) / 0.1) ** 2)) * rng.uniform(0.6, 1.0)
        steel = np.array(rng.uniform((150, 150, 155), (190, 190, 200)), np.float32)
        shaft = np.array(rng.uniform((30, 30, 32), (70, 70, 75)), np.float32)
        shade = (0.3 + 0.7 * cylinder)[..., None]
        glare = (streak * 255.0)[..., None]
        self.steel_rgb = np.clip(steel * shade + glare, 0, 255).astype(np.uint8)  # (h, w, 3)
        self.shaft_rgb = np.clip(shaft * shade + glare * 0.6, 0, 255).astype(np.uint8)  # (h, w, 3)

    def tip_at(self, phase: float) -> float:
        """Tip position for phase in [0, 1] (0: just entering, 1: deepest)."""
        low, high = self.tip_range
        return low + (high - low) * phase

    def draw(self, view: np.ndarray, tip: float) -> np.ndarray:
        """Paint the instrument with its tip at `tip`; returns (H, W) bool mask of the painted pixels."""
        mask = np.zeros(view.shape[:2], bool)
        if self.window is None:
            return mask
        x0, y0, x1, y1 = self.window
        inside = np.abs(self.across) <= 1.0
        beyond = self.along - np.float32(tip)  # (h, w) pixels past the tip
        shaft = inside & (beyond < 0.0)
        jaw_pos = np.clip(beyond / np.float32(self.jaw_length), 0.0, 1.0)
        open_gap = np.abs(self.across) < self.jaw_gap * jaw_pos
        jaws = (beyond >= 0.0) & (beyond < self.jaw_length) & (np.abs(self.across) < 1.0 - 0.7 * jaw_pos)
        painted = shaft | (jaws & ~open_gap)
        metal = beyond >= -self.metal_length
        patch = view[y0:y1, x0:x1]
        patch[painted & metal] = self.steel_rgb[painted & metal]
        patch[painted & ~metal] = self.shaft_rgb[painted & ~metal]
        mask[y0:y1, x0:x1] = painted
        return mask
