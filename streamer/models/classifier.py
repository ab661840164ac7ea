"""Frame-quality classifiers (good / bad, and why): EfficientNet-B0 (Tan and Le), a lite CNN, and the lite
CNN with a feature pyramid whose statistics at every level feed the verdict (`lite_pyramid`).

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
from streamer.models.fpn import FeaturePyramid
from streamer.types import QUALITY_CAUSES

QUALITY_CLASSES: tuple[str, ...] = ("good", "bad")
COVERAGE_CHANNELS = len(QUALITY_CAUSES) + 1  # each cause, then their union
CLASSIFIER_BACKBONES: tuple[str, ...] = ("efficientnet_b0", "lite", "lite_pyramid")

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
    """EfficientNet-B0 trunk: (B, 3, H, W) -> (pooled (B, 1280), map (B, 1280, H/32, W/32))."""

    out_channels = 1280
    pooled_channels = map_channels = out_channels

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

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        feature_map = self.body(x)
        return feature_map.mean(dim=(2, 3)), feature_map


class LiteFeatures(nn.Module):
    """Lite depthwise-separable trunk: (B, 3, H, W) -> (pooled (B, C), map (B, C, H/32, W/32))."""

    def __init__(self, *, width: float = 0.25) -> None:
        super().__init__()
        self.trunk = LiteBackbone(width=width)
        self.pooled_channels = self.map_channels = self.trunk.out_channels[-1]

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        feature_map = self.trunk(x)[-1]
        return feature_map.mean(dim=(2, 3)), feature_map


class LitePyramidFeatures(nn.Module):
    """A lite detector's trunk and feature pyramid, described at every level: (B, 3, H, W) -> (pooled
    (B, F): mean and standard deviation of each channel at strides 16 and 32 and the mean of each pyramid
    level P3..P7, batch-normalised; map: P5 (B, fpn_channels, H/32, W/32)).

    `freeze()` keeps the trunk and pyramid as they are (weights and batch-norm statistics) while the
    rest of the classifier trains: they come from a detector trained on the same frames' boxes.
    """

    def __init__(self, *, width: float = 0.5, fpn_channels: int = 64) -> None:
        super().__init__()
        self.trunk = LiteBackbone(width=width)
        self.fpn = FeaturePyramid(in_channels=self.trunk.out_channels, channels=fpn_channels)
        c4, c5 = self.trunk.out_channels[1:]
        self.pooled_channels = 2 * (c4 + c5) + 5 * fpn_channels
        self.map_channels = fpn_channels
        self.norm = nn.BatchNorm1d(self.pooled_channels)
        self.frozen = False

    def freeze(self) -> None:
        """Stop training the trunk and pyramid; `train()` leaves them in eval mode from now on."""
        self.frozen = True
        for module in (self.trunk, self.fpn):
            module.requires_grad_(False)
            module.eval()

    def train(self, mode: bool = True) -> LitePyramidFeatures:
        super().train(mode)
        if self.frozen:
            self.trunk.eval()
            self.fpn.eval()
        return self

    def statistics(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(B, 3, H, W) -> (statistics before normalisation (B, F), P5 (B, fpn_channels, H/32, W/32))."""
        levels = self.trunk(x)
        pyramid = self.fpn(levels)
        stats = []
        for level in levels[1:]:  # C4, C5: (B, C, h, w) -> mean and std (B, C) each
            flat = level.flatten(2)
            stats += [flat.mean(dim=2), flat.std(dim=2)]
        stats += [level.mean(dim=(2, 3)) for level in pyramid]
        return torch.cat(stats, dim=1), pyramid[2]

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        stats, p5 = self.statistics(x)
        return self.norm(stats), p5


class QualityClassifier(nn.Module):
    """Features -> (pooled -> dropout -> linear: bad logit) and (map -> 1x1 conv: coverage logits).

    features: a module (B, 3, H, W) -> (pooled (B, pooled_channels), map (B, map_channels, H/32, W/32)).
    degradation_head: a second linear head on the pooled features (`degradation`) tells synthetically
    degraded frames from clean ones, and p_bad = max(p_fc, p_degradation): either head can call a frame bad.
    """

    def __init__(
        self,
        *,
        features: nn.Module,
        input_size: tuple[int, int],
        dropout: float = 0.2,
        degradation_head: bool = False,
    ) -> None:
        super().__init__()
        self.features = features
        self.input_size = (int(input_size[0]), int(input_size[1]))
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(features.pooled_channels, 1)
        self.coverage = nn.Conv2d(features.map_channels, COVERAGE_CHANNELS, 1)
        self.degradation = nn.Linear(features.pooled_channels, 1) if degradation_head else None

    def forward_train(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """x (B, 3, H, W) -> (bad logit (B,), coverage logits (B, C + 1, H/32, W/32))."""
        pooled, feature_map = self.features(x)
        pooled = self.dropout(pooled)
        bad_logit = self.fc(pooled)[:, 0]
        if self.degradation is not None:  # max of the probabilities = max of the logits
            bad_logit = torch.maximum(bad_logit, self.degradation(pooled)[:, 0])
        return bad_logit, self.coverage(feature_map)

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
    fpn_channels: int = 64,
    dropout: float = 0.2,
    features_module: nn.Module | None = None,
    degradation_head: bool = False,
) -> QualityClassifier:
    """Build an untrained quality classifier; `width` applies to the lite backbones, `fpn_channels` to
    "lite_pyramid" only; `degradation_head` adds the degradation head (see QualityClassifier).

    features_module: a ready features module with `pooled_channels` and `map_channels` (None means built
    from `backbone`).
    """
    if features_module is None:
        if backbone == "efficientnet_b0":
            features_module = EfficientNetB0Features()
        elif backbone == "lite":
            features_module = LiteFeatures(width=width)
        elif backbone == "lite_pyramid":
            features_module = LitePyramidFeatures(width=width, fpn_channels=fpn_channels)
        else:
            known = ", ".join(CLASSIFIER_BACKBONES)
            raise ConfigError(f"unknown classifier backbone {backbone!r}; choose one of {known}")
    return QualityClassifier(
        features=features_module,
        input_size=tuple(input_size),
        dropout=dropout,
        degradation_head=degradation_head,
    )
