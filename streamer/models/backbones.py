"""Feature extractors that return the C3, C4, C5 maps (strides 8, 16, 32) for the FPN.

Every backbone takes an image batch (B, 3, H, W) and returns a list of three tensors
[(B, c3, H/8, W/8), (B, c4, H/16, W/16), (B, c5, H/32, W/32)]; `out_channels` gives (c3, c4, c5).
H and W must be multiples of 32.
"""

from __future__ import annotations

import torch
from torch import nn

from streamer.errors import ConfigError

RESNET_LAYERS: dict[str, tuple[str, tuple[int, int, int, int]]] = {
    "resnet18": ("basic", (2, 2, 2, 2)),
    "resnet34": ("basic", (3, 4, 6, 3)),
    "resnet50": ("bottleneck", (3, 4, 6, 3)),
    "resnet101": ("bottleneck", (3, 4, 23, 3)),
    "resnet152": ("bottleneck", (3, 8, 36, 3)),
}
VGG_CONVS: dict[str, tuple[int, int, int, int, int]] = {
    "vgg16": (2, 2, 3, 3, 3),
    "vgg19": (2, 2, 4, 4, 4),
}
BACKBONES: tuple[str, ...] = (*RESNET_LAYERS, *VGG_CONVS, "lite")


def conv_bn_relu(in_channels: int, out_channels: int, *, kernel: int = 3, stride: int = 1, groups: int = 1):
    """Conv (same padding, no bias) + BatchNorm + ReLU."""
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, kernel, stride, kernel // 2, groups=groups, bias=False),
        nn.BatchNorm2d(out_channels),
        nn.ReLU(inplace=True),
    )


class BasicBlock(nn.Module):
    """ResNet block of two 3x3 convs (ResNet-18/34)."""

    expansion = 1

    def __init__(self, in_channels: int, channels: int, stride: int) -> None:
        super().__init__()
        out_channels = channels * self.expansion
        self.body = nn.Sequential(
            conv_bn_relu(in_channels, channels, stride=stride),
            nn.Conv2d(channels, out_channels, 3, 1, 1, bias=False),
            nn.BatchNorm2d(out_channels),
        )
        self.shortcut = _shortcut(in_channels, out_channels, stride)
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.relu(self.body(x) + self.shortcut(x))


class Bottleneck(nn.Module):
    """ResNet block 1x1 → 3x3 → 1x1 with 4x expansion (ResNet-50/101/152), stride on the 3x3."""

    expansion = 4

    def __init__(self, in_channels: int, channels: int, stride: int) -> None:
        super().__init__()
        out_channels = channels * self.expansion
        self.body = nn.Sequential(
            conv_bn_relu(in_channels, channels, kernel=1),
            conv_bn_relu(channels, channels, stride=stride),
            nn.Conv2d(channels, out_channels, 1, bias=False),
            nn.BatchNorm2d(out_channels),
        )
        self.shortcut = _shortcut(in_channels, out_channels, stride)
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.relu(self.body(x) + self.shortcut(x))


def _shortcut(in_channels: int, out_channels: int, stride: int) -> nn.Module:
    if stride == 1 and in_channels == out_channels:
        return nn.Identity()
    projection = nn.Conv2d(in_channels, out_channels, 1, stride, bias=False)
    return nn.Sequential(projection, nn.BatchNorm2d(out_channels))


class ResNet(nn.Module):
    """ResNet (He et al.) trunk; C3, C4, C5 are the outputs of stages 2, 3, 4."""

    def __init__(self, *, depth: str = "resnet50") -> None:
        super().__init__()
        kind, blocks = RESNET_LAYERS[depth]
        block = BasicBlock if kind == "basic" else Bottleneck
        self.stem = nn.Sequential(
            nn.Conv2d(3, 64, 7, 2, 3, bias=False),
            nn.BatchNorm2d(64),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(3, 2, 1),
        )
        stages = []
        in_channels = 64
        for index, (channels, count) in enumerate(zip((64, 128, 256, 512), blocks, strict=True)):
            layers = []
            for position in range(count):
                stride = 2 if position == 0 and index > 0 else 1
                layers.append(block(in_channels, channels, stride))
                in_channels = channels * block.expansion
            stages.append(nn.Sequential(*layers))
        self.stages = nn.ModuleList(stages)
        self.out_channels = tuple(c * block.expansion for c in (128, 256, 512))

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        x = self.stem(x)
        features = []
        for index, stage in enumerate(self.stages):
            x = stage(x)
            if index >= 1:
                features.append(x)
        return features


class VGG(nn.Module):
    """VGG-16/19 (Simonyan and Zisserman) with BatchNorm; C3, C4, C5 follow pools 3, 4, 5."""

    def __init__(self, *, depth: str = "vgg16") -> None:
        super().__init__()
        blocks = []
        in_channels = 3
        for channels, count in zip((64, 128, 256, 512, 512), VGG_CONVS[depth], strict=True):
            layers: list[nn.Module] = []
            for _ in range(count):
                layers.append(conv_bn_relu(in_channels, channels))
                in_channels = channels
            layers.append(nn.MaxPool2d(2, 2))
            blocks.append(nn.Sequential(*layers))
        self.blocks = nn.ModuleList(blocks)
        self.out_channels = (256, 512, 512)

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        features = []
        for index, block in enumerate(self.blocks):
            x = block(x)
            if index >= 2:
                features.append(x)
        return features


class SeparableConv(nn.Sequential):
    """Depthwise 3x3 + BN + ReLU, then pointwise 1x1 + BN + ReLU (MobileNet v1 unit)."""

    def __init__(self, in_channels: int, out_channels: int, stride: int = 1) -> None:
        super().__init__(
            conv_bn_relu(in_channels, in_channels, stride=stride, groups=in_channels),
            conv_bn_relu(in_channels, out_channels, kernel=1),
        )


def _downsampling_stage(in_channels: int, out_channels: int) -> nn.Sequential:
    return nn.Sequential(
        SeparableConv(in_channels, out_channels, stride=2), SeparableConv(out_channels, out_channels)
    )


class LiteBackbone(nn.Module):
    """MobileNet-style depthwise-separable trunk for real time on CPU.

    width: channel multiplier; at width 1 the C3, C4, C5 maps have 256, 512, 1024 channels.
    """

    def __init__(self, *, width: float = 0.5) -> None:
        super().__init__()

        def ch(channels: int) -> int:
            return max(8, int(channels * width + 4) // 8 * 8)

        self.stem = nn.Sequential(
            conv_bn_relu(3, ch(32), stride=2),
            SeparableConv(ch(32), ch(64)),
            SeparableConv(ch(64), ch(128), stride=2),
            SeparableConv(ch(128), ch(128)),
        )
        self.stage3 = _downsampling_stage(ch(128), ch(256))
        self.stage4 = _downsampling_stage(ch(256), ch(512))
        self.stage5 = _downsampling_stage(ch(512), ch(1024))
        self.out_channels = (ch(256), ch(512), ch(1024))

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        c3 = self.stage3(self.stem(x))
        c4 = self.stage4(c3)
        c5 = self.stage5(c4)
        return [c3, c4, c5]


def build_backbone(name: str, *, width: float = 0.5) -> nn.Module:
    """The backbone called `name` (one of BACKBONES); `width` applies to "lite" only."""
    if name in RESNET_LAYERS:
        return ResNet(depth=name)
    if name in VGG_CONVS:
        return VGG(depth=name)
    if name == "lite":
        return LiteBackbone(width=width)
    raise ConfigError(f"unknown backbone {name!r}; choose one of {', '.join(BACKBONES)}")
