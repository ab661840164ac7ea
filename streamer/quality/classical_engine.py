"""A quality classifier engine without learned weights: focus and exposure measures turned into p_bad
and cause scores.

Useful as a baseline, on machines without the shipped models, and as a deterministic gate in tests.
"""

from __future__ import annotations

import numpy as np
import torch

from streamer.backends.base import EngineSpec
from streamer.preprocessing import denormalise
from streamer.quality.measures import (
    BRIGHT_MEAN,
    DARK_MEAN,
    FOCUS_BLURRY,
    SATURATED_SHARE,
    FrameMeasures,
    measure,
)
from streamer.types import QUALITY_CAUSES

CLASSICAL_INPUT_SIZE = (160, 160)


def _ramp(value: float, bad_at: float, good_at: float) -> float:
    """0 at `good_at`, 1 at `bad_at`, linear in between (either direction)."""
    position = (value - good_at) / (bad_at - good_at)
    return float(np.clip(position, 0.0, 1.0))


class ClassicalQualityEngine:
    """Cause scores 0–1: blur (variance of the Laplacian), exposure (mean grey too low or too high) and
    saturation (share of pixels >= 250), each a linear ramp between a clearly good and a clearly bad value;
    p_bad is the worst of them. The scores stand in for the learned models' cause fractions."""

    backend = "classical"

    def __init__(self, device: str = "cpu") -> None:
        self.spec = EngineSpec(
            name="classical-quality",
            task="classifier",
            classes=("good", "bad"),
            input_size=CLASSICAL_INPUT_SIZE,
        )
        self.device = torch.device(device)

    def infer(self, batch: torch.Tensor) -> dict[str, torch.Tensor]:
        """batch: (B, 3, H, W) normalised with the spec's mean/std → {"p_bad": (B,), "causes": (B, 3)}."""
        images = denormalise(batch, self.spec.mean, self.spec.std)  # (B, H, W, 3) uint8
        causes = [cause_scores(measure(image)) for image in images]
        table = torch.tensor(causes, dtype=torch.float32, device=self.device).reshape(-1, len(QUALITY_CAUSES))
        return {"p_bad": table.max(dim=1).values, "causes": table}

    def close(self) -> None:
        """Nothing to release."""


def cause_scores(measures: FrameMeasures) -> tuple[float, float, float]:
    """(blur, exposure, saturation) scores 0–1 of one frame's measures."""
    blur = _ramp(measures.focus, bad_at=FOCUS_BLURRY / 2, good_at=FOCUS_BLURRY * 2)
    exposure = max(
        _ramp(measures.brightness, bad_at=DARK_MEAN / 2, good_at=DARK_MEAN * 1.5),
        _ramp(measures.brightness, bad_at=BRIGHT_MEAN + 25, good_at=BRIGHT_MEAN - 25),
    )
    saturation = _ramp(measures.saturated, bad_at=SATURATED_SHARE * 2, good_at=SATURATED_SHARE / 3)
    return blur, exposure, saturation
