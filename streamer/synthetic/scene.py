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
from streamer.synthetic.degradations import DEGRADATIONS, degrade
from streamer.synthetic.fov import fov_mask, vignette
from streamer.synthetic.instrument import INSTRUMENT, Instrument
from streamer.synthetic.lens import ARTIFACT, BLUR, CONTRAST, ViewEffect, make_effect
from streamer.synthetic.sample import SyntheticSample
from streamer.synthetic.stamp import Stamp, visible_box
from streamer.synthetic.surface import BUBBLES, draw_bubbles, draw_saturation, draw_specularities
from streamer.synthetic.tissue import lumen_shading, render_tissue
from streamer.types import EAD2019_CLASSES

# Per class: probability of appearing in a scene when classes are not given, and (low, high) count per view.
_PRESENCE = (0.8, 0.35, 0.4, 0.35, 0.35, 0.35, 0.3)
_COUNTS = ((1, 7), (1, 3), (1, 3), (1, 2), (1, 2), (1, 4), (1, 2))
_SURFACE_DRAWERS = {0: draw_specularities, 1: draw_saturation, 5: draw_bubbles}
_EFFECT_ORDER = {CONTRAST: 0, BLUR: 1, ARTIFACT: 2}
_GRAIN_FRAMES = 6  # sensor noise fields a video cycles through
_REFLECTION_TRIES = 6  # candidate places per specular highlight or saturated area
_MIN_INSTRUMENT_AREA = 64  # pixels; a smaller visible sliver of the instrument is not labelled
_CLIP_LEVEL = 228  # a canvas pixel whose every channel reaches this is a clipped highlight


def _check_size(size: tuple[int, int]) -> tuple[int, int]:
    width, height = (int(v) for v in size)
    if width < 64 or height < 64:
        raise ConfigError(f"synthetic frame size must be at least 64x64, got {width}x{height}")
    return width, height


def _check_seed(seed: int) -> int:
    if int(seed) != seed or seed < 0:
        raise ConfigError(f"seed must be a non-negative integer, got {seed}")
    return int(seed)


def _check_classes(classes: Sequence[int] | None) -> tuple[int, ...] | None:
    if classes is None:
        return None
    chosen = tuple(sorted({int(c) for c in classes}))
    bad = [c for c in chosen if not 0 <= c < len(EAD2019_CLASSES)]
    if bad:
        raise ConfigError(f"synthetic classes must be in 0..{len(EAD2019_CLASSES) - 1}, got {bad}")
    return chosen


def _grain(rng: np.random.Generator, width: int, height: int, sigma: float) -> np.ndarray:
    """Sensor noise of `sigma` grey levels: (height, width, 3) int16, 80 % shared by the channels."""
    luma = rng.standard_normal((height, width, 1), dtype=np.float32)
    chroma = rng.standard_normal((height, width, 3), dtype=np.float32)
    return np.round(sigma * (0.8 * luma + 0.6 * chroma)).astype(np.int16)


def _cut_out(mask: np.ndarray, stamps: list[Stamp]) -> None:
    """Clear the pixels of view-coordinate `stamps` from the (H, W) bool `mask`, in place."""
    for stamp in stamps:
        h, w = stamp.mask.shape
        mask[stamp.y : stamp.y + h, stamp.x : stamp.x + w] &= ~stamp.mask


