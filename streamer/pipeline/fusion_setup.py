"""Build the decode and fusion functions of the detector stage from the run configuration."""

from __future__ import annotations

import torch

from streamer.backends.base import Engine
from streamer.config import DetectorConfig, RunConfig
from streamer.fusion import Fuser
from streamer.fusion.decode import DecodeConfig, decode_detections
from streamer.pipeline.detector_stage import Decoder, Fuse
from streamer.pipeline.preprocess import InputTransform
from streamer.types import Detections


def make_decoder(engine: Engine, config: DetectorConfig) -> Decoder:
    """Decode an engine's {"boxes": (B, A, 4), "scores": (B, A, K)} into Detections in source pixels."""
    decode_config = DecodeConfig(
        score_threshold=config.score_threshold,
        top_k=config.top_k_per_level,
        iou_threshold=config.iou_threshold,
        max_detections=config.max_detections,
    )
    level_sizes = getattr(engine.spec, "level_sizes", None) or None

    def decode(outputs: dict[str, torch.Tensor], transforms: list[InputTransform]) -> list[Detections]:
        table = [[t.scale_x, t.scale_y, t.offset_x, t.offset_y] for t in transforms]
        return decode_detections(
            outputs, table, config=decode_config, level_sizes=level_sizes, input_size=engine.spec.input_size
        )

    return decode


def make_fuse(config: RunConfig) -> Fuse | None:
    """The ensemble fusion of the profile, or None for a single detector."""
    if len(config.detector.models) < 2:
        return None
    return Fuser(config.fusion).fuse
