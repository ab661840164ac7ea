"""Artefacts attached to the tissue surface, drawn in place on an RGB uint8 image.

Each drawer takes a centre (x, y) in pixels and `scale` (pixels per unit of a 512-pixel frame) and returns
the Stamps of what it drew: specular highlights, saturated (clipped) areas and bubble clusters.
"""

from __future__ import annotations

import cv2
import numpy as np

from streamer.synthetic.stamp import Stamp
from streamer.synthetic.tissue import smooth_noise

SPECULARITY, SATURATION, BUBBLES = 0, 1, 5


def _window(image: np.ndarray, cx: float, cy: float, half: int) -> tuple[int, int, int, int]:
    """Square window of half-size `half` around (cx, cy), clipped to the image: x0, y0, x1, y1."""
    height, width = image.shape[:2]
    x0, y0 = max(int(cx) - half, 0), max(int(cy) - half, 0)
    return x0, y0, min(int(cx) + half + 1, width), min(int(cy) + half + 1, height)


def _blend_towards(patch: np.ndarray, colour: np.ndarray, alpha: np.ndarray) -> None:
    """patch (h, w, 3) uint8 <- patch + (colour - patch) * alpha, alpha (h, w) float32 in [0, 1]."""
    mixed = patch.astype(np.float32)
    mixed += (colour - mixed) * alpha[..., None]
    np.clip(mixed, 0, 255, out=mixed)
    patch[...] = mixed.astype(np.uint8)


def draw_specularities(
    image: np.ndarray, rng: np.random.Generator, cx: float, cy: float, scale: float
) -> list[Stamp]:
    """A cluster of 1-8 small bright white blobs with a soft glow; one stamp per group of touching blobs."""
    count = int(rng.integers(1, 9))
    spread = rng.uniform(2.0, 16.0) * scale
    half = int(3 * spread + 14 * scale) + 4
    x0, y0, x1, y1 = _window(image, cx, cy, half)
    if x1 - x0 < 3 or y1 - y0 < 3:
        return []
    core = np.zeros((y1 - y0, x1 - x0), np.uint8)
    for _ in range(count):
        px, py = rng.normal((cx - x0, cy - y0), spread)
        major = rng.uniform(1.3, 6.5) * scale
        minor = major * rng.uniform(0.35, 1.0)
        cv2.ellipse(
            core,
            ((float(px), float(py)), (2 * float(major), 2 * float(minor)), float(rng.uniform(0, 180))),
            255,
            -1,
        )
    solid = core > 0
    glow = cv2.GaussianBlur(core, (0, 0), 2.0 * scale).astype(np.float32) / 255.0
    alpha = np.maximum(solid.astype(np.float32), np.minimum(glow * 0.9, 1.0))
    _blend_towards(image[y0:y1, x0:x1], np.array((255, 255, 252), np.float32), alpha)
    groups = cv2.dilate(solid.astype(np.uint8), np.ones((5, 5), np.uint8))
    count_groups, group_ids = cv2.connectedComponents(groups, connectivity=8)
    stamps = [Stamp.from_mask(SPECULARITY, x0, y0, solid & (group_ids == g)) for g in range(1, count_groups)]
    return [s for s in stamps if s is not None]


def draw_saturation(
    image: np.ndarray, rng: np.random.Generator, cx: float, cy: float, scale: float
) -> list[Stamp]:
    """An irregular clipped-white area 25-110 px wide (at 512) with a bloom around it; one stamp."""
    radius_a = rng.uniform(12.0, 55.0) * scale
    radius_b = radius_a * rng.uniform(0.35, 0.9)
    half = int(radius_a * 1.9) + 4
    x0, y0, x1, y1 = _window(image, cx, cy, half)
    if x1 - x0 < 3 or y1 - y0 < 3:
        return []
    theta = rng.uniform(0, np.pi)
    ys = np.arange(y0, y1, dtype=np.float32)[:, None] - cy
    xs = np.arange(x0, x1, dtype=np.float32)[None, :] - cx
    along = xs * np.cos(theta) + ys * np.sin(theta)
    across = -xs * np.sin(theta) + ys * np.cos(theta)
    ellipse = (along / radius_a) ** 2 + (across / radius_b) ** 2  # (h, w), 1 on the ellipse outline
    wobble = smooth_noise(rng, x1 - x0, y1 - y0, max(radius_b * 0.6, 3.0)) * 0.3
    solid = ellipse + wobble < 1.0
    bloom = cv2.GaussianBlur(solid.astype(np.float32), (0, 0), max(radius_b * 0.35, 1.0))
    alpha = np.maximum(solid.astype(np.float32), bloom * 0.85)
    tint = np.array((255, rng.uniform(240, 255), rng.uniform(232, 255)), np.float32)
    _blend_towards(image[y0:y1, x0:x1], tint, alpha)
    image[y0:y1, x0:x1][solid] = np.round(tint).astype(np.uint8)
    stamp = Stamp.from_mask(SATURATION, x0, y0, solid)
    return [] if stamp is None else [stamp]


def draw_bubbles(
    image: np.ndarray, rng: np.random.Generator, cx: float, cy: float, scale: float
) -> list[Stamp]:
    """A cluster of 2-10 translucent bubbles: bright rim, dark inner ring, tiny highlight; one stamp."""
    count = int(rng.integers(2, 11))
    mean_radius = rng.uniform(4.0, 13.0) * scale
    spread = mean_radius * rng.uniform(1.2, 3.0)
    half = int(3 * spread + 3 * mean_radius) + 6
    x0, y0, x1, y1 = _window(image, cx, cy, half)
    if x1 - x0 < 5 or y1 - y0 < 5:
        return []
    rim = np.zeros((y1 - y0, x1 - x0), np.uint8)
    shadow = np.zeros_like(rim)
    body = np.zeros_like(rim)
    shine = np.zeros_like(rim)
    for _ in range(count):
        bx, by = rng.normal((cx - x0, cy - y0), spread)
        radius = max(2.5, mean_radius * rng.uniform(0.5, 1.6))
        centre = (round(float(bx)), round(float(by)))
        thickness = max(1, round(radius * 0.14))
        cv2.circle(body, centre, round(radius), 255, -1, cv2.LINE_AA)
        cv2.circle(shadow, centre, max(round(radius - 1.5 * thickness), 1), 255, thickness, cv2.LINE_AA)
        cv2.circle(rim, centre, round(radius), 255, thickness, cv2.LINE_AA)
        glint = (round(float(bx - 0.45 * radius)), round(float(by - 0.45 * radius)))
        cv2.circle(shine, glint, max(1, round(radius * 0.16)), 255, -1, cv2.LINE_AA)
    patch = image[y0:y1, x0:x1]
    _blend_towards(patch, np.array((255, 235, 225), np.float32), body.astype(np.float32) / 255.0 * 0.16)
    _blend_towards(patch, np.array((90, 40, 40), np.float32), shadow.astype(np.float32) / 255.0 * 0.3)
    _blend_towards(patch, np.array((255, 250, 245), np.float32), rim.astype(np.float32) / 255.0 * 0.8)
    _blend_towards(patch, np.array((255, 255, 255), np.float32), shine.astype(np.float32) / 255.0)
    stamp = Stamp.from_mask(BUBBLES, x0, y0, (body > 0) | (rim > 0))
    return [] if stamp is None else [stamp]
