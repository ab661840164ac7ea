"""The quality gate: a classifier engine's p_bad becomes a Verdict; bad frames never reach the detector."""

from __future__ import annotations

import cv2
import numpy as np
import torch

from streamer.backends.base import Engine
from streamer.pipeline.preprocess import PreparedBatch
from streamer.quality.measures import measure
from streamer.types import QualityLabel, Verdict

MEASURE_SIZE = 160  # side (px) of the thumbnail the classical measures run on (their thresholds assume it)


class QualityGate:
    """Judges a batch of frames. Without an engine every frame is good (p_bad 0)."""

    def __init__(self, engine: Engine | None, *, threshold: float = 0.5) -> None:
        if not 0.0 < threshold < 1.0:
            raise ValueError(f"quality threshold must be in (0, 1), got {threshold}")
        self.engine = engine
        self.threshold = threshold

    def judge(self, prepared: PreparedBatch) -> list[Verdict]:
        """One Verdict per frame of `prepared`; reasons of bad frames name the classical measures that agree."""
        if self.engine is None:
            return [Verdict(QualityLabel.GOOD, 0.0) for _ in prepared.crops]
        batch, _ = prepared.inputs_for(self.engine.spec)
        with torch.inference_mode():
            p_bad = self.engine.infer(batch)["p_bad"].float().clamp(0, 1).cpu().numpy()  # (B,)
        return [self._verdict(float(p), crop) for p, crop in zip(p_bad, prepared.crops, strict=True)]

    def _verdict(self, p_bad: float, crop: np.ndarray) -> Verdict:
        if p_bad < self.threshold:
            return Verdict(QualityLabel.GOOD, p_bad)
        thumbnail = cv2.resize(crop, (MEASURE_SIZE, MEASURE_SIZE), interpolation=cv2.INTER_AREA)
        reasons = (f"classifier p_bad {p_bad:.2f}", *measure(thumbnail).reasons())
        return Verdict(QualityLabel.BAD, p_bad, reasons)
