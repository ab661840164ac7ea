"""Frame-level degradations that make any RGB frame unusable for diagnosis, for training the quality gate.

severity in [0, 1] moves within a range that is already clearly bad at 0 and extreme at 1; sizes scale with
the frame's short side, so a 512-pixel and a 1280x720 frame degrade alike.
"""

from __future__ import annotations

import cv2
import numpy as np

from streamer.errors import ConfigError, DataError

DEGRADATIONS: tuple[str, ...] = (
    "defocus",
    "motion",
    "overexposure",
    "underexposure",
    "noise",
    "haze",
    "combined",
)
HAZE_BORDER_LEVEL = 20  # pixels at or below this grey level (max of R, G, B) are the border: no veil


def _lerp(low: float, high: float, severity: float) -> float:
    return low + (high - low) * severity


def _defocus(image: np.ndarray, severity: float) -> np.ndarray:
    """Disc (lens) blur of radius 2.5-6 % of the short side."""
    radius = max(2, round(_lerp(0.025, 0.06, severity) * min(image.shape[:2])))
    kernel = np.zeros((2 * radius + 1, 2 * radius + 1), np.float32)
    cv2.circle(kernel, (radius, radius), radius, 1.0, -1, cv2.LINE_AA)
    return cv2.filter2D(image, -1, kernel / kernel.sum(), borderType=cv2.BORDER_REFLECT)


def _motion(image: np.ndarray, rng: np.random.Generator, severity: float) -> np.ndarray:
    """Linear motion blur 5-13 % of the short side long, in a random direction."""
    length = max(5, round(_lerp(0.05, 0.13, severity) * min(image.shape[:2])))
    kernel = np.zeros((length, length), np.float32)
    angle = rng.uniform(0, np.pi)
    half = (length - 1) / 2.0
    tip = (half * np.cos(angle), half * np.sin(angle))
    cv2.line(
        kernel,
        (round(half - tip[0]), round(half - tip[1])),
        (round(half + tip[0]), round(half + tip[1])),
        1.0,
        1,
        cv2.LINE_AA,
    )
    return cv2.filter2D(image, -1, kernel / kernel.sum(), borderType=cv2.BORDER_REFLECT)


def _exposure(image: np.ndarray, gain: float, gamma: float) -> np.ndarray:
    """Scale linear light by `gain` and apply `gamma`, clipping: a lookup table on uint8."""
    levels = np.arange(256, dtype=np.float32) / 255.0
    table = np.clip(255.0 * np.clip(levels * gain, 0.0, 1.0) ** gamma, 0, 255).astype(np.uint8)
    return cv2.LUT(image, table)


def _noise(image: np.ndarray, rng: np.random.Generator, severity: float) -> np.ndarray:
    """Gaussian sensor noise, sigma 30-70 grey levels, partly correlated between channels."""
    sigma = _lerp(30.0, 70.0, severity)
    shape = image.shape[:2]
    luma = rng.standard_normal(shape, dtype=np.float32)[..., None]  # (H, W, 1)
    chroma = rng.standard_normal((*shape, 3), dtype=np.float32)  # (H, W, 3)
    noisy = image.astype(np.float32) + sigma * (0.7 * luma + 0.5 * chroma)
    return np.clip(noisy, 0, 255).astype(np.uint8)


def _haze(image: np.ndarray, rng: np.random.Generator, severity: float) -> np.ndarray:
    """Smoke-like veil: a smooth, slightly uneven light-grey layer over 60-90 % of the light, softened.

    The black border around the field of view stays black (smoke is inside the view).
    """
    height, width = image.shape[:2]
    coarse = rng.uniform(0.85, 1.0, size=(4, 4)).astype(np.float32)  # a few blobs of thicker smoke
    density = cv2.resize(coarse, (width, height), interpolation=cv2.INTER_CUBIC)  # (H, W)
    in_view = (image.max(axis=2) > HAZE_BORDER_LEVEL).astype(np.float32)
    alpha = (np.clip(_lerp(0.6, 0.9, severity) * density, 0.0, 0.95) * in_view)[..., None]  # (H, W, 1)
    veil = np.float32(rng.uniform(190, 235))
    softened = cv2.GaussianBlur(image, (0, 0), sigmaX=0.01 * min(height, width) + 0.5)
    hazy = softened.astype(np.float32) * (1.0 - alpha) + veil * alpha
    return np.clip(hazy, 0, 255).astype(np.uint8)


def degrade(
    image: np.ndarray, kind: str, rng: np.random.Generator, severity: float | None = None
) -> np.ndarray:
    """A degraded copy of `image` (H, W, 3) uint8 RGB.

    kind: one of DEGRADATIONS; severity: in [0, 1], drawn from `rng` when None.
    "combined" applies a blur (defocus or motion), then an exposure error, then noise, each at a lower
    severity, so that no single cue dominates.
    """
    if not isinstance(image, np.ndarray) or image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
        raise DataError(
            f"degrade needs an (H, W, 3) uint8 image, got {getattr(image, 'shape', None)} "
            f"{getattr(image, 'dtype', None)}"
        )
    if min(image.shape[:2]) < 16:
        raise DataError(
            f"degrade needs an image of at least 16x16 pixels, got {image.shape[1]}x{image.shape[0]}"
        )
    if kind not in DEGRADATIONS:
        raise ConfigError(f"unknown degradation {kind!r}; choose one of {', '.join(DEGRADATIONS)}")
    if severity is None:
        severity = float(rng.uniform(0.0, 1.0))
    if not 0.0 <= severity <= 1.0:
        raise ConfigError(f"severity must be in [0, 1], got {severity}")
    image = np.ascontiguousarray(image)
    if kind == "defocus":
        return _defocus(image, severity)
    if kind == "motion":
        return _motion(image, rng, severity)
    if kind == "overexposure":
        return _exposure(image, gain=_lerp(2.4, 4.5, severity), gamma=_lerp(0.8, 0.6, severity))
    if kind == "underexposure":
        return _exposure(image, gain=_lerp(0.22, 0.08, severity), gamma=_lerp(1.3, 1.6, severity))
    if kind == "noise":
        return _noise(image, rng, severity)
    if kind == "haze":
        return _haze(image, rng, severity)
    mild = 0.5 * severity
    blurred = _defocus(image, mild) if rng.random() < 0.5 else _motion(image, rng, mild)
    if rng.random() < 0.5:
        exposed = _exposure(blurred, gain=_lerp(1.8, 3.0, mild), gamma=0.85)
    else:
        exposed = _exposure(blurred, gain=_lerp(0.35, 0.15, mild), gamma=1.3)
    return _noise(exposed, rng, 0.3 * mild)
