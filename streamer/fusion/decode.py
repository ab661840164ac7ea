"""Decode RetinaNet engine outputs into per-image detections in source-frame pixels.

Engine contract (streamer.backends.base): boxes (B, A, 4) x1 y1 x2 y2 in network-input pixels,
scores (B, A, K) per-class probabilities. Steps: per-level top-k over (anchor, class) pairs, score
threshold (kept when score >= threshold), optional clipping to the network input, class-aware NMS per image,
at most `max_detections` per image, then source = input_px / scale + offset.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch

from streamer.errors import ConfigError, ModelError
from streamer.fusion.nms import nms
from streamer.types import Detections


@dataclass(frozen=True)
class DecodeConfig:
    """score_threshold: minimum class probability; class_thresholds: one minimum per class instead (empty:
    score_threshold for all); top_k: candidates kept per FPN level before NMS; iou_threshold: NMS IoU;
    max_detections: per image after NMS."""

    score_threshold: float = 0.05
    class_thresholds: tuple[float, ...] = ()
    top_k: int = 1000
    iou_threshold: float = 0.5
    max_detections: int = 100

    def __post_init__(self) -> None:
        if not all(0.0 <= t <= 1.0 for t in (self.score_threshold, *self.class_thresholds)):
            raise ConfigError(
                f"decode score_threshold and class_thresholds must be in [0, 1], got {self.score_threshold}, {self.class_thresholds}"
            )
        if not 0.0 <= self.iou_threshold <= 1.0:
            raise ConfigError(f"decode iou_threshold must be in [0, 1], got {self.iou_threshold}")
        if self.top_k < 1 or self.max_detections < 1:
            raise ConfigError(
                f"decode top_k and max_detections must be >= 1, got {self.top_k} and {self.max_detections}"
            )


def _check_outputs(outputs: dict[str, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
    if "boxes" not in outputs or "scores" not in outputs:
        raise ModelError(f"detector outputs need 'boxes' and 'scores', got {sorted(outputs)}")
    boxes, scores = outputs["boxes"], outputs["scores"]
    if boxes.ndim != 3 or boxes.shape[2] != 4:
        raise ModelError(f"detector 'boxes' must be (B, A, 4), got {tuple(boxes.shape)}")
    if scores.ndim != 3 or scores.shape[:2] != boxes.shape[:2]:
        raise ModelError(
            f"detector 'scores' must be (B, A, K) with (B, A) = {tuple(boxes.shape[:2])}, "
            f"got {tuple(scores.shape)}"
        )
    return boxes, scores


def _transform_tensor(
    transforms: torch.Tensor | Sequence[Sequence[float]], batch: int, device: torch.device
) -> torch.Tensor:
    table = torch.as_tensor(transforms, dtype=torch.float32, device=device)
    if tuple(table.shape) != (batch, 4):
        raise ConfigError(
            "transforms must be one (scale_x, scale_y, offset_x, offset_y) per image: "
            f"expected ({batch}, 4), got {tuple(table.shape)}"
        )
    if bool((table[:, :2] <= 0).any()):
        raise ConfigError("transform scales must be > 0")
    return table


def _thresholds(config: DecodeConfig, flat: torch.Tensor, classes: int) -> torch.Tensor | float:
    """The score each candidate must reach: (B, T) per its class, or one float."""
    if not config.class_thresholds:
        return config.score_threshold
    if len(config.class_thresholds) != classes:
        raise ModelError(
            f"{len(config.class_thresholds)} class thresholds for a detector with {classes} classes"
        )
    table = torch.tensor(config.class_thresholds, dtype=torch.float32, device=flat.device)
    return table[flat % classes]


@torch.inference_mode()
def decode_detections(
    outputs: dict[str, torch.Tensor],
    transforms: torch.Tensor | Sequence[Sequence[float]],
    *,
    classes: tuple[str, ...],
    config: DecodeConfig | None = None,
    level_sizes: Sequence[int] | None = None,
    input_size: tuple[int, int] | None = None,
) -> list[Detections]:
    """Detections per image from raw detector outputs.

    transforms: (B, 4) per image (scale_x, scale_y, offset_x, offset_y), source = input_px / scale + offset;
    classes: the K class names of the score columns (the model manifest's); level_sizes: anchors of each
    FPN level in order (sum = A), default one level; input_size: optional (H, W) of the network input,
    boxes are clipped to it before rescaling. Returns B Detections on the outputs' device, float32 source
    pixels, each sorted by descending score (labels index `classes`).
    """
    config = config or DecodeConfig()
    boxes, scores = _check_outputs(outputs)
    batch, anchors, num_classes = scores.shape
    if num_classes != len(classes):
        raise ModelError(f"detector 'scores' give {num_classes} classes, its class list has {len(classes)}")
    device = boxes.device
    table = _transform_tensor(transforms, batch, device)
    sizes = list(level_sizes) if level_sizes is not None else [anchors]
    if sum(sizes) != anchors or any(size < 0 for size in sizes):
        raise ConfigError(f"level_sizes {sizes} must be >= 0 and sum to the {anchors} anchors of the outputs")

    candidate_scores: list[torch.Tensor] = []
    candidate_flat: list[torch.Tensor] = []
    start = 0
    for size in sizes:
        # (B, A_l, K) -> (B, A_l*K)
        level = scores[:, start : start + size, :].reshape(batch, size * num_classes)
        top = torch.topk(level, min(config.top_k, size * num_classes), dim=1)
        candidate_scores.append(top.values)
        candidate_flat.append(top.indices + start * num_classes)
        start += size
    values = torch.cat(candidate_scores, dim=1)  # (B, T)
    flat = torch.cat(candidate_flat, dim=1)  # (B, T) indices into A*K
    image, column = torch.nonzero(values >= _thresholds(config, flat, num_classes), as_tuple=True)
    kept_scores = values[image, column]
    anchor = flat[image, column] // num_classes
    label = flat[image, column] % num_classes
    kept_boxes = boxes[image, anchor].to(torch.float32)
    if input_size is not None:
        height, width = input_size
        kept_boxes = torch.stack(
            [
                kept_boxes[:, 0].clamp(0, width),
                kept_boxes[:, 1].clamp(0, height),
                kept_boxes[:, 2].clamp(0, width),
                kept_boxes[:, 3].clamp(0, height),
            ],
            dim=1,
        )
    keep = nms(kept_boxes, kept_scores, config.iou_threshold, categories=image * num_classes + label)
    keep = keep[torch.sort(image[keep], stable=True).indices]  # image-major, score descending inside
    per_image = torch.bincount(image[keep], minlength=batch)
    rank = torch.arange(keep.shape[0], device=device) - (torch.cumsum(per_image, 0) - per_image)[image[keep]]
    keep = keep[rank < config.max_detections]
    image = image[keep]
    scale = table[image]  # (D, 4): scale_x, scale_y, offset_x, offset_y
    source_boxes = kept_boxes[keep] / scale[:, [0, 1, 0, 1]] + scale[:, [2, 3, 2, 3]]
    counts = torch.bincount(image, minlength=batch).tolist()
    return [
        Detections(boxes=b, scores=s.to(torch.float32), labels=lab, classes=classes)
        for b, s, lab in zip(
            torch.split(source_boxes, counts),
            torch.split(kept_scores[keep], counts),
            torch.split(label[keep], counts),
            strict=True,
        )
    ]
