"""The pipeline's quality path (field-of-view crop, resize, classifier engine, threshold) for single images."""

from __future__ import annotations

import numpy as np

from streamer.backends.base import Engine
from streamer.config import RunConfig
from streamer.pipeline.engine_loading import load_classifier
from streamer.pipeline.quality_gate import make_quality_gate
from streamer.pipeline.stage_setup import make_preprocessor
from streamer.types import Verdict


class ImageClassifier:
    """Callable: list of H×W×3 uint8 RGB images -> one Verdict each, exactly as `streamer run` judges an
    image folder (each image on its own: field of view found per image, no hysteresis)."""

    def __init__(self, config: RunConfig) -> None:
        self._engine: Engine | None = load_classifier(config)
        self._preprocessor = make_preprocessor(config, fov_refresh_frames=1)
        self._gate = make_quality_gate(self._engine, config, stills=True)

    @property
    def threshold(self) -> float:
        """The p_bad threshold in use."""
        return self._gate.threshold

    @property
    def name(self) -> str:
        return "none" if self._engine is None else self._engine.spec.name

    def __call__(self, images: list[np.ndarray]) -> list[Verdict]:
        return self._gate.judge(self._preprocessor.prepare(images))

    def close(self) -> None:
        if self._engine is not None:
            self._engine.close()

    def __enter__(self) -> ImageClassifier:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
