"""Procedural mucosa: pink-red tissue with folds, fine grain, blood vessels and a dim lumen."""

from __future__ import annotations

import cv2
import numpy as np


def smooth_noise(rng: np.random.Generator, width: int, height: int, cell: float) -> np.ndarray:
    """Band-limited noise with features about `cell` pixels wide: (height, width) float32, roughly N(0, 1)."""
    grid_w = int(np.ceil(width / cell)) + 1
    grid_h = int(np.ceil(height / cell)) + 1
    coarse = rng.standard_normal((grid_h, grid_w), dtype=np.float32)
    return cv2.resize(coarse, (width, height), interpolation=cv2.INTER_CUBIC)


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
        thickness = max(1, round(rng.uniform(0.8, 2.4) * scale))
        cv2.polylines(mask, [np.round(path).astype(np.int32)], False, 255, thickness, cv2.LINE_AA)
        for _ in range(int(rng.integers(1, 4))):
            at = int(rng.integers(0, steps))
            b_steps = int(rng.integers(15, 60))
            b_turn = rng.normal(0.0, 0.3, b_steps).cumsum() + turn[at] + rng.choice((-1.0, 1.0)) * 0.9
            branch = path[at] + np.stack([np.cos(b_turn), np.sin(b_turn)], 1).cumsum(0) * step  # (b, 2)
            cv2.polylines(mask, [np.round(branch).astype(np.int32)], False, 255, 1, cv2.LINE_AA)
    return cv2.GaussianBlur(mask, (0, 0), 0.8 * scale).astype(np.float32) / 255.0


def _pink(rng: np.random.Generator, red: tuple[float, float], green: tuple[float, float]) -> np.ndarray:
    """A random pink-red RGB colour (3,) float32 whose blue stays close to its green (no orange cast)."""
    g = rng.uniform(*green)
    return np.array((rng.uniform(*red), g, g - rng.uniform(-5.0, 12.0)), np.float32)


def render_tissue(
    rng: np.random.Generator, width: int, height: int, scale: float
) -> tuple[np.ndarray, np.ndarray]:
    """Lit wet mucosa: image (height, width, 3) uint8 RGB and its shading (height, width) float32 (about
    0.3 in creases to 1.1 on surfaces facing the scope; specular highlights belong where it is high).

    scale: pixels per unit of a 512-pixel frame (1.0 at 512x512), so detail keeps its apparent size.
    """
    relief = fractal_noise(rng, width, height, (200.0 * scale, 100.0 * scale), (1.0, 0.35))
    # Folds: rounded crests with sharp creases where a low-frequency field crosses its mid level.
    distance = np.abs(
        2.0 * fractal_noise(rng, width, height, (150.0 * scale, 70.0 * scale), (1.0, 0.3)) - 1.0
    )
    folds = np.sqrt(distance)  # (H, W) in [0, 1], 0 in a crease
    crease = np.exp(-((distance / 0.12) ** 2))  # (H, W), 1 at the bottom of a crease
    height_map = relief * 2.0 + folds * rng.uniform(1.5, 3.0)  # (H, W) arbitrary height units
    height_map = cv2.GaussianBlur(height_map, (0, 0), 1.5 * scale)
    grad_x = cv2.Sobel(height_map, cv2.CV_32F, 1, 0, ksize=5) * (scale / 5.0)
    grad_y = cv2.Sobel(height_map, cv2.CV_32F, 0, 1, ksize=5) * (scale / 5.0)
    # Light comes from the scope (the viewer), slightly from one side: Lambert shading of the height map.
    light = rng.uniform(-0.6, 0.6, 2).astype(np.float32)
    normal_z = 1.0 / np.sqrt(1.0 + grad_x**2 + grad_y**2)
    lambert = np.clip(normal_z * (1.0 + light[0] * grad_x + light[1] * grad_y), 0.45, 1.1)
    cavity = (0.85 + 0.15 * relief) * (1.0 - 0.3 * crease)  # hollows and creases receive less light

    hue_mix = fractal_noise(rng, width, height, (300.0 * scale, 120.0 * scale), (1.0, 0.2))[..., None]
    pale = _pink(rng, red=(225, 250), green=(135, 170))
    deep = _pink(rng, red=(185, 220), green=(70, 105))
    colour = pale * (1.0 - hue_mix) + deep * hue_mix  # (H, W, 3)
    pits = smooth_noise(rng, width, height, 3.0 * scale) * np.float32(4.0)
    mottling = smooth_noise(rng, width, height, 12.0 * scale) * np.float32(5.0)

    vessels = _vessel_mask(rng, width, height, scale)[..., None] * rng.uniform(0.2, 0.45)
    vessel_colour = np.array((140, 35, 45), np.float32)
    colour = colour * (1.0 - vessels) + vessel_colour * vessels

    # Shadows on red tissue stay red: green and blue fall off faster than red.
    light_map = lambert * cavity  # (H, W)
    faster = cv2.pow(light_map, 1.35)
    shade = cv2.merge([light_map * np.float32(1.25), faster * np.float32(1.25), faster * np.float32(1.25)])
    image = colour * shade + (pits + mottling)[..., None]  # (H, W, 3)
    return np.clip(image, 0, 255).astype(np.uint8), light_map


def lumen_shading(rng: np.random.Generator, width: int, height: int) -> np.ndarray:
    """Darkening towards a lumen at a random place: (height, width) float32 gain in (0, 1]."""
    cx, cy = rng.uniform(0.2, 0.8) * width, rng.uniform(0.2, 0.8) * height
    sigma = rng.uniform(0.12, 0.3) * min(width, height)
    depth = rng.uniform(0.3, 0.55)
    ys = np.arange(height, dtype=np.float32)[:, None] - cy
    xs = np.arange(width, dtype=np.float32)[None, :] - cx
    return 1.0 - depth * np.exp(-(xs**2 + ys**2) / (2.0 * sigma**2))
