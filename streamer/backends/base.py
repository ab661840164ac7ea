"""The Engine protocol and the EngineSpec that every engine carries.

An engine maps a normalised float batch (B, 3, H, W) to named output tensors:
- task "classifier": {"p_bad": (B,) probability that the frame is bad,
                      "causes": (B, C) share of the frame blurred, badly exposed, saturated
                      (streamer.types.QUALITY_CAUSES order)}
- task "detector":   {"boxes": (B, A, 4) x1 y1 x2 y2 in network-input pixels,
                      "scores": (B, A, K) per-class probabilities}
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

import torch

Task = Literal["classifier", "detector"]
Precision = Literal["fp32", "fp16", "bf16", "int8"]


@dataclass(frozen=True)
class EngineSpec:
    """What an engine expects and produces.

    input_size: (H, W) in pixels of the network input; max_batch: largest batch the engine accepts;
    mean/std: per-channel normalisation applied to RGB values scaled to [0, 1];
    source_sha256: hash of the model file the engine was built from; level_sizes: detectors' anchors per
    FPN level in output order (empty: one level); score_thresholds: per-class score thresholds chosen for
    a detector, or a classifier's p_bad threshold as a 1-tuple (empty: the profile's threshold).
    """

    name: str
    task: Task
    classes: tuple[str, ...]
    input_size: tuple[int, int]
    max_batch: int = 8
    mean: tuple[float, float, float] = (0.485, 0.456, 0.406)
    std: tuple[float, float, float] = (0.229, 0.224, 0.225)
    precision: Precision = "fp32"
    source_sha256: str = ""
    level_sizes: tuple[int, ...] = ()
    score_thresholds: tuple[float, ...] = ()


class Engine(Protocol):
    """A loaded model on one backend and device."""

    spec: EngineSpec
    backend: str
    device: torch.device

    def infer(self, batch: torch.Tensor) -> dict[str, torch.Tensor]:
        """Run a (B, 3, H, W) float32 batch on `device`; returns named outputs on `device`."""
        ...

    def close(self) -> None:
        """Release the engine's resources."""
        ...

    def __enter__(self) -> Engine:
        """Engines are context managers: `with load_engine(...) as engine:` closes them on exit."""
        ...

    def __exit__(self, *exc_info: object) -> None: ...
