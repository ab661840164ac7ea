"""A metallic instrument entering the view from the border: dark shaft, steel tip, jaws, specular streak."""

from __future__ import annotations

import cv2
import numpy as np

INSTRUMENT = 6


class Instrument:
    """An instrument on a fixed axis in view coordinates; `draw(view, tip)` pushes its tip `tip` pixels
    along the axis from the entry point (outside the frame). Its shaded colours are computed once for the
    whole view; each frame only fills the outline polygons and copies those colours through them."""

    def __init__(self, rng: np.random.Generator, width: int, height: int, scale: float) -> None:
        cx, cy = width / 2.0, height / 2.0
        entry_angle = rng.uniform(0, 2 * np.pi)
        reach = 0.5 * np.hypot(width, height) + 20.0 * scale
        self.entry = np.array((cx + reach * np.cos(entry_angle), cy + reach * np.sin(entry_angle)))
        heading = entry_angle + np.pi + rng.uniform(-0.4, 0.4)
        self.direction = np.array((np.cos(heading), np.sin(heading)))  # unit vector along the shaft
        self.normal = np.array((-self.direction[1], self.direction[0]))  # unit vector across the shaft
        self.half_width = rng.uniform(16.0, 38.0) * scale
        self.metal_length = self.half_width * rng.uniform(2.0, 4.0)
        self.jaw_length = self.half_width * rng.uniform(1.2, 2.2)
        self.jaw_gap = rng.uniform(0.0, 0.25)
        # Tip travel along the axis: from just entering to past the centre of the view.
        self.tip_range = (reach - 0.35 * min(width, height), reach + 0.15 * min(width, height))

        ys = np.arange(height, dtype=np.float32)[:, None] - np.float32(self.entry[1])
        xs = np.arange(width, dtype=np.float32)[None, :] - np.float32(self.entry[0])
        across = (xs * np.float32(self.normal[0]) + ys * np.float32(self.normal[1])) / np.float32(
            self.half_width
        )
        across = np.clip(across, -1.0, 1.0)  # (H, W), -1..1 across the shaft
        cylinder = np.sqrt(1.0 - across**2)
        streak = np.exp(-(((across - rng.uniform(-0.5, 0.1)) / 0.1) ** 2)) * rng.uniform(0.6, 1.0)
        steel = np.float32(rng.uniform(150, 195)) + rng.uniform(-4.0, 6.0, 3).astype(
            np.float32
        )  # grey, faint tint
        shaft = np.float32(rng.uniform(30, 70)) + rng.uniform(-3.0, 5.0, 3).astype(np.float32)
        shade = (0.3 + 0.7 * cylinder)[..., None]  # (H, W, 1)
        glare = (streak * 255.0)[..., None]  # (H, W, 1)
        self.steel_rgb = np.clip(steel * shade + glare, 0, 255).astype(np.uint8)  # (H, W, 3)
        self.shaft_rgb = np.clip(shaft * shade + glare * 0.6, 0, 255).astype(np.uint8)  # (H, W, 3)

    def tip_at(self, phase: float) -> float:
        """Tip position for phase in [0, 1] (0: just entering, 1: deepest)."""
        low, high = self.tip_range
        return low + (high - low) * phase

    def _point(self, along: float, across: float) -> np.ndarray:
        """View pixel at `along` pixels down the axis and `across` half-widths beside it: (2,) x y."""
        return self.entry + along * self.direction + across * self.half_width * self.normal

    def _polygon(self, corners: list[tuple[float, float]]) -> np.ndarray:
        return np.round([self._point(a, c) for a, c in corners]).astype(np.int32)  # (K, 2) x y

    def draw(self, view: np.ndarray, tip: float) -> np.ndarray:
        """Paint the instrument with its tip at `tip`; returns (H, W) bool mask of the painted pixels."""
        metal_from = tip - self.metal_length
        jaw_end = tip + self.jaw_length
        gap = self.jaw_gap
        dark = np.zeros(view.shape[:2], np.uint8)
        cv2.fillConvexPoly(
            dark, self._polygon([(0.0, -1.0), (0.0, 1.0), (metal_from, 1.0), (metal_from, -1.0)]), 1
        )
        steel = np.zeros(view.shape[:2], np.uint8)
        cv2.fillConvexPoly(
            steel, self._polygon([(metal_from, -1.0), (metal_from, 1.0), (tip, 1.0), (tip, -1.0)]), 1
        )
        for side in (1.0, -1.0):
            jaw = [(tip, 0.0), (tip, side), (jaw_end, 0.3 * side), (jaw_end, gap * side)]
            cv2.fillConvexPoly(steel, self._polygon(jaw), 1)
        dark[steel > 0] = 0
        cv2.copyTo(self.shaft_rgb, dark, view)
        cv2.copyTo(self.steel_rgb, steel, view)
        return (dark | steel) > 0
