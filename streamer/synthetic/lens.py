"""Artefacts attached to the camera view (they stay put while the tissue moves underneath):
locally blurred regions, dark low-contrast regions and imaging artefacts (blocky compression or
chromatic sparkle). Each is built once and applied in place to every rendered view.
"""

from __future__ import annotations

from typing import Protocol

import cv2
import numpy as np

from streamer.synthetic.stamp import Stamp

ARTIFACT, BLUR, CONTRAST = 2, 3, 4


class ViewEffect(Protocol):
    """An artefact fixed in view coordinates: `stamp` is its extent; `apply` draws it on an (H, W, 3) view."""

    stamp: Stamp

    def apply(self, view: np.ndarray) -> None: ...


def _region(
    rng: np.random.Generator, cx: float, cy: float, size: float, width: int, height: int
) -> tuple[int, int, int, int]:
    """A box about `size` pixels across around (cx, cy), clipped to the view: x0, y0, x1, y1."""
    aspect = rng.uniform(0.6, 1.6)
    half_w, half_h = size * np.sqrt(aspect) / 2.0, size / np.sqrt(aspect) / 2.0
    x0, y0 = max(int(cx - half_w), 0), max(int(cy - half_h), 0)
    return x0, y0, min(int(cx + half_w), width), min(int(cy + half_h), height)


def _feathered_ellipse(width: int, height: int, feather: float) -> np.ndarray:
    """An ellipse filling a (height, width) box with a soft edge: (height, width) float32 in [0, 1]."""
    ys = (np.arange(height, dtype=np.float32) + 0.5) / height * 2.0 - 1.0
    xs = (np.arange(width, dtype=np.float32) + 0.5) / width * 2.0 - 1.0
    radius = np.sqrt(ys[:, None] ** 2 + xs[None, :] ** 2)  # (h, w), 1 on the inscribed ellipse
    return np.clip((1.0 - radius) / feather + 0.5, 0.0, 1.0)


