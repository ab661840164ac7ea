"""The pipeline's detection path (crop, resize, detector engines, decode, fusion) applied to single images."""

from __future__ import annotations

import numpy as np

from streamer.backends.base import Engine
from streamer.config import RunConfig
from streamer.pipeline.engine_loading import load_detectors
from streamer.pipeline.stage_setup import make_detector_stage, make_preprocessor
from streamer.types import Detections


class ImageDetector:
    """Callable: H×W×3 uint8 RGB image -> its detections in its pixels, as `streamer run` writes them
    (`Detections.rounded()`: on the CPU, boxes to 0.01 px, scores to 1e-4).

    Uses the detectors of a profile exactly as `streamer run` does, without the quality gate.
    """

    def __init__(self, config: RunConfig) -> None:
        self._engines: list[Engine] = load_detectors(config)
        self._preprocessor = make_preprocessor(config, fov_refresh_frames=1)
        self._stage = make_detector_stage(self._engines, config)

    @property
    def classes(self) -> tuple[str, ...]:
        """Class names of the detectors' labels."""
        return self._stage.classes

    @property
    def member_names(self) -> list[str]:
        """Names of the members (each model, then its mirrored views), in the order `members` returns."""
        return [engine.spec.name for engine in self._engines]

    def __call__(self, image: np.ndarray) -> Detections:
        prepared = self._preprocessor.prepare([image])
        return self._stage.fuse(self._stage.detect(prepared, [0]))[0].rounded()

    def members(self, image: np.ndarray) -> list[Detections]:
        """Each member's detections of the image before fusion (source pixels, not rounded): what the
        profile's fusion takes in, for studying other fusions of the same members."""
        prepared = self._preprocessor.prepare([image])
        return [per_image[0] for per_image in self._stage.detect(prepared, [0])]

    def close(self) -> None:
        for engine in self._engines:
            engine.close()

    def __enter__(self) -> ImageDetector:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
