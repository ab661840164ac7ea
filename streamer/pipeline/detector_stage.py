"""Detector stage: run each detector engine on the good frames, decode, and fuse several models into one set."""

from __future__ import annotations

from collections.abc import Callable

import torch

from streamer.backends.base import Engine
from streamer.pipeline.preprocess import PreparedBatch
from streamer.preprocessing import InputTransform
from streamer.types import Detections

Decoder = Callable[[dict[str, torch.Tensor], list[InputTransform]], list[Detections]]
Fuse = Callable[[list[Detections]], Detections]


class DetectorStage:
    """Runs M detector engines; `detect` returns per-model detections, `fuse` merges them per image.

    With one engine, fusion is the identity.
    """

    def __init__(self, engines: list[Engine], decoders: list[Decoder], fuse: Fuse | None) -> None:
        if len(engines) != len(decoders):
            raise ValueError("one decoder per engine")
        if len(engines) > 1 and fuse is None:
            raise ValueError("several detectors need a fusion function")
        self.engines = engines
        self.classes: tuple[str, ...] = engines[0].spec.classes if engines else ()
        self._decoders = decoders
        self._fuse = fuse

    def detect(self, prepared: PreparedBatch, select: list[int]) -> list[list[Detections]]:
        """Detections in source pixels of the selected frames: [model][image]."""
        if not select:
            return [[] for _ in self.engines]
        per_model = []
        with torch.inference_mode():
            for engine, decode in zip(self.engines, self._decoders, strict=True):
                batch, transforms = prepared.inputs_for(engine.spec, select)
                per_model.append(decode(engine.infer(batch), transforms))
        return per_model

    def fuse(self, per_model: list[list[Detections]]) -> list[Detections]:
        """One Detections per image: the single model's, or the fusion of all models' (model order kept)."""
        if len(per_model) == 1:
            return per_model[0]
        assert self._fuse is not None
        images = len(per_model[0])
        with torch.inference_mode():
            return [self._fuse([model[i] for model in per_model]) for i in range(images)]