class _BlendedEffect:
    """Shared machinery: a region, a soft alpha (h, w) and a `target(patch)` that the region is blended to."""

    label: int

    def __init__(self, region: tuple[int, int, int, int], alpha: np.ndarray) -> None:
        self.region = region
        self.alpha = alpha[..., None]  # (h, w, 1)
        stamp = Stamp.from_mask(self.label, region[0], region[1], alpha >= 0.5)
        if stamp is None:
            raise ValueError("effect region is empty")
        self.stamp = stamp

    def target(self, patch: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def apply(self, view: np.ndarray) -> None:
        x0, y0, x1, y1 = self.region
        patch = view[y0:y1, x0:x1]
        base = patch.astype(np.float32)
        mixed = base + (self.target(patch).astype(np.float32) - base) * self.alpha
        patch[...] = np.clip(mixed, 0, 255).astype(np.uint8)


class LocalBlur(_BlendedEffect):
    """A soft-edged elliptical region blurred with a Gaussian of `sigma` pixels."""

    label = BLUR

    def __init__(self, region: tuple[int, int, int, int], sigma: float) -> None:
        x0, y0, x1, y1 = region
        super().__init__(region, _feathered_ellipse(x1 - x0, y1 - y0, 0.25))
        self.sigma = sigma

    def target(self, patch: np.ndarray) -> np.ndarray:
        return cv2.GaussianBlur(patch, (0, 0), self.sigma)


class LowContrast(_BlendedEffect):
    """A soft-edged region darkened by `gain`, its contrast flattened by `flatten` (0 keeps, 1 removes)."""

    label = CONTRAST

    def __init__(self, region: tuple[int, int, int, int], gain: float, flatten: float) -> None:
        x0, y0, x1, y1 = region
        super().__init__(region, _feathered_ellipse(x1 - x0, y1 - y0, 0.35))
        self.gain, self.flatten = gain, flatten

    def target(self, patch: np.ndarray) -> np.ndarray:
        base = patch.astype(np.float32)
        mean = base.reshape(-1, 3).mean(axis=0)  # (h*w, 3) -> (3,)
        return (mean + (base - mean) * (1.0 - self.flatten)) * self.gain


class BlockArtefact(_BlendedEffect):
    """A rectangle re-rendered as coarse colour-quantised blocks with a chroma shift (codec damage)."""

    label = ARTIFACT

    def __init__(self, region: tuple[int, int, int, int], block: int, shift: np.ndarray) -> None:
        x0, y0, x1, y1 = region
        super().__init__(region, np.ones((y1 - y0, x1 - x0), np.float32))
        self.block, self.shift = block, shift

    def target(self, patch: np.ndarray) -> np.ndarray:
        height, width = patch.shape[:2]
        small = cv2.resize(
            patch, (max(width // self.block, 1), max(height // self.block, 1)), interpolation=cv2.INTER_AREA
        )
        blocks = cv2.resize(small, (width, height), interpolation=cv2.INTER_NEAREST).astype(np.float32)
        return np.floor(blocks / 24.0) * 24.0 + self.shift


class ChromaticSparkle:
    """A cluster of tiny saturated green / magenta / cyan specks (sensor and chromatic artefacts)."""

    label = ARTIFACT

    def __init__(self, rng: np.random.Generator, cx: float, cy: float, scale: float, width: int, height: int):
        spread = rng.uniform(6.0, 22.0) * scale
        half = int(3 * spread + 6 * scale) + 3
        x0, y0 = max(int(cx) - half, 0), max(int(cy) - half, 0)
        x1, y1 = min(int(cx) + half + 1, width), min(int(cy) + half + 1, height)
        layer = np.zeros((y1 - y0, x1 - x0, 3), np.uint8)
        palette = np.array(((90, 255, 120), (230, 90, 255), (80, 230, 255), (255, 255, 140)), np.uint8)
        for _ in range(int(rng.integers(4, 14))):
            px, py = rng.normal((cx - x0, cy - y0), spread)
            colour = palette[int(rng.integers(0, len(palette)))]
            length = rng.uniform(1.5, 5.0) * scale
            angle = rng.uniform(0, np.pi)
            tip = (float(px + length * np.cos(angle)), float(py + length * np.sin(angle)))
            thickness = max(1, round(rng.uniform(1.0, 2.5) * scale))
            cv2.line(
                layer,
                (round(float(px)), round(float(py))),
                (round(tip[0]), round(tip[1])),
                tuple(int(c) for c in colour),
                thickness,
                cv2.LINE_AA,
            )
        self.alpha = (layer.max(axis=2).astype(np.float32) / 255.0)[..., None]  # (h, w, 1)
        self.layer = layer.astype(np.float32)
        self.region = (x0, y0, x1, y1)
        stamp = Stamp.from_mask(ARTIFACT, x0, y0, self.alpha[..., 0] >= 0.35)
        if stamp is None:
            raise ValueError("sparkle cluster is empty")
        self.stamp = stamp

    def apply(self, view: np.ndarray) -> None:
        x0, y0, x1, y1 = self.region
        patch = view[y0:y1, x0:x1]
        base = patch.astype(np.float32)
        patch[...] = np.clip(base + (self.layer - base) * self.alpha, 0, 255).astype(np.uint8)


def make_effect(
    label: int, rng: np.random.Generator, cx: float, cy: float, scale: float, width: int, height: int
) -> ViewEffect | None:
    """A random view effect of class `label` (ARTIFACT, BLUR or CONTRAST) centred near (cx, cy); None if it
    does not fit in the view."""
    if label == BLUR:
        x0, y0, x1, y1 = _region(rng, cx, cy, rng.uniform(70.0, 220.0) * scale, width, height)
        if min(x1 - x0, y1 - y0) < 12:
            return None
        return LocalBlur((x0, y0, x1, y1), rng.uniform(3.0, 8.0) * scale)
    if label == CONTRAST:
        x0, y0, x1, y1 = _region(rng, cx, cy, rng.uniform(70.0, 230.0) * scale, width, height)
        if min(x1 - x0, y1 - y0) < 12:
            return None
        return LowContrast((x0, y0, x1, y1), rng.uniform(0.15, 0.4), rng.uniform(0.5, 0.85))
    if label == ARTIFACT:
        if rng.random() < 0.5:
            return ChromaticSparkle(rng, cx, cy, scale, width, height)
        x0, y0, x1, y1 = _region(rng, cx, cy, rng.uniform(30.0, 110.0) * scale, width, height)
        if min(x1 - x0, y1 - y0) < 8:
            return None
        shift = rng.uniform(-30.0, 30.0, 3).astype(np.float32)
        return BlockArtefact((x0, y0, x1, y1), int(rng.choice((8, 12, 16))), shift)
    raise ValueError(f"no view effect for class {label}")
