"""Blurred and low-contrast regions from per-tile statistics, merged into boxes."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

BLUR, CONTRAST = 3, 4


@dataclass(frozen=True)
class TileThresholds:
    """tiles_across: tiles along the short side; fov_share: minimum share of a tile inside the field of
    view; blur_ratio: a tile is blurred when its Laplacian energy is below this fraction of the frame's
    median tile; min_reference: median Laplacian energy (grey levels squared) below which the whole frame
    is too flat to judge sharpness;
    dark_level: mean grey level (0-255) below which a tile is dark, lowered to dark_ratio times the frame's
    median tile mean when that is lower; flat_std: grey-level std below which
    a dark tile has lost its contrast; min_tiles: smallest group of tiles reported."""

    tiles_across: int = 16
    fov_share: float = 0.95
    blur_ratio: float = 0.2
    min_reference: float = 1.0
    dark_level: float = 55.0
    dark_ratio: float = 0.5
    flat_std: float = 14.0
    min_tiles: int = 2


@dataclass(frozen=True)
class TileStats:
    """Per-tile statistics of a grey image: (rows, cols) float32 arrays, `tile` pixels square."""

    tile: int
    mean: np.ndarray
    std: np.ndarray
    laplacian_energy: np.ndarray
    fov_share: np.ndarray


def tile_stats(gray: np.ndarray, fov: np.ndarray, tiles_across: int) -> TileStats:
    """Statistics of square tiles of an (H, W) uint8 grey image; right and bottom remainders are skipped."""
    tile = max(4, min(gray.shape) // tiles_across)
    rows, cols = gray.shape[0] // tile, gray.shape[1] // tile
    grey = gray[: rows * tile, : cols * tile].astype(np.float32)
    # Detail is measured at half resolution, where sensor noise and JPEG grain no longer dominate it.
    laplacian = cv2.Laplacian(cv2.pyrDown(grey), cv2.CV_32F, ksize=3)

    def block_mean(values: np.ndarray) -> np.ndarray:
        # Area resampling by a whole factor averages each tile: (rows*t, cols*t) -> (rows, cols).
        return cv2.resize(values, (cols, rows), interpolation=cv2.INTER_AREA)

    mean = block_mean(grey)
    variance = np.maximum(block_mean(grey * grey) - mean * mean, 0.0)
    inside = block_mean(fov[: rows * tile, : cols * tile].astype(np.float32))
    return TileStats(tile, mean, np.sqrt(variance), block_mean(laplacian * laplacian), inside)


def tile_groups(
    flags: np.ndarray, tile_scores: np.ndarray, tile: int, min_tiles: int, label: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Boxes around 8-connected groups of flagged tiles.

    flags: (rows, cols) bool; tile_scores: (rows, cols) float32 in [0, 1]. Returns boxes (N, 4) float32
    x1 y1 x2 y2 pixels, scores (N,) float32 (mean tile score of the group), labels (N,) int64 = label.
    """
    count, ids, stats, _ = cv2.connectedComponentsWithStatsWithAlgorithm(
        flags.astype(np.uint8), 8, cv2.CV_32S, cv2.CCL_GRANA
    )
    if count <= 1:
        return np.zeros((0, 4), np.float32), np.zeros(0, np.float32), np.zeros(0, np.int64)
    areas = stats[:, cv2.CC_STAT_AREA]
    score_sums = np.bincount(ids[flags], weights=tile_scores[flags], minlength=count)
    keep = np.flatnonzero(areas >= min_tiles)
    keep = keep[keep != 0]  # component 0 is the unflagged background
    x, y = stats[keep, cv2.CC_STAT_LEFT], stats[keep, cv2.CC_STAT_TOP]
    w, h = stats[keep, cv2.CC_STAT_WIDTH], stats[keep, cv2.CC_STAT_HEIGHT]
    boxes = np.stack([x, y, x + w, y + h], axis=1).astype(np.float32) * tile  # (N, 4) pixels
    scores = (score_sums[keep] / areas[keep]).astype(np.float32)
    return boxes, scores, np.full(keep.size, label, np.int64)


def find_blur_and_contrast(
    image: np.ndarray, fov: np.ndarray, thresholds: TileThresholds
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Blurred (BLUR) and dark low-contrast (CONTRAST) regions of an (H, W, 3) uint8 RGB image inside the
    (H, W) bool `fov`: boxes (N, 4) float32 x1 y1 x2 y2 pixels, scores (N,) float32, labels (N,) int64."""
    gray = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    stats = tile_stats(gray, fov, thresholds.tiles_across)
    inside = stats.fov_share >= thresholds.fov_share
    # Dark means dark for any scene and dark against this frame (dark tissue such as liver is no artefact).
    typical = float(np.median(stats.mean[inside])) if inside.any() else 0.0
    dark_level = min(thresholds.dark_level, thresholds.dark_ratio * typical)
    dark = inside & (stats.mean < dark_level) & (stats.std < thresholds.flat_std)
    contrast_score = 0.4 + 0.6 * np.clip(1.0 - stats.mean / max(dark_level, 1.0), 0.0, 1.0)

    # Sharpness is judged only where there is light enough for detail to show.
    judged = inside & (stats.mean >= thresholds.dark_level)
    judged_energy = stats.laplacian_energy[judged]
    reference = float(np.median(judged_energy)) if judged_energy.size >= 4 else 0.0
    relative = stats.laplacian_energy / max(reference, 1e-6)
    blurred = judged & (relative < thresholds.blur_ratio) & (reference >= thresholds.min_reference)
    blur_score = 0.4 + 0.6 * np.clip(1.0 - relative / thresholds.blur_ratio, 0.0, 1.0)

    parts = [
        tile_groups(blurred, blur_score, stats.tile, thresholds.min_tiles, BLUR),
        tile_groups(dark, contrast_score, stats.tile, thresholds.min_tiles, CONTRAST),
    ]
    return (
        np.concatenate([p[0] for p in parts]),
        np.concatenate([p[1] for p in parts]),
        np.concatenate([p[2] for p in parts]),
    )
