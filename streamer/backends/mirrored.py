"""Test-time mirroring: a detector engine that sees its frames flipped and reports boxes for the frames
as they are, so that a model and its mirrored view can be fused like two ensemble members."""

from __future__ import annotations

from dataclasses import replace
from typing import Literal

import torch

from streamer.backends.base import Engine, EngineSpec

Mirror = Literal["horizontal", "vertical"]
MIRRORS: tuple[Mirror, ...] = ("horizontal", "vertical")
SUFFIX = {"horizontal": "hflip", "vertical": "vflip"}


class MirroredEngine:
    """Wraps a detector engine: the (B, 3, H, W) batch is flipped left-right (horizontal) or top-bottom
    (vertical) before inference, and the boxes (B, A, 4) x1 y1 x2 y2 in network-input pixels are flipped
    back. It shares the wrapped engine, whose own member closes it: `close` here releases nothing."""

    def __init__(self, engine: Engine, mirror: Mirror) -> None:
        if engine.spec.task != "detector":
            raise ValueError(f"only detectors are mirrored, not a {engine.spec.task}")
        if mirror not in MIRRORS:
            raise ValueError(f"unknown mirror {mirror!r}; choose horizontal or vertical")
        self.inner = engine
        self.mirror = mirror
        self.spec: EngineSpec = replace(engine.spec, name=f"{engine.spec.name}+{SUFFIX[mirror]}")
        self.backend = engine.backend
        self.device = engine.device

    def infer(self, batch: torch.Tensor) -> dict[str, torch.Tensor]:
        axis = 3 if self.mirror == "horizontal" else 2
        outputs = self.inner.infer(torch.flip(batch, dims=(axis,)))
        boxes = outputs["boxes"]
        extent = float(batch.shape[axis])  # W or H of the network input (pixels)
        low, high = (0, 2) if self.mirror == "horizontal" else (1, 3)
        unflipped = boxes.clone()
        unflipped[..., low] = extent - boxes[..., high]
        unflipped[..., high] = extent - boxes[..., low]
        return {**outputs, "boxes": unflipped}

    def close(self) -> None:
        """Nothing to release: the wrapped engine is closed by its own member."""

    def __enter__(self) -> MirroredEngine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
