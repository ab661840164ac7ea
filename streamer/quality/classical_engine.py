"""A quality classifier engine without learned weights: focus and exposure measures turned into p_bad.

Useful as a baseline, on machines without the shipped models, and as a deterministic gate in tests.
"""

from __future__ import annotations

import numpy as np
import torch

from streamer.backends.base import EngineSpec
from streamer.preprocessing import denormalise
from streamer.quality.measures import BRIGHT_MEAN, DARK_MEAN, FOCUS_BLURRY, SATURATED_SHARE, measure

CLASSICAL_INPUT_SIZE = (160, 160)


def _ramp(value: float, bad_at: float, good_at: float) -> float:
    """0 at `good_at`, 1 at `bad_at`, linear in between (either direction)."""
    position = (value - good_at) / (bad_at - good_at)
    return float(np.clip(position, 0.0, 1.0))


class ClassicalQualityEngine:
    """p_bad = the worst of: defocus (variance of the Laplacian), under- and over-exposure (mean grey),
    clipped highlights (share of pixels >= 250)."""

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
        """batch: (B, 3, H, W) normalised with the spec's mean/std → {"p_bad": (B,)}."""
        images = denormalise(batch, self.spec.mean, self.spec.std)  # (B, H, W, 3) uint8
        scores = []
        for image in images:
            measures = measure(image)
            scores.append(
                max(
                    _ramp(measures.focus, bad_at=FOCUS_BLURRY / 2, good_at=FOCUS_BLURRY * 2),
                    _ramp(measures.brightness, bad_at=DARK_MEAN / 2, good_at=DARK_MEAN * 1.5),
                    _ramp(measures.brightness, bad_at=BRIGHT_MEAN + 25, good_at=BRIGHT_MEAN - 25),
                    _ramp(measures.saturated, bad_at=SATURATED_SHARE * 2, good_at=SATURATED_SHARE / 3),
                )
            )
        return {"p_bad": torch.tensor(scores, dtype=torch.float32, device=self.device)}

    def close(self) -> None:
        """Nothing to release."""
