"""An engine that does nothing: every frame good, no detections. Measures the pipeline itself."""

from __future__ import annotations

import torch

from streamer.backends.base import EngineSpec, Task
from streamer.types import EAD2019_CLASSES, QUALITY_CAUSES

NOOP_INPUT_SIZE = (320, 320)


class NoopEngine:
    """Returns p_bad = 0 (classifier) or zero anchors (detector), shaped like a real engine's outputs."""

    backend = "noop"

    def __init__(self, task: Task, device: str = "cpu", classes: tuple[str, ...] = EAD2019_CLASSES) -> None:
        classes = ("good", "bad") if task == "classifier" else classes
        self.spec = EngineSpec(name=f"noop-{task}", task=task, classes=classes, input_size=NOOP_INPUT_SIZE)
        self.device = torch.device(device)

    def infer(self, batch: torch.Tensor) -> dict[str, torch.Tensor]:
        """batch: (B, 3, H, W) → {"p_bad": (B,), "causes": (B, C)} or {"boxes": (B, 0, 4), "scores": (B, 0, K)}."""
        size = batch.shape[0]
        if self.spec.task == "classifier":
            return {
                "p_bad": torch.zeros(size, device=self.device),
                "causes": torch.zeros((size, len(QUALITY_CAUSES)), device=self.device),
            }
        return {
            "boxes": torch.zeros((size, 0, 4), device=self.device),
            "scores": torch.zeros((size, 0, len(self.spec.classes)), device=self.device),
        }

    def close(self) -> None:
        """Nothing to release."""

    def __enter__(self) -> NoopEngine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
