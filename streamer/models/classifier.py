"""Frame-quality classifiers (good / bad, and why): EfficientNet-B0 (Tan and Le) and a lite CNN.

Input: (B, 3, H, W) normalised float. `model(x)` -> {"p_bad": (B,) probability that the frame is bad,
"causes": (B, C) share of the frame that is blurred, badly exposed and saturated (QUALITY_CAUSES order)}.
`model.forward_train(x)` -> (bad logit (B,), coverage logits (B, C + 1, H/32, W/32)): per cell of the
stride-32 grid, the logit that the cell is covered by each cause, then by any of them.
"""

from __future__ import annotations

import torch
from torch import nn

from streamer.errors import ConfigError
from streamer.models.backbones import LiteBackbone
from streamer.types import QUALITY_CAUSES

QUALITY_CLASSES: tuple[str, ...] = ("good", "bad")
COVERAGE_CHANNELS = len(QUALITY_CAUSES) + 1  # each cause, then their union
CLASSIFIER_BACKBONES: tuple[str, ...] = ("efficientnet_b0", "lite")

# expand ratio, output channels, repeats, first stride, kernel: the B0 stages
EFFICIENTNET_B0_STAGES: tuple[tuple[int, int, int, int, int], ...] = (
    (1, 16, 1, 1, 3),
    (6, 24, 2, 2, 3),
    (6, 40, 2, 2, 5),
    (6, 80, 3, 2, 3),
    (6, 112, 3, 1, 5),
    (6, 192, 4, 2, 5),
    (6, 320, 1, 1, 3),
)


def conv_bn_silu(in_channels: int, out_channels: int, *, kernel: int = 1, stride: int = 1, groups: int = 1):
    """Conv (same padding, no bias) + BatchNorm + SiLU."""
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, kernel, stride, kernel // 2, groups=groups, bias=False),
        nn.BatchNorm2d(out_channels),
        nn.SiLU(inplace=True),
    )


class SqueezeExcite(nn.Module):
    """Channel attention: global pool -> reduce -> SiLU -> expand -> sigmoid gate."""

    def __init__(self, channels: int, reduced: int) -> None:
        super().__init__()
        self.gate = nn.Sequential(
            nn.AdaptiveAvgPool2d(1),
            nn.Conv2d(channels, reduced, 1),
            nn.SiLU(inplace=True),
            nn.Conv2d(reduced, channels, 1),
            nn.Sigmoid(),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.gate(x)


class MBConv(nn.Module):
    """Inverted residual: 1x1 expand, depthwise kxk, squeeze-excite (ratio 0.25 of the input), 1x1 project."""

    def __init__(self, in_channels: int, out_channels: int, *, expand: int, stride: int, kernel: int) -> None:
        super().__init__()
        hidden = in_channels * expand
        layers: list[nn.Module] = []
        if expand != 1:
            layers.append(conv_bn_silu(in_channels, hidden))
        layers += [
            conv_bn_silu(hidden, hidden, kernel=kernel, stride=stride, groups=hidden),
            SqueezeExcite(hidden, max(1, in_channels // 4)),
            nn.Conv2d(hidden, out_channels, 1, bias=False),
            nn.BatchNorm2d(out_channels),
        ]
        self.body = nn.Sequential(*layers)
        self.residual = stride == 1 and in_channels == out_channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.body(x)
        return out + x if self.residual else out


class EfficientNetB0Features(nn.Module):
    """EfficientNet-B0 trunk: (B, 3, H, W) -> (B, 1280, H/32, W/32)."""

    out_channels = 1280

    def __init__(self) -> None:
        super().__init__()
        layers: list[nn.Module] = [conv_bn_silu(3, 32, kernel=3, stride=2)]
        in_channels = 32
        for expand, channels, repeats, stride, kernel in EFFICIENTNET_B0_STAGES:
            for index in range(repeats):
                first_stride = stride if index == 0 else 1
                layers.append(
                    MBConv(in_channels, channels, expand=expand, stride=first_stride, kernel=kernel)
                )
                in_channels = channels
        layers.append(conv_bn_silu(in_channels, self.out_channels))
        self.body = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)


class LiteFeatures(nn.Module):
    """Lite depthwise-separable trunk: (B, 3, H, W) -> (B, C, H/32, W/32)."""

    def __init__(self, *, width: float = 0.25) -> None:
        super().__init__()
        self.trunk = LiteBackbone(width=width)
        self.out_channels = self.trunk.out_channels[-1]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.trunk(x)[-1]


class QualityClassifier(nn.Module):
    """Features -> (global average pool -> dropout -> linear: bad logit) and (1x1 conv: coverage logits)."""

    def __init__(self, *, features: nn.Module, input_size: tuple[int, int], dropout: float = 0.2) -> None:
        super().__init__()
        self.features = features
        self.input_size = (int(input_size[0]), int(input_size[1]))
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(features.out_channels, 1)
        self.coverage = nn.Conv2d(features.out_channels, COVERAGE_CHANNELS, 1)

    def forward_train(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """x (B, 3, H, W) -> (bad logit (B,), coverage logits (B, C + 1, H/32, W/32))."""
        features = self.features(x)
        pooled = self.pool(features).flatten(1)  # (B, F, 1, 1) -> (B, F)
        return self.fc(self.dropout(pooled))[:, 0], self.coverage(features)

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """x (B, 3, H, W) -> {"p_bad": (B,), "causes": (B, C) fractions of the frame}."""
        bad_logit, coverage = self.forward_train(x)
        causes = torch.sigmoid(coverage[:, : len(QUALITY_CAUSES)]).mean(dim=(2, 3))
        return {"p_bad": torch.sigmoid(bad_logit), "causes": causes}


def classifier(
    *,
    backbone: str = "efficientnet_b0",
    input_size: tuple[int, int] | list[int] = (224, 224),
    width: float = 0.25,
    dropout: float = 0.2,
    features_module: nn.Module | None = None,
) -> QualityClassifier:
    """Build an untrained quality classifier; `width` applies to the "lite" backbone only.

    features_module: a ready trunk with `out_channels` (None means built from `backbone`).
    """
    if features_module is None:
        if backbone == "efficientnet_b0":
            features_module = EfficientNetB0Features()
        elif backbone == "lite":
            features_module = LiteFeatures(width=width)
        else:
            known = ", ".join(CLASSIFIER_BACKBONES)
            raise ConfigError(f"unknown classifier backbone {backbone!r}; choose one of {known}")
    return QualityClassifier(features=features_module, input_size=tuple(input_size), dropout=dropout)
