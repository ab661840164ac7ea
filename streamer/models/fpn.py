"""Feature pyramid (Lin et al.): P3–P5 from C3–C5 top-down, P6 from C5, P7 from P6."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class FeaturePyramid(nn.Module):
    """[C3, C4, C5] (B, c_i, H/2^i, W/2^i) -> [P3..P7] (B, channels, H/2^i, W/2^i) for i = 3..7."""

    def __init__(self, *, in_channels: tuple[int, int, int], channels: int = 256) -> None:
        super().__init__()
        self.lateral = nn.ModuleList(nn.Conv2d(c, channels, 1) for c in in_channels)
        self.smooth = nn.ModuleList(nn.Conv2d(channels, channels, 3, padding=1) for _ in in_channels)
        self.p6 = nn.Conv2d(in_channels[-1], channels, 3, stride=2, padding=1)
        self.p7 = nn.Sequential(nn.ReLU(), nn.Conv2d(channels, channels, 3, stride=2, padding=1))
        for module in self.modules():
            if isinstance(module, nn.Conv2d):
                nn.init.kaiming_uniform_(module.weight, a=1)
                nn.init.zeros_(module.bias)

    def forward(self, features: list[torch.Tensor]) -> list[torch.Tensor]:
        c3, c4, c5 = features
        p5 = self.lateral[2](c5)
        p4 = self.lateral[1](c4) + F.interpolate(p5, size=c4.shape[-2:], mode="nearest")
        p3 = self.lateral[0](c3) + F.interpolate(p4, size=c3.shape[-2:], mode="nearest")
        p6 = self.p6(c5)
        p7 = self.p7(p6)
        return [self.smooth[0](p3), self.smooth[1](p4), self.smooth[2](p5), p6, p7]
