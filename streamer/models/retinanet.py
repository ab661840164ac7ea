"""RetinaNet (Lin et al., "Focal Loss for Dense Object Detection"), as used for EAD2019 by Kayser et al.

Input: (B, 3, H, W) normalised float at the model's fixed input size (H, W multiples of 32), any batch.
`model(x)` -> {"boxes": (B, A, 4) x1 y1 x2 y2 in input pixels, "scores": (B, A, K) sigmoid probabilities};
`model.forward_train(x)` -> (class logits (B, A, K), box deltas (B, A, 4)) for the loss.
A is the total number of anchors over P3..P7 (see `level_sizes`).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from streamer.errors import ConfigError
from streamer.models.anchors import SIZES, AnchorGenerator
from streamer.models.backbones import build_backbone
from streamer.models.box_coder import BoxCoder
from streamer.models.fpn import FeaturePyramid
from streamer.models.heads import box_head, classification_head
from streamer.types import EAD2019_CLASSES


class RetinaNet(nn.Module):
    """Backbone + FPN + shared heads, with the anchors of the fixed input size kept as a buffer."""

    def __init__(
        self,
        *,
        backbone: nn.Module,
        fpn: nn.Module,
        classification: nn.Module,
        regression: nn.Module,
        input_size: tuple[int, int],
        anchor_generator: AnchorGenerator | None = None,
        box_coder: BoxCoder | None = None,
    ) -> None:
        super().__init__()
        self.backbone = backbone
        self.fpn = fpn
        self.classification = classification
        self.regression = regression
        self.input_size = (int(input_size[0]), int(input_size[1]))
        self.anchor_generator = anchor_generator or AnchorGenerator()
        self.box_coder = box_coder or BoxCoder()
        self.register_buffer("anchors", self.anchor_generator(self.input_size), persistent=False)

    def level_sizes(self, input_size: Sequence[int] | None = None) -> list[int]:
        """Anchors per FPN level P3..P7 for `input_size` (H, W), by default the model's own."""
        return self.anchor_generator.level_sizes(input_size or self.input_size)

    def forward_train(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """x (B, 3, H, W) -> (class logits (B, A, K), box deltas (B, A, 4))."""
        if not torch.jit.is_tracing() and tuple(x.shape[-2:]) != self.input_size:
            raise ValueError(f"RetinaNet expects input {self.input_size}, got {tuple(x.shape[-2:])}")
        features = self.fpn(self.backbone(x))
        return self.classification(features), self.regression(features)

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """x (B, 3, H, W) -> {"boxes": (B, A, 4) x1 y1 x2 y2 input pixels, "scores": (B, A, K)}."""
        logits, deltas = self.forward_train(x)
        return {"boxes": self.box_coder.decode(deltas, self.anchors), "scores": torch.sigmoid(logits)}


def retinanet(
    *,
    backbone: str = "resnet50",
    num_classes: int = len(EAD2019_CLASSES),
    input_size: Sequence[int] = (512, 512),
    fpn_channels: int = 256,
    head_width: int = 256,
    head_depth: int = 4,
    separable_heads: bool = False,
    backbone_width: float = 0.5,
    prior: float = 0.01,
    anchor_sizes: Sequence[int] = SIZES,
    backbone_module: nn.Module | None = None,
    fpn_module: nn.Module | None = None,
) -> RetinaNet:
    """Build an untrained RetinaNet.

    backbone: a name from streamer.models.backbones.BACKBONES ("lite" uses `backbone_width`);
    anchor_sizes: base anchor side of P3..P7 in input pixels (default 32..512; smaller for small objects);
    backbone_module / fpn_module: ready modules to use instead (None means built from the names above).
    The lite profile uses backbone="lite", fpn_channels=64, head_width=64, head_depth=2, separable_heads=True.
    """
    if num_classes < 1:
        raise ConfigError(f"num_classes must be >= 1, got {num_classes}")
    size = (int(input_size[0]), int(input_size[1]))
    anchor_generator = AnchorGenerator(sizes=tuple(int(s) for s in anchor_sizes))
    anchor_generator.level_sizes(size)  # validates the size
    backbone_module = backbone_module or build_backbone(backbone, width=backbone_width)
    fpn_module = fpn_module or FeaturePyramid(in_channels=backbone_module.out_channels, channels=fpn_channels)
    head_args = {
        "in_channels": fpn_channels,
        "anchors_per_cell": anchor_generator.per_cell,
        "width": head_width,
        "depth": head_depth,
        "separable": separable_heads,
    }
    return RetinaNet(
        backbone=backbone_module,
        fpn=fpn_module,
        classification=classification_head(num_classes=num_classes, prior=prior, **head_args),
        regression=box_head(**head_args),
        input_size=size,
        anchor_generator=anchor_generator,
    )
