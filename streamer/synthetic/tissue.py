"""Procedural mucosa: pink-red tissue with folds, fine grain, blood vessels and a dim lumen."""

from __future__ import annotations

import cv2
import numpy as np


def smooth_noise(rng: np.random.Generator, width: int, height: int, cell: float) -> np.ndarray:
    """Band-limited noise with features about `cell` pixels wide: (height, width) float32, roughly N(0, 1)."""
    grid_w = int(np.ceil(width / cell)) + 3
    grid_h = int(np.ceil(height / cell)) + 3
    coarse = rng.standard_normal((grid_h, grid_w)).astype(np.float32)
    full = cv2.resize(coarse, (int(grid_w * cell), int(grid_h * cell)), interpolation=cv2.INTER_CUBIC)
    off = int(cell)
    return full[off : off + height, off : off + width]


def fractal_noise(
    rng: np.random.Generator, width: int, height: int, cells: tuple[float, ...], gains: tuple[float, ...]
) -> np.ndarray:
    """Sum of smooth noises at several feature sizes (pixels), rescaled to [0, 1]: (height, width) float32."""
    total = np.zeros((height, width), np.float32)
    for cell, gain in zip(cells, gains, strict=True):
        total += gain * smooth_noise(rng, width, height, cell)
    low, high = float(total.min()), float(total.max())
    return (total - low) / max(high - low, 1e-6)


def _vessel_mask(rng: np.random.Generator, width: int, height: int, scale: float) -> np.ndarray:
    """Tortuous branching vessels drawn as anti-aliased polylines: (height, width) float32 in [0, 1]."""
    mask = np.zeros((height, width), np.uint8)
    count = int(rng.integers(6, 14) * width * height / (512.0 * 512.0)) + 3
    for _ in range(count):
        start = rng.uniform((0, 0), (width, height))
        heading = rng.uniform(0, 2 * np.pi)
        steps = int(rng.integers(40, 160))
        turn = rng.normal(0.0, 0.22, steps).cumsum() + heading  # (steps,) radians
        step = 4.0 * scale
        path = start + np.stack([np.cos(turn), np.sin(turn)], 1).cumsum(0) * step  # (steps, 2) x y
        thickness = max(1, round(rng.uniform(1.0, 3.2) * scale))
        cv2.polylines(mask, [np.round(path).astype(np.int32)], False, 255, thickness, cv2.LINE_AA)
        for _ in range(int(rng.integers(1, 4))):
            at = int(rng.integers(0, steps))
            b_steps = int(rng.integers(15, 60))
            b_turn = rng.normal(0.0, 0.3, b_steps).cumsum() + turn[at] + rng.choice((-1.0, 1.0)) * 0.9
            branch = path[at] + np.stack([np.cos(b_turn), np.sin(b_turn)], 1).cumsum(0) * step  # (b, 2)
            cv2.polylines(mask, [np.round(branch).astype(np.int32)], False, 255, 1, cv2.LINE_AA)
    return cv2.GaussianBlur(mask, (0, 0), 0.8 * scale).astype(np.float32) / 255.0


def render_tissue(rng: np.random.Generator, width: int, height: int, scale: float) -> np.ndarray:
    """Lit wet mucosa: (height, width, 3) uint8 RGB.

    scale: pixels per unit of a 512-pixel frame (1.0 at 512x512), so detail keeps its apparent size.
    """
    cells = tuple(c * scale for c in (180.0, 90.0, 40.0, 16.0))
    relief = fractal_noise(rng, width, height, cells, (1.0, 0.55, 0.25, 0.08))
    # Folds: ridges where a second low-frequency field crosses its mid level.
    ridge_field = fractal_noise(rng, width, height, (150.0 * scale, 70.0 * scale), (1.0, 0.4))
    folds = np.exp(-(((ridge_field - 0.5) / 0.09) ** 2))
    height_map = relief * 2.0 + folds * 1.2  # (H, W) arbitrary height units
    grad_x = cv2.Sobel(height_map, cv2.CV_32F, 1, 0, ksize=5) / (scale * 12.0)
    grad_y = cv2.Sobel(height_map, cv2.CV_32F, 0, 1, ksize=5) / (scale * 12.0)
    # Light comes from the scope (the viewer), slightly from above: Lambert shading of the height map.
    normal_z = 1.0 / np.sqrt(1.0 + grad_x**2 + grad_y**2)
    lambert = np.clip(normal_z * (0.85 - 0.35 * grad_y - 0.15 * grad_x), 0.15, 1.1)
    gloss = np.clip(normal_z - 0.985, 0.0, None) * 14.0  # wet sheen on surfaces facing the light

    hue_mix = fractal_noise(rng, width, height, (260.0 * scale, 110.0 * scale), (1.0, 0.25))[..., None]
    pale = np.array(rng.uniform((225, 140, 125), (250, 175, 160)), np.float32)
    deep = np.array(rng.uniform((180, 70, 60), (215, 105, 95)), np.float32)
    colour = pale * (1.0 - hue_mix) + deep * hue_mix  # (H, W, 3)
    grain = smooth_noise(rng, width, height, 2.5 * scale)[..., None] * 5.0

    vessels = _vessel_mask(rng, width, height, scale)[..., None] * rng.uniform(0.35, 0.6)
    vessel_colour = np.array((125, 25, 35), np.float32)
    colour = colour * (1.0 - vessels) + vessel_colour * vessels

    shade = (lambert * (1.0 - 0.18 * folds))[..., None]
    image = colour * shade + grain + gloss[..., None] * 255.0
    return np.clip(image, 0, 255).astype(np.uint8)


def lumen_shading(rng: np.random.Generator, width: int, height: int) -> np.ndarray:
    """Darkening towards a lumen at a random place: (height, width) float32 gain in (0, 1]."""
    cx, cy = rng.uniform(0.2, 0.8) * width, rng.uniform(0.2, 0.8) * height
    sigma = rng.uniform(0.12, 0.3) * min(width, height)
    depth = rng.uniform(0.35, 0.65)
    ys = np.arange(height, dtype=np.float32)[:, None] - cy
    xs = np.arange(width, dtype=np.float32)[None, :] - cx
    return 1.0 - depth * np.exp(-(xs**2 + ys**2) / (2.0 * sigma**2))
