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

    def __call__(self, image: np.ndarray) -> Detections:
        prepared = self._preprocessor.prepare([image])
        return self._stage.fuse(self._stage.detect(prepared, [0]))[0].rounded()

    def close(self) -> None:
        for engine in self._engines:
            engine.close()

    def __enter__(self) -> ImageDetector:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
