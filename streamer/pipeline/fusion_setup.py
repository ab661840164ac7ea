"""Build the decode and fusion functions of the detector stage from the run configuration."""

from __future__ import annotations

import torch

from streamer.backends.base import Engine
from streamer.config import DetectorConfig, RunConfig
from streamer.pipeline.detector_stage import Decoder, Fuse
from streamer.pipeline.preprocess import InputTransform
from streamer.types import Detections


def make_decoder(engine: Engine, config: DetectorConfig) -> Decoder:
    """Decode an engine's {"boxes": (B, A, 4), "scores": (B, A, K)} into Detections in source pixels."""
    from streamer.fusion.decode import decode_batch

    level_sizes = list(engine.spec.level_sizes) if getattr(engine.spec, "level_sizes", None) else None

    def decode(outputs: dict[str, torch.Tensor], transforms: list[InputTransform]) -> list[Detections]:
        scales = torch.stack([t.to_tensor(outputs["boxes"].device) for t in transforms])  # (B, 4)
        return decode_batch(
            outputs["boxes"],
            outputs["scores"],
            scales,
            score_threshold=config.score_threshold,
            iou_threshold=config.iou_threshold,
            top_k=config.top_k_per_level,
            max_detections=config.max_detections,
            level_sizes=level_sizes,
        )

    return decode


def make_fuse(config: RunConfig) -> Fuse | None:
    """The ensemble fusion of the profile, or None for a single detector."""
    if len(config.detector.models) < 2:
        return None
    from streamer.fusion import Fuser, FusionConfig

    fuser = Fuser(
        FusionConfig(
            mode=config.fusion.mode,
            iou_threshold=config.fusion.iou_threshold,
            per_model_threshold=config.fusion.per_model_threshold,
            vote_threshold=config.fusion.vote_threshold,
        )
    )
    return fuser.fuse
