"""Build the preprocessing and detector stages (decode, fusion) from the run configuration."""

from __future__ import annotations

from dataclasses import replace

import torch

from streamer.backends.base import Engine
from streamer.config import DetectorConfig, RunConfig
from streamer.fusion import Fuser
from streamer.fusion.decode import DecodeConfig, decode_detections
from streamer.pipeline.detector_stage import Decoder, DetectorStage, Fuse
from streamer.pipeline.preprocess import Preprocessor
from streamer.preprocessing import InputTransform
from streamer.types import Detections

DEFAULT_SCORE_THRESHOLD = 0.3  # for a model whose manifest has no per-class thresholds


def make_decoder(engine: Engine, config: DetectorConfig) -> Decoder:
    """Decode an engine's {"boxes": (B, A, 4), "scores": (B, A, K)} into Detections in source pixels,
    labelled with the engine's classes.

    Score thresholds: the profile's or the command line's single `score_threshold` when set; otherwise the
    model's own per-class thresholds (its manifest), or DEFAULT_SCORE_THRESHOLD for a model without any."""
    decode_config = DecodeConfig(
        score_threshold=DEFAULT_SCORE_THRESHOLD if config.score_threshold is None else config.score_threshold,
        class_thresholds=engine.spec.score_thresholds if config.score_threshold is None else (),
        top_k=config.top_k_per_level,
        iou_threshold=config.iou_threshold,
        max_detections=config.max_detections,
    )
    level_sizes = engine.spec.level_sizes or None

    def decode(outputs: dict[str, torch.Tensor], transforms: list[InputTransform]) -> list[Detections]:
        table = [[t.scale_x, t.scale_y, t.offset_x, t.offset_y] for t in transforms]
        return decode_detections(
            outputs,
            table,
            classes=engine.spec.classes,
            config=decode_config,
            level_sizes=level_sizes,
            input_size=engine.spec.input_size,
        )

    return decode


def make_detector_stage(detectors: list[Engine], config: RunConfig) -> DetectorStage:
    """The detector stage of a profile: one decoder per engine, and the profile's fusion for several."""
    classes = detectors[0].spec.classes if detectors else ()
    return DetectorStage(
        detectors,
        [make_decoder(e, config.detector) for e in detectors],
        make_fuse(config, classes, len(detectors)),
    )


def make_preprocessor(config: RunConfig, *, fov_refresh_frames: int | None = None) -> Preprocessor:
    """The profile's field-of-view crop on the configured device (refresh overridable: 1 for stills)."""
    section = config.preprocess
    return Preprocessor(
        crop_fov=section.crop_fov,
        fov_threshold=section.fov_threshold,
        fov_refresh_frames=section.fov_refresh_frames if fov_refresh_frames is None else fov_refresh_frames,
        device=torch.device(config.device),
    )


def make_fuse(config: RunConfig, classes: tuple[str, ...], members: int) -> Fuse | None:
    """The ensemble fusion of the profile over the detectors' `classes`, or None for a single member."""
    if members < 2:
        return None
    return Fuser(replace(config.fusion, classes=classes)).fuse
