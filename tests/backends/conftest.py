"""Small models that follow the engine output contract, for fast backend tests."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from streamer.backends.base import EngineSpec
from streamer.types import EAD2019_CLASSES

INPUT_SIZE = (64, 64)


class TinyDetector(nn.Module):
    """Stride-8 conv net; per cell one anchor of 16 px: boxes (B, 64, 4) pixels, scores (B, 64, 7)."""

    def __init__(self) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(3, 16, 3, stride=2, padding=1),
            nn.BatchNorm2d(16),
            nn.ReLU(),
            nn.Conv2d(16, 32, 3, stride=2, padding=1),
            nn.ReLU(),
            nn.Conv2d(32, 32, 3, stride=2, padding=1),
            nn.ReLU(),
        )
        self.box_head = nn.Conv2d(32, 4, 1)
        self.class_head = nn.Conv2d(32, len(EAD2019_CLASSES), 1)
        ys, xs = torch.meshgrid(torch.arange(8.0), torch.arange(8.0), indexing="ij")
        centres = torch.stack([xs, ys], dim=-1).reshape(-1, 2) * 8 + 4  # (64, 2) x y pixels
        self.register_buffer("anchors", torch.cat([centres - 8, centres + 8], dim=1))  # (64, 4)

    def forward(self, images: torch.Tensor) -> dict[str, torch.Tensor]:
        features = self.body(images)
        batch = features.shape[0]
        deltas = (
            self.box_head(features).permute(0, 2, 3, 1).reshape(batch, -1, 4)
        )  # (B, 4, 8, 8) -> (B, 64, 4)
        logits = (
            self.class_head(features).permute(0, 2, 3, 1).reshape(batch, -1, 7)
        )  # (B, 7, 8, 8) -> (B, 64, 7)
        return {"boxes": self.anchors + 4 * deltas, "scores": logits.sigmoid()}


class TinyClassifier(nn.Module):
    """Conv + global pooling + linear: p_bad (B,)."""

    def __init__(self) -> None:
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(3, 8, 3, stride=2, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1))
        self.fc = nn.Linear(8, 1)

    def forward(self, images: torch.Tensor) -> dict[str, torch.Tensor]:
        pooled = self.body(images).flatten(1)  # (B, 8, 1, 1) -> (B, 8)
        return {"p_bad": self.fc(pooled).squeeze(1).sigmoid()}


def tiny_spec(task: str, **overrides: object) -> EngineSpec:
    fields: dict[str, object] = {
        "name": f"tiny-{task}",
        "task": task,
        "classes": EAD2019_CLASSES if task == "detector" else ("good", "bad"),
        "input_size": INPUT_SIZE,
        "max_batch": 4,
        "source_sha256": "0" * 64,
    }
    fields.update(overrides)
    return EngineSpec(**fields)  # type: ignore[arg-type]


@pytest.fixture(autouse=True)
def _one_thread() -> None:
    torch.set_num_threads(1)
    torch.manual_seed(0)


@pytest.fixture
def tiny_detector() -> tuple[nn.Module, EngineSpec]:
    return TinyDetector().eval(), tiny_spec("detector")


@pytest.fixture
def tiny_classifier() -> tuple[nn.Module, EngineSpec]:
    return TinyClassifier().eval(), tiny_spec("classifier")
