"""Small models that follow the engine output contract, and real-architecture model folders, for tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch import nn

from streamer.backends.base import EngineSpec
from streamer.backends.calibrate import DEFAULT_CALIBRATION_FRAMES
from streamer.backends.quantize import load_frames
from streamer.models.store import build_model
from streamer.train.publish import publish_model
from streamer.types import EAD2019_CLASSES

INPUT_SIZE = (64, 64)
NORMALISATION = {"mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225]}
LITE_DETECTOR = {
    "builder": "retinanet",
    "backbone": "lite",
    "fpn_channels": 32,
    "head_width": 32,
    "head_depth": 1,
    "separable_heads": True,
    "input_size": [128, 128],
}
LITE_CLASSIFIER = {"builder": "classifier", "backbone": "lite", "input_size": [64, 64]}


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
        centres = torch.stack([xs, ys], dim=-1).reshape(-1, 2) * 8 + 4  # (8, 8, 2) -> (64, 2) x y pixels
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
    """Conv + global pooling + linear: p_bad (B,) and cause shares (B, 3)."""

    def __init__(self) -> None:
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(3, 8, 3, stride=2, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1))
        self.fc = nn.Linear(8, 4)

    def forward(self, images: torch.Tensor) -> dict[str, torch.Tensor]:
        scores = self.fc(self.body(images).flatten(1)).sigmoid()  # (B, 8, 1, 1) -> (B, 8) -> (B, 4)
        return {"p_bad": scores[:, 0], "causes": scores[:, 1:]}


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


def randomised(model: nn.Module, frames: torch.Tensor, seed: int = 0) -> nn.Module:
    """`model` with noise on every parameter and batch-norm statistics measured on `frames` (N, 3, H, W).

    Freshly built models have zero-initialised heads and near-constant outputs; this makes their
    outputs depend on the input, so comparisons between backends are not vacuous.
    """
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.add_(torch.randn(parameter.shape, generator=generator) * 0.05)
        for module in model.modules():
            if isinstance(module, nn.modules.batchnorm._BatchNorm):
                module.reset_running_stats()
                module.momentum = None  # cumulative average over the frames
        model.train()
        model(frames)
    return model.eval()


def publish_random(
    folder: Path, name: str, task: str, architecture: dict[str, object], *, bad_logit_offset: float = 0.0
) -> Path:
    """A model folder (manifest, model.pt, model.onnx) of `architecture` with random weights.

    bad_logit_offset: added to a classifier's "bad" logit (a large value makes every frame clearly bad).
    """
    torch.manual_seed(0)
    classes = list(EAD2019_CLASSES) if task == "detector" else ["good", "bad"]
    size = (int(architecture["input_size"][0]), int(architecture["input_size"][1]))  # type: ignore[index]
    spec = EngineSpec(name=name, task=task, classes=tuple(classes), input_size=size)  # type: ignore[arg-type]
    frames = torch.from_numpy(load_frames(DEFAULT_CALIBRATION_FRAMES, spec))
    model = randomised(build_model(architecture), frames)
    if bad_logit_offset:
        with torch.no_grad():
            model.fc.bias[0] += bad_logit_offset  # type: ignore[index, union-attr]
    fields = {
        "name": name,
        "task": task,
        "architecture": architecture,
        "classes": classes,
        "input_size": architecture["input_size"],
        **NORMALISATION,
    }
    publish_model(model, fields, folder)
    return folder


def _identity_conv() -> nn.Conv2d:
    """A 1x1 conv that passes its 3 channels through: the quantised layer of the models below."""
    conv = nn.Conv2d(3, 3, 1)
    with torch.no_grad():
        conv.weight.copy_(torch.eye(3)[:, :, None, None])  # (3, 3) -> (3, 3, 1, 1)
        conv.bias.zero_()
    return conv


class CellDetector(nn.Module):
    """Fires on bright 8x8 cells: boxes (B, 64, 4) pixels around each cell, scores (B, 64, 7).

    Class k scores a cell by a positive weighting of its mean colour, centred halfway between a dark
    and a bright cell, so dark cells score ~0 and bright cells ~1 (a decisive, content-driven model).
    """

    def __init__(self, dark: torch.Tensor, bright: torch.Tensor) -> None:
        super().__init__()
        self.stem = _identity_conv()
        self.pool = nn.AvgPool2d(8)
        self.classify = nn.Conv2d(3, len(EAD2019_CLASSES), 1)
        self.regress = nn.Conv2d(3, 4, 1)
        generator = torch.Generator().manual_seed(0)
        with torch.no_grad():
            weights = torch.rand(len(EAD2019_CLASSES), 3, generator=generator) + 0.5  # (7, 3)
            self.classify.weight.copy_(weights[:, :, None, None] * 3)
            self.classify.bias.copy_(-3 * weights @ ((dark + bright) / 2))
            self.regress.weight.normal_(0, 0.5, generator=generator)
        ys, xs = torch.meshgrid(torch.arange(8.0), torch.arange(8.0), indexing="ij")
        centres = torch.stack([xs, ys], dim=-1).reshape(-1, 2) * 8 + 4  # (8, 8, 2) -> (64, 2) x y pixels
        self.register_buffer("anchors", torch.cat([centres - 8, centres + 8], dim=1))  # (64, 4)

    def forward(self, images: torch.Tensor) -> dict[str, torch.Tensor]:
        cells = self.pool(self.stem(images))  # (B, 3, 8, 8)
        batch = cells.shape[0]
        logits = self.classify(cells).permute(0, 2, 3, 1).reshape(batch, -1, 7)  # (B, 8, 8, 7) -> (B, 64, 7)
        deltas = self.regress(cells).permute(0, 2, 3, 1).reshape(batch, -1, 4)  # (B, 8, 8, 4) -> (B, 64, 4)
        return {"boxes": self.anchors + deltas, "scores": logits.sigmoid()}


class BrightnessClassifier(nn.Module):
    """p_bad (B,) = sigmoid of the mean colour, centred halfway between a dark and a bright frame."""

    def __init__(self, dark: torch.Tensor, bright: torch.Tensor) -> None:
        super().__init__()
        self.stem = _identity_conv()
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.score = nn.Conv2d(3, 1, 1)
        with torch.no_grad():
            self.score.weight.fill_(2.0)
            self.score.bias.fill_(-2.0 * float((dark + bright).sum()) / 2)

    def forward(self, images: torch.Tensor) -> dict[str, torch.Tensor]:
        p_bad = self.score(self.pool(self.stem(images))).flatten().sigmoid()  # (B, 1, 1, 1) -> (B,)
        return {"p_bad": p_bad, "causes": p_bad[:, None].repeat(1, 3)}


def cell_frames(count: int, seed: int, spec: EngineSpec, bright_share: float = 0.15) -> np.ndarray:
    """(count, 3, 64, 64) normalised frames of dark and bright 8x8 cells (about `bright_share` bright)."""
    generator = np.random.default_rng(seed)
    bright = generator.random((count, 8, 8)) < bright_share  # (N, 8, 8)
    rgb = np.where(bright[..., None], (230, 220, 210), (40, 30, 30)).astype(np.float32) / 255  # (N, 8, 8, 3)
    rgb = rgb.repeat(8, axis=1).repeat(8, axis=2)  # (N, 64, 64, 3)
    normalised = (rgb - np.asarray(spec.mean, np.float32)) / np.asarray(spec.std, np.float32)
    return np.ascontiguousarray(normalised.transpose(0, 3, 1, 2))  # (N, 64, 64, 3) -> (N, 3, 64, 64)


def normalised_colour(rgb: tuple[int, int, int], spec: EngineSpec) -> torch.Tensor:
    """(3,) normalised value of an RGB colour (0..255) under `spec`."""
    return (torch.tensor(rgb, dtype=torch.float32) / 255 - torch.tensor(spec.mean)) / torch.tensor(spec.std)
