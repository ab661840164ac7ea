"""RetinaNet anchors: one size per FPN level (default 32–512 px on strides 8–128), 3 ratios x 3 scales per cell.

Anchor order (shared with the heads): level P3..P7, then row y, column x, then the A = 9 shapes
(ratio-major: ratio 0.5 with scales 2^0, 2^(1/3), 2^(2/3), then ratio 1, then ratio 2).
Boxes are (N, 4) float32 x1 y1 x2 y2 in network-input pixels.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch

from streamer.errors import ConfigError

STRIDES: tuple[int, ...] = (8, 16, 32, 64, 128)
SIZES: tuple[int, ...] = (32, 64, 128, 256, 512)
RATIOS: tuple[float, ...] = (0.5, 1.0, 2.0)
SCALES: tuple[float, ...] = (1.0, 2 ** (1 / 3), 2 ** (2 / 3))


def feature_sizes(input_size: Sequence[int]) -> list[tuple[int, int]]:
    """(h, w) of P3..P7 for an input (H, W) that is a multiple of 32; P6, P7 come from stride-2 3x3 convs."""
    height, width = int(input_size[0]), int(input_size[1])
    if height <= 0 or width <= 0 or height % 32 or width % 32:
        raise ConfigError(f"detector input size must be a positive multiple of 32, got {height}x{width}")
    sizes = [(height // 8, width // 8), (height // 16, width // 16), (height // 32, width // 32)]
    for _ in range(2):
        h, w = sizes[-1]
        sizes.append((math.ceil(h / 2), math.ceil(w / 2)))
    return sizes


@dataclass(frozen=True)
class AnchorGenerator:
    """Makes the anchors of every FPN level for one input size."""

    strides: tuple[int, ...] = STRIDES
    sizes: tuple[int, ...] = SIZES
    ratios: tuple[float, ...] = RATIOS
    scales: tuple[float, ...] = SCALES

    def __post_init__(self) -> None:
        if len(self.sizes) != len(self.strides) or min(self.sizes) <= 0:
            raise ConfigError(f"anchor sizes must be {len(self.strides)} positive sides, got {self.sizes}")

    @property
    def per_cell(self) -> int:
        """A: anchors per feature-map cell."""
        return len(self.ratios) * len(self.scales)

    def cell_anchors(self, size: int) -> torch.Tensor:
        """(A, 4) x1 y1 x2 y2 anchors centred on (0, 0) with area (size * scale)^2 and h/w = ratio."""
        shapes = []
        for ratio in self.ratios:
            for scale in self.scales:
                side = size * scale
                width = side / math.sqrt(ratio)
                height = side * math.sqrt(ratio)
                shapes.append((-width / 2, -height / 2, width / 2, height / 2))
        return torch.tensor(shapes, dtype=torch.float32)

    def level_sizes(self, input_size: Sequence[int]) -> list[int]:
        """Number of anchors on each level P3..P7 for an input (H, W)."""
        return [h * w * self.per_cell for h, w in feature_sizes(input_size)]

    def __call__(self, input_size: Sequence[int]) -> torch.Tensor:
        """(sum(level_sizes), 4) float32 anchors x1 y1 x2 y2 in input pixels, centred on cell centres."""
        levels = []
        for (h, w), stride, size in zip(feature_sizes(input_size), self.strides, self.sizes, strict=True):
            ys = (torch.arange(h, dtype=torch.float32) + 0.5) * stride
            xs = (torch.arange(w, dtype=torch.float32) + 0.5) * stride
            grid_y, grid_x = torch.meshgrid(ys, xs, indexing="ij")
            centres = torch.stack([grid_x, grid_y, grid_x, grid_y], dim=-1)  # (h, w, 4)
            centres = centres.reshape(-1, 1, 4)  # (h, w, 4) -> (hw, 1, 4)
            level = centres + self.cell_anchors(size).reshape(1, -1, 4)  # (A, 4) -> (1, A, 4)
            levels.append(level.reshape(-1, 4))  # (hw, A, 4) -> (hwA, 4)
        return torch.cat(levels)
