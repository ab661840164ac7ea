"""Endoscopic scenes: a tissue canvas with surface artefacts, a field of view, view-fixed artefacts and an
instrument, rendered through a camera window. `generate_frame` renders one still; `SyntheticVideo` moves
the camera smoothly over a larger canvas to make consecutive frames of one scene.

Sizes are (width, height) in pixels. Boxes are x1 y1 x2 y2 pixels with exclusive x2, y2, tight around the
drawn pixels that are visible (inside the image and the field of view, not hidden by the instrument).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import cv2
import numpy as np

from streamer.errors import ConfigError
from streamer.synthetic.fov import fov_mask, vignette
from streamer.synthetic.instrument import INSTRUMENT, Instrument
from streamer.synthetic.lens import CONTRAST, ViewEffect, make_effect
from streamer.synthetic.sample import SyntheticSample
from streamer.synthetic.stamp import Stamp, visible_box
from streamer.synthetic.surface import draw_bubbles, draw_saturation, draw_specularities
from streamer.synthetic.tissue import lumen_shading, render_tissue
from streamer.types import EAD2019_CLASSES

# Per class: probability of appearing in a scene when classes are not given, and (low, high) count per view.
_PRESENCE = (0.8, 0.35, 0.4, 0.35, 0.35, 0.35, 0.3)
_COUNTS = ((1, 7), (1, 3), (1, 3), (1, 2), (1, 2), (1, 4), (1, 2))
_SURFACE_DRAWERS = {0: draw_specularities, 1: draw_saturation, 5: draw_bubbles}


def _check_size(size: tuple[int, int]) -> tuple[int, int]:
    width, height = (int(v) for v in size)
    if width < 64 or height < 64:
        raise ConfigError(f"synthetic frame size must be at least 64x64, got {width}x{height}")
    return width, height


def _check_classes(classes: Sequence[int] | None) -> tuple[int, ...] | None:
    if classes is None:
        return None
    chosen = tuple(sorted({int(c) for c in classes}))
    bad = [c for c in chosen if not 0 <= c < len(EAD2019_CLASSES)]
    if bad:
        raise ConfigError(f"synthetic classes must be in 0..{len(EAD2019_CLASSES) - 1}, got {bad}")
    return chosen


class Scene:
    """One scene: tissue canvas (view plus `margin` on each side) with its artefacts.

    classes: the EAD2019 class indices to draw (each at least once); None picks a random mix.
    """

    def __init__(
        self,
        rng: np.random.Generator,
        width: int,
        height: int,
        classes: tuple[int, ...] | None,
        margin: int = 0,
    ) -> None:
        self.width, self.height, self.margin = width, height, margin
        scale = min(width, height) / 512.0
        canvas_w, canvas_h = width + 2 * margin, height + 2 * margin
        tissue = render_tissue(rng, canvas_w, canvas_h, scale).astype(np.float32)
        tissue *= lumen_shading(rng, canvas_w, canvas_h)[..., None]
        self.canvas = tissue.astype(np.uint8)  # (canvas_h, canvas_w, 3)
        self.fov = fov_mask(rng, width, height)  # (H, W) bool
        gain = vignette(width, height, rng.uniform(0.25, 0.5)) * self.fov  # (H, W)
        self.gain = np.repeat(np.round(gain * 255.0).astype(np.uint8)[..., None], 3, axis=2)  # (H, W, 3)
        inner = cv2.erode(
            self.fov.astype(np.uint8), np.ones((3, 3), np.uint8), iterations=max(2, int(24 * scale))
        )
        self._inner_points = np.flatnonzero(inner.ravel())  # flat view indices well inside the field of view

        if classes is None:
            present = [c for c in range(len(EAD2019_CLASSES)) if rng.random() < _PRESENCE[c]]
        else:
            present = list(classes)
        area_ratio = canvas_w * canvas_h / float(width * height)
        self.surface: list[Stamp] = []
        self.effects: list[ViewEffect] = []
        self.instrument: Instrument | None = None
        for label in present:
            low, high = _COUNTS[label]
            count = int(rng.integers(low, high + 1))
            if label in _SURFACE_DRAWERS:
                for index in range(max(count, round(count * area_ratio))):
                    # The first of each class lands inside the initial view; the rest anywhere on the canvas.
                    if index < count:
                        vx, vy = self._point_in_view(rng)
                        x, y = vx + margin, vy + margin
                    else:
                        x, y = rng.uniform(0, canvas_w), rng.uniform(0, canvas_h)
                    self.surface += _SURFACE_DRAWERS[label](self.canvas, rng, x, y, scale)
            elif label == INSTRUMENT:
                self.instrument = Instrument(rng, width, height, scale)
                self._tip_phase = (rng.uniform(0.3, 1.0), rng.uniform(0.05, 0.25), rng.uniform(0, 2 * np.pi))
            else:
                for _ in range(count):
                    effect = make_effect(label, rng, *self._point_in_view(rng), scale, width, height)
                    if effect is not None:
                        self.effects.append(effect)
        # Surface artefacts under a dark low-contrast region no longer look like themselves: hide them.
        self.surface_visible = self.fov.copy()
        for effect in self.effects:
            if effect.stamp.label == CONTRAST:
                stamp = effect.stamp
                h, w = stamp.mask.shape
                self.surface_visible[stamp.y : stamp.y + h, stamp.x : stamp.x + w] &= ~stamp.mask

    def _point_in_view(self, rng: np.random.Generator) -> tuple[float, float]:
        """A random (x, y) view pixel well inside the field of view."""
        flat = int(self._inner_points[int(rng.integers(0, self._inner_points.size))])
        return float(flat % self.width), float(flat // self.width)

    def tip(self, seconds: float) -> float:
        """Instrument tip position at time `seconds` (slow in-and-out motion)."""
        assert self.instrument is not None
        mean, frequency, phase = self._tip_phase
        wave = 0.5 + 0.5 * np.sin(2 * np.pi * frequency * seconds + phase)
        return self.instrument.tip_at(min(1.0, mean * (0.55 + 0.45 * wave)))

    def render(self, offset_x: int, offset_y: int, seconds: float = 0.0) -> SyntheticSample:
        """The view whose top-left is (offset_x, offset_y) on the canvas, at time `seconds`."""
        x0, y0 = offset_x, offset_y
        view = self.canvas[y0 : y0 + self.height, x0 : x0 + self.width].copy()  # (H, W, 3)
        visible = self.surface_visible
        boxes: list[tuple[int, int, int, int]] = []
        labels: list[int] = []
        if self.instrument is not None:
            painted = self.instrument.draw(view, self.tip(seconds))
            visible = visible & ~painted
        for stamp in self.surface:
            box = visible_box(stamp, x0, y0, visible)
            if box is not None:
                boxes.append(box)
                labels.append(stamp.label)
        for effect in self.effects:
            effect.apply(view)
            box = visible_box(effect.stamp, 0, 0, self.fov)
            if box is not None:
                boxes.append(box)
                labels.append(effect.stamp.label)
        if self.instrument is not None:
            tool = Stamp.from_mask(INSTRUMENT, 0, 0, painted)
            box = None if tool is None else visible_box(tool, 0, 0, self.fov, min_fraction=0.0)
            if box is not None and (box[2] - box[0]) * (box[3] - box[1]) >= 64:
                boxes.append(box)
                labels.append(INSTRUMENT)
        image = cv2.multiply(view, self.gain, scale=1.0 / 255.0)
        return SyntheticSample(
            image=image,
            boxes=np.array(boxes, np.float32).reshape(-1, 4),  # (N, 4)
            labels=np.array(labels, np.int64),
        )


def generate_frame(
    seed: int, size: tuple[int, int] = (512, 512), classes: Sequence[int] | None = None
) -> SyntheticSample:
    """One synthetic endoscopy frame, identical for the same seed, size and classes.

    size: (width, height) pixels; classes: EAD2019 class indices that must appear (each at least once;
    an empty sequence gives clean tissue), None for a random mix.
    """
    width, height = _check_size(size)
    wanted = _check_classes(classes)
    rng = np.random.default_rng(seed)
    sample = None
    for _ in range(8):
        scene = Scene(rng, width, height, wanted)
        sample = scene.render(0, 0, seconds=float(rng.uniform(0, 20)))
        if wanted is None or set(wanted) <= set(sample.labels.tolist()):
            return sample
    assert sample is not None
    return sample


class SyntheticVideo:
    """Consecutive frames of one scene seen by a smoothly moving camera; iterating yields SyntheticSample
    forever. frame(i) is deterministic: the same seed, size and fps give the same frame i.

    size: (width, height) pixels; fps: frames per second of the camera clock.
    """

    def __init__(
        self,
        seed: int,
        size: tuple[int, int] = (640, 480),
        fps: float = 25.0,
        classes: Sequence[int] | None = None,
    ) -> None:
        if fps <= 0:
            raise ConfigError(f"fps must be positive, got {fps}")
        self.seed, self.size, self.fps = seed, _check_size(size), float(fps)
        width, height = self.size
        rng = np.random.default_rng(seed)
        margin = int(0.3 * min(width, height))
        self.scene = Scene(rng, width, height, _check_classes(classes), margin=margin)
        # Camera path: two sinusoids per axis, 0.04-0.3 Hz, staying inside the margin.
        self._frequencies = rng.uniform((0.04, 0.15), (0.12, 0.3), (2, 2))  # (axis, component) Hz
        self._phases = rng.uniform(0, 2 * np.pi, (2, 2))  # (axis, component) radians
        self._weights = np.array((0.65, 0.35))

    def offset(self, index: int) -> tuple[int, int]:
        """Top-left of the camera window on the canvas for frame `index`."""
        seconds = index / self.fps
        waves = np.sin(2 * np.pi * self._frequencies * seconds + self._phases) @ self._weights  # (2,)
        margin = self.scene.margin
        x, y = np.round(margin + 0.95 * margin * waves).astype(int)
        return int(x), int(y)

    def frame(self, index: int) -> SyntheticSample:
        """Frame number `index` (0-based)."""
        return self.scene.render(*self.offset(index), seconds=index / self.fps)

    def __iter__(self) -> Iterator[SyntheticSample]:
        index = 0
        while True:
            yield self.frame(index)
            index += 1
