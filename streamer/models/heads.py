"""RetinaNet subnets: one classification and one box head, shared by all FPN levels."""

from __future__ import annotations

import math

import torch
from torch import nn


def head_conv(channels: int, *, separable: bool) -> nn.Module:
    """3x3 conv + ReLU keeping `channels`; depthwise 3x3 + pointwise 1x1 when `separable`."""
    if separable:
        return nn.Sequential(
            nn.Conv2d(channels, channels, 3, padding=1, groups=channels),
            nn.Conv2d(channels, channels, 1),
            nn.ReLU(inplace=True),
        )
    return nn.Sequential(nn.Conv2d(channels, channels, 3, padding=1), nn.ReLU(inplace=True))


class Head(nn.Module):
    """`depth` convs of `width` channels, then a 3x3 conv to A * outputs channels per cell.

    forward: [P3..P7] each (B, in_channels, h, w) -> (B, sum(h * w * A), outputs), in anchor order.
    """

    def __init__(
        self,
        *,
        in_channels: int,
        anchors_per_cell: int,
        outputs: int,
        width: int = 256,
        depth: int = 4,
        separable: bool = False,
        bias_init: float = 0.0,
    ) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        if in_channels != width:
            layers += [nn.Conv2d(in_channels, width, 1), nn.ReLU(inplace=True)]
        layers += [head_conv(width, separable=separable) for _ in range(depth)]
        self.tower = nn.Sequential(*layers)
        self.predict = nn.Conv2d(width, anchors_per_cell * outputs, 3, padding=1)
        self.outputs = outputs
        for module in self.modules():
            if isinstance(module, nn.Conv2d):
                nn.init.normal_(module.weight, std=0.01)
                nn.init.zeros_(module.bias)
        nn.init.constant_(self.predict.bias, bias_init)

    def forward(self, features: list[torch.Tensor]) -> torch.Tensor:
        levels = []
        for feature in features:
            out = self.predict(self.tower(feature))
            batch, _, height, width = out.shape
            out = out.view(batch, -1, self.outputs, height, width)  # (B, A*K, h, w) -> (B, A, K, h, w)
            out = out.permute(0, 3, 4, 1, 2)  # (B, A, K, h, w) -> (B, h, w, A, K)
            levels.append(out.reshape(batch, -1, self.outputs))  # (B, h, w, A, K) -> (B, hwA, K)
        return torch.cat(levels, dim=1)


def classification_head(
    *,
    in_channels: int,
    anchors_per_cell: int,
    num_classes: int,
    width: int = 256,
    depth: int = 4,
    separable: bool = False,
    prior: float = 0.01,
) -> Head:
    """Class logits head; the last bias is -log((1 - prior) / prior) so every anchor starts at p = prior."""
    return Head(
        in_channels=in_channels,
        anchors_per_cell=anchors_per_cell,
        outputs=num_classes,
        width=width,
        depth=depth,
        separable=separable,
        bias_init=-math.log((1 - prior) / prior),
    )


def box_head(
    *, in_channels: int, anchors_per_cell: int, width: int = 256, depth: int = 4, separable: bool = False
) -> Head:
    """Box regression head: (dx, dy, dw, dh) per anchor (see BoxCoder)."""
    return Head(
        in_channels=in_channels,
        anchors_per_cell=anchors_per_cell,
        outputs=4,
        width=width,
        depth=depth,
        separable=separable,
    )
