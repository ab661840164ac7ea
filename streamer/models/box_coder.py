"""Box coder: boxes x1 y1 x2 y2 <-> regression targets (dx, dy, dw, dh) relative to anchors.

dx = (cx - cx_a) / w_a / sx, dy = (cy - cy_a) / h_a / sy, dw = log(w / w_a) / sw, dh = log(h / h_a) / sh,
with (sx, sy, sw, sh) = `stds`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

MAX_LOG_RATIO = math.log(1000.0 / 16)


@dataclass(frozen=True)
class BoxCoder:
    """Encodes and decodes boxes against anchors; `stds` divides the targets (x, y, w, h)."""

    stds: tuple[float, float, float, float] = (0.1, 0.1, 0.2, 0.2)

    def encode(self, boxes: torch.Tensor, anchors: torch.Tensor) -> torch.Tensor:
        """boxes, anchors: (N, 4) x1 y1 x2 y2 pixels -> (N, 4) targets dx dy dw dh."""
        anchor_w = anchors[:, 2] - anchors[:, 0]
        anchor_h = anchors[:, 3] - anchors[:, 1]
        anchor_x = anchors[:, 0] + 0.5 * anchor_w
        anchor_y = anchors[:, 1] + 0.5 * anchor_h
        box_w = (boxes[:, 2] - boxes[:, 0]).clamp(min=1e-3)
        box_h = (boxes[:, 3] - boxes[:, 1]).clamp(min=1e-3)
        box_x = boxes[:, 0] + 0.5 * box_w
        box_y = boxes[:, 1] + 0.5 * box_h
        targets = torch.stack(
            [
                (box_x - anchor_x) / anchor_w,
                (box_y - anchor_y) / anchor_h,
                torch.log(box_w / anchor_w),
                torch.log(box_h / anchor_h),
            ],
            dim=1,
        )
        return targets / targets.new_tensor(self.stds)

    def decode(self, deltas: torch.Tensor, anchors: torch.Tensor) -> torch.Tensor:
        """deltas (..., A, 4) dx dy dw dh, anchors (A, 4) x1 y1 x2 y2 -> (..., A, 4) x1 y1 x2 y2 pixels."""
        deltas = deltas * deltas.new_tensor(self.stds)
        anchor_w = anchors[:, 2] - anchors[:, 0]
        anchor_h = anchors[:, 3] - anchors[:, 1]
        anchor_x = anchors[:, 0] + 0.5 * anchor_w
        anchor_y = anchors[:, 1] + 0.5 * anchor_h
        centre_x = deltas[..., 0] * anchor_w + anchor_x
        centre_y = deltas[..., 1] * anchor_h + anchor_y
        half_w = 0.5 * torch.exp(deltas[..., 2].clamp(max=MAX_LOG_RATIO)) * anchor_w
        half_h = 0.5 * torch.exp(deltas[..., 3].clamp(max=MAX_LOG_RATIO)) * anchor_h
        corners = [centre_x - half_w, centre_y - half_h, centre_x + half_w, centre_y + half_h]
        return torch.stack(corners, dim=-1)
