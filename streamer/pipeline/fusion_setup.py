"""Build the preprocessing and detector stages (decode, fusion) from the run configuration."""

from __future__ import annotations

import torch

from streamer.backends.base import Engine
from streamer.config import DetectorConfig, RunConfig
from streamer.fusion import Fuser
from streamer.fusion.decode import DecodeConfig, decode_detections
from streamer.pipeline.detector_stage import Decoder, DetectorStage, Fuse
from streamer.pipeline.preprocess import InputTransform, Preprocessor
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


def make_detector_stage(detectors: list[Engine], config: RunConfig) -> DetectorStage:
    """The detector stage of a profile: one decoder per engine, and the profile's fusion for several."""
    return DetectorStage(detectors, [make_decoder(e, config.detector) for e in detectors], make_fuse(config))


def make_preprocessor(config: RunConfig, *, fov_refresh_frames: int | None = None) -> Preprocessor:
    """The profile's field-of-view crop on the configured device (refresh overridable: 1 for stills)."""
    section = config.preprocess
    return Preprocessor(
        crop_fov=section.crop_fov,
        fov_threshold=section.fov_threshold,
        fov_refresh_frames=section.fov_refresh_frames if fov_refresh_frames is None else fov_refresh_frames,
        device=torch.device(config.device),
    )


def make_fuse(config: RunConfig) -> Fuse | None:
    """The ensemble fusion of the profile, or None for a single detector."""
    if len(config.detector.models) < 2:
        return None
    return Fuser(config.fusion).fuse