class Scene:
    """One scene: tissue canvas (view plus `margin` on each side) with its artefacts, a field of view, and
    `grain_frames` sensor noise fields.

    classes: the EAD2019 class indices to draw (each at least once); None picks a random mix.
    """

    def __init__(
        self,
        rng: np.random.Generator,
        width: int,
        height: int,
        classes: tuple[int, ...] | None,
        margin: int = 0,
        grain_frames: int = 1,
    ) -> None:
        self.width, self.height, self.margin = width, height, margin
        scale = min(width, height) / 512.0
        light_map = self._build_canvas(rng, scale)
        self.fov = fov_mask(rng, width, height)  # (H, W) bool
        gain = vignette(width, height, rng.uniform(0.2, 0.4)) * self.fov  # (H, W)
        self.gain = np.repeat(np.round(gain * 255.0).astype(np.uint8)[..., None], 3, axis=2)  # (H, W, 3)
        steps = max(2, int(24 * scale))
        inner = cv2.erode(self.fov.astype(np.uint8), np.ones((3, 3), np.uint8), iterations=steps)
        self._inner_points = np.flatnonzero(inner.ravel())  # flat view indices well inside the field of view

        if classes is None:
            present = [c for c in range(len(EAD2019_CLASSES)) if rng.random() < _PRESENCE[c]]
        else:
            present = list(classes)
        self.surface: list[Stamp] = []
        self.effects: list[ViewEffect] = []
        self.instrument: Instrument | None = None
        self._tip_phase = (0.0, 0.0, 0.0)  # (mean depth, Hz, radians) of the instrument's motion
        self._place_artefacts(rng, present, scale, light_map)
        self._build_visibility()
        # Sensor noise: a few fields of grain, mostly shared by the channels, cycled frame by frame.
        sigma = rng.uniform(1.5, 4.0)
        self.grain = [_grain(rng, width, height, sigma) for _ in range(grain_frames)]

    def _build_canvas(self, rng: np.random.Generator, scale: float) -> np.ndarray:
        """Render the lit tissue canvas; returns its shading map (canvas_h, canvas_w) float32."""
        canvas_w, canvas_h = self.width + 2 * self.margin, self.height + 2 * self.margin
        tissue, light_map = render_tissue(rng, canvas_w, canvas_h, scale)
        lit = tissue.astype(np.float32) * lumen_shading(rng, canvas_w, canvas_h)[..., None]
        # Optics are never perfectly sharp: soften the tissue a little. Highlights drawn later stay crisp,
        # as a reflection far brighter than the sensor's range stays clipped however it is spread.
        softness = rng.uniform(0.5, 1.2) * scale
        self.canvas = cv2.GaussianBlur(lit.astype(np.uint8), (0, 0), softness)  # (canvas_h, canvas_w, 3)
        return light_map

    def _place_artefacts(
        self, rng: np.random.Generator, present: list[int], scale: float, light_map: np.ndarray
    ) -> None:
        """Draw the surface artefacts on the canvas and build the view effects and the instrument."""
        canvas_h, canvas_w = self.canvas.shape[:2]
        area_ratio = canvas_w * canvas_h / float(self.width * self.height)
        for label in present:
            low, high = _COUNTS[label]
            count = int(rng.integers(low, high + 1))
            if label in _SURFACE_DRAWERS:
                for index in range(max(count, round(count * area_ratio))):
                    # The first of each class lands inside the initial view; the rest anywhere on the canvas.
                    # Reflections sit where the surface faces the light: best lit of a few candidates.
                    tries = _REFLECTION_TRIES if label != BUBBLES else 1
                    candidates = [self._canvas_point(rng, in_view=index < count) for _ in range(tries)]
                    x, y = max(candidates, key=lambda p: light_map[int(p[1]), int(p[0])])
                    self.surface += _SURFACE_DRAWERS[label](self.canvas, rng, x, y, scale)
            elif label == INSTRUMENT:
                self.instrument = Instrument(rng, self.width, self.height, scale)
                self._tip_phase = (rng.uniform(0.3, 1.0), rng.uniform(0.05, 0.25), rng.uniform(0, 2 * np.pi))
            else:
                for _ in range(count):
                    point = self._point_in_view(rng)
                    effect = make_effect(label, rng, *point, scale, self.width, self.height)
                    if effect is not None:
                        self.effects.append(effect)
        # Darken first, then blur, then draw imaging artefacts, so each stays visible as what it is.
        self.effects.sort(key=lambda effect: _EFFECT_ORDER[effect.stamp.label])

    def _build_visibility(self) -> None:
        """Masks of where surface artefacts count as visible and where clipped highlights show through."""
        darkened = [e.stamp for e in self.effects if e.stamp.label == CONTRAST]
        blurred = [e.stamp for e in self.effects if e.stamp.label == BLUR]
        # Surface artefacts under a dark low-contrast region no longer look like themselves: hide them.
        self.surface_visible = self.fov.copy()  # (H, W) bool
        _cut_out(self.surface_visible, darkened)
        # Highlights clip the sensor, so vignetting does not dim them: keep the near-white canvas pixels
        # and put them back after the light fall-off, except where the view is darkened or blurred.
        clipped = self.canvas.min(axis=2) >= _CLIP_LEVEL  # (canvas_h, canvas_w)
        self.highlights = np.where(clipped[..., None], self.canvas, 0).astype(
            np.uint8
        )  # (canvas_h, canvas_w, 3)
        gate = self.surface_visible.copy()
        _cut_out(gate, blurred)
        self.highlight_gate = np.repeat(gate[..., None] * np.uint8(255), 3, axis=2)  # (H, W, 3) 0 or 255

    def _canvas_point(self, rng: np.random.Generator, in_view: bool) -> tuple[float, float]:
        """A random (x, y) canvas pixel: well inside the initial view's field of view, or anywhere."""
        if in_view:
            x, y = self._point_in_view(rng)
            return x + self.margin, y + self.margin
        canvas_h, canvas_w = self.canvas.shape[:2]
        return float(rng.integers(0, canvas_w)), float(rng.integers(0, canvas_h))

    def _point_in_view(self, rng: np.random.Generator) -> tuple[float, float]:
        """A random (x, y) view pixel well inside the field of view."""
        flat = int(self._inner_points[int(rng.integers(0, self._inner_points.size))])
        return float(flat % self.width), float(flat // self.width)

    def tip(self, seconds: float) -> float:
        """Instrument tip position at time `seconds` (slow in-and-out motion); 0 without an instrument."""
        if self.instrument is None:
            return 0.0
        mean, frequency, phase = self._tip_phase
        wave = 0.5 + 0.5 * np.sin(2 * np.pi * frequency * seconds + phase)
        return self.instrument.tip_at(min(1.0, mean * (0.55 + 0.45 * wave)))

    def render(self, offset_x: int, offset_y: int, seconds: float = 0.0, index: int = 0) -> SyntheticSample:
        """The view whose top-left is (offset_x, offset_y) on the canvas, at time `seconds`; `index` picks
        the sensor noise field."""
        x0, y0 = offset_x, offset_y
        view = self.canvas[y0 : y0 + self.height, x0 : x0 + self.width].copy()  # (H, W, 3)
        painted = None if self.instrument is None else self.instrument.draw(view, self.tip(seconds))
        for effect in self.effects:
            effect.apply(view)
        view = cv2.add(view, self.grain[index % len(self.grain)], dtype=cv2.CV_8U)
        image = cv2.multiply(view, self.gain, scale=1.0 / 255.0)
        gate = self.highlight_gate
        if painted is not None:
            gate = gate.copy()
            gate[painted] = 0
        highlights = self.highlights[y0 : y0 + self.height, x0 : x0 + self.width]
        image = cv2.max(image, cv2.bitwise_and(highlights, gate))
        boxes, labels = self._visible_boxes(x0, y0, painted)
        return SyntheticSample(
            image=image,
            boxes=np.array(boxes, np.float32).reshape(-1, 4),  # (N, 4)
            labels=np.array(labels, np.int64),
        )

    def _visible_boxes(
        self, x0: int, y0: int, painted: np.ndarray | None
    ) -> tuple[list[tuple[int, int, int, int]], list[int]]:
        """Boxes and labels of what is visible in the view at (x0, y0); painted: (H, W) bool pixels of the
        instrument, None without one."""
        found: list[tuple[tuple[int, int, int, int] | None, int]] = []
        visible = self.surface_visible if painted is None else self.surface_visible & ~painted
        found += [(visible_box(stamp, x0, y0, visible), stamp.label) for stamp in self.surface]
        found += [(visible_box(e.stamp, 0, 0, self.fov), e.stamp.label) for e in self.effects]
        tool = None if painted is None else Stamp.from_mask(INSTRUMENT, 0, 0, painted)
        if tool is not None:
            box = visible_box(tool, 0, 0, self.fov, min_fraction=0.0)
            if box is not None and (box[2] - box[0]) * (box[3] - box[1]) >= _MIN_INSTRUMENT_AREA:
                found.append((box, INSTRUMENT))
        kept = [(box, label) for box, label in found if box is not None]
        return [box for box, _ in kept], [label for _, label in kept]


def generate_frame(
    seed: int, size: tuple[int, int] = (512, 512), classes: Sequence[int] | None = None
) -> SyntheticSample:
    """One synthetic endoscopy frame, identical for the same seed, size and classes.

    size: (width, height) pixels; classes: EAD2019 class indices that must appear (each at least once;
    an empty sequence gives clean tissue), None for a random mix.
    """
    width, height = _check_size(size)
    wanted = _check_classes(classes)
    rng = np.random.default_rng(_check_seed(seed))
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
    forever. frame(i) is deterministic: the same arguments give the same frame i.

    size: (width, height) pixels; fps: frames per second of the camera clock; classes: as in
    generate_frame; bad_share: expected share (0-1) of one-second stretches in which every frame is
    degraded (one DEGRADATIONS kind and severity per stretch, recorded in SyntheticSample.degradation),
    so a stream has unusable passages for a quality gate to reject; 0 keeps every frame clean.
    """

    def __init__(
        self,
        seed: int,
        size: tuple[int, int] = (640, 480),
        fps: float = 25.0,
        classes: Sequence[int] | None = None,
        bad_share: float = 0.0,
    ) -> None:
        if fps <= 0:
            raise ConfigError(f"fps must be positive, got {fps}")
        if not 0.0 <= bad_share <= 1.0:
            raise ConfigError(f"bad_share must be in [0, 1], got {bad_share}")
        self.seed, self.size, self.fps = _check_seed(seed), _check_size(size), float(fps)
        self.bad_share = float(bad_share)
        width, height = self.size
        rng = np.random.default_rng(seed)
        margin = int(0.3 * min(width, height))
        self.scene = Scene(
            rng, width, height, _check_classes(classes), margin=margin, grain_frames=_GRAIN_FRAMES
        )
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

    def degradation(self, index: int) -> tuple[str, float] | None:
        """(kind, severity) applied to frame `index`, or None for a clean frame."""
        if self.bad_share <= 0.0:
            return None
        stretch = np.random.default_rng((self.seed, int(index // self.fps), 1))
        if stretch.random() >= self.bad_share:
            return None
        return str(stretch.choice(DEGRADATIONS)), float(stretch.uniform(0.0, 1.0))

    def frame(self, index: int) -> SyntheticSample:
        """Frame number `index` (0-based)."""
        sample = self.scene.render(*self.offset(index), seconds=index / self.fps, index=index)
        bad = self.degradation(index)
        if bad is None:
            return sample
        kind, severity = bad
        image = degrade(sample.image, kind, np.random.default_rng((self.seed, index, 2)), severity)
        return SyntheticSample(image=image, boxes=sample.boxes, labels=sample.labels, degradation=kind)

    def __iter__(self) -> Iterator[SyntheticSample]:
        index = 0
        while True:
            yield self.frame(index)
            index += 1
