"""The quality gate: a classifier engine's p_bad and cause shares become Verdicts; bad frames never reach
the detector. With hysteresis (video), a frame's own label is smoothed over the sequence."""

from __future__ import annotations

import numpy as np
import torch

from streamer.backends.base import Engine
from streamer.config import RunConfig
from streamer.pipeline.hysteresis import Hysteresis
from streamer.pipeline.preprocess import PreparedBatch
from streamer.types import QUALITY_CAUSES, QualityLabel, Verdict

DEFAULT_THRESHOLD = 0.5  # for a classifier whose manifest chose none


def resolve_threshold(engine: Engine | None, threshold: float | None) -> float:
    """The p_bad threshold: the given one, else the model's own (its manifest's), else 0.5."""
    if threshold is None:
        own = engine.spec.score_thresholds if engine is not None else ()
        threshold = own[0] if own else DEFAULT_THRESHOLD
    if not 0.0 < threshold < 1.0:
        raise ValueError(f"quality threshold must be in (0, 1), got {threshold}")
    return threshold


class QualityGate:
    """Judges batches of frames in stream order. Without an engine every frame is good (p_bad 0).

    threshold: a frame is bad when p_bad >= threshold (None: the model's own); hysteresis: smooths labels
    over the sequence (None: each frame on its own, as for image folders).
    """

    def __init__(
        self, engine: Engine | None, *, threshold: float | None = None, hysteresis: Hysteresis | None = None
    ) -> None:
        self.engine = engine
        self.threshold = resolve_threshold(engine, threshold)
        self.hysteresis = hysteresis

    def judge(self, prepared: PreparedBatch) -> list[Verdict]:
        """One Verdict per frame of `prepared`, in order."""
        if self.engine is None:
            return [Verdict(QualityLabel.GOOD, 0.0) for _ in prepared.crops]
        batch, _ = prepared.inputs_for(self.engine.spec)
        with torch.inference_mode():
            outputs = self.engine.infer(batch)
        p_bad = outputs["p_bad"].float().clamp(0, 1).cpu().numpy()  # (B,)
        causes = outputs["causes"].float().clamp(0, 1).cpu().numpy()  # (B, C)
        return [self._verdict(float(p), row) for p, row in zip(p_bad, causes, strict=True)]

    def _verdict(self, p_bad: float, causes: np.ndarray) -> Verdict:
        shares = {cause: round(float(share), 4) for cause, share in zip(QUALITY_CAUSES, causes, strict=True)}
        frame_label = QualityLabel.BAD if p_bad >= self.threshold else QualityLabel.GOOD
        if self.hysteresis is None:
            return Verdict(frame_label, p_bad, shares)
        return Verdict(self.hysteresis.update(frame_label), p_bad, shares, frame_label)


def make_quality_gate(engine: Engine | None, config: RunConfig, *, stills: bool) -> QualityGate:
    """The profile's gate: its threshold, and its hysteresis on video (never on stills)."""
    section = config.quality
    hysteresis = (
        Hysteresis(bad_after=section.bad_after, good_after=section.good_after)
        if section.hysteresis and not stills
        else None
    )
    return QualityGate(engine, threshold=section.threshold, hysteresis=hysteresis)
