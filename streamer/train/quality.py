"""Train and evaluate the good/bad frame-quality classifier.

Good examples are real frames (the bundled clip, EAD2019 sample frames, optional extra image folders);
bad examples are their degraded copies (streamer.synthetic.degrade: defocus, motion, exposure, noise,
combined), drawn afresh every epoch. The held-out test set is the last 3 s of the bundled clip (frames
175–249), never trained on, each frame against degraded copies of itself.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import av
import cv2
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader, Dataset

from streamer.errors import SourceError
from streamer.models.classifier import QUALITY_CLASSES
from streamer.models.predict import quality_p_bad
from streamer.models.store import ModelManifest, build_model, update_manifest
from streamer.preprocessing import to_network_input
from streamer.synthetic import DEGRADATIONS, degrade, generate_frame
from streamer.train.augment import AugmentConfig, augment
from streamer.train.datasets import IMAGE_SUFFIXES, read_image
from streamer.train.loop import LoopConfig, LoopResult, fit
from streamer.train.publish import publish_model

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
CLIP_TRAIN_FRAMES = range(0, 150)
CLIP_VALIDATION_FRAMES = range(150, 175)
CLIP_TEST_FRAMES = range(175, 250)
STORED_SHORT_SIDE = 288
LITE_CLASSIFIER: dict[str, Any] = {
    "builder": "classifier",
    "backbone": "lite",
    "input_size": [224, 224],
    "width": 0.25,
}
B0_CLASSIFIER: dict[str, Any] = {
    "builder": "classifier",
    "backbone": "efficientnet_b0",
    "input_size": [224, 224],
}
CLASSIFIER_ARCHITECTURES: dict[str, dict[str, Any]] = {"lite": LITE_CLASSIFIER, "b0": B0_CLASSIFIER}
GOOD_AUGMENT = AugmentConfig(noise_probability=0.0)


def shrink(image: np.ndarray, short_side: int = STORED_SHORT_SIDE) -> np.ndarray:
    """The image scaled so that its short side is at most `short_side` pixels (aspect kept)."""
    scale = short_side / min(image.shape[:2])
    if scale >= 1:
        return image
    size = (round(image.shape[1] * scale), round(image.shape[0] * scale))
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA)


def read_video_frames(path: Path, indices: Iterable[int]) -> list[np.ndarray]:
    """The frames at `indices` (0-based decode order) of a video as shrunk H×W×3 uint8 RGB arrays."""
    wanted = set(indices)
    frames: dict[int, np.ndarray] = {}
    try:
        with av.open(str(path)) as container:
            for index, frame in enumerate(container.decode(video=0)):
                if index in wanted:
                    frames[index] = shrink(frame.to_ndarray(format="rgb24"))
                if index >= max(wanted):
                    break
    except (av.FFmpegError, OSError) as error:
        raise SourceError(f"{path}: cannot decode video ({error})") from error
    missing = sorted(wanted - frames.keys())
    if missing:
        raise SourceError(f"{path}: has no frames {missing[0]}..{missing[-1]}")
    return [frames[i] for i in sorted(frames)]


def read_image_folder(folder: Path) -> list[np.ndarray]:
    """Every image of a folder, shrunk, in name order."""
    return [shrink(read_image(p)) for p in sorted(folder.iterdir()) if p.suffix.lower() in IMAGE_SUFFIXES]


class QualityDataset(Dataset):
    """Item 2i is good frame i (label 0), item 2i+1 a degraded copy of it (label 1): ((3, H, W), label).

    fixed: the same degradation for an item every time (for validation); otherwise fresh random draws
    and the paper's geometric augmentation of the frame.
    """

    def __init__(
        self,
        frames: Sequence[np.ndarray],
        *,
        input_size: Sequence[int],
        mean: Sequence[float],
        std: Sequence[float],
        fixed: bool,
        seed: int = 0,
    ) -> None:
        self.frames = list(frames)
        self.input_size = (int(input_size[0]), int(input_size[1]))
        self.mean, self.std = mean, std
        self.fixed = fixed
        self.seed = seed
        self.rng = np.random.default_rng(seed)

    def __len__(self) -> int:
        return 2 * len(self.frames)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        rng = np.random.default_rng((self.seed, index)) if self.fixed else self.rng
        image = self.frames[index // 2]
        if not self.fixed:
            no_boxes = np.zeros((0, 4), np.float32)
            image, _, _ = augment(image, no_boxes, np.zeros(0, np.int64), rng, GOOD_AUGMENT)
        label = index % 2
        if label:
            image = degrade(image, DEGRADATIONS[int(rng.integers(len(DEGRADATIONS)))], rng)
        return to_network_input(image, self.input_size, self.mean, self.std)[0], label


@dataclass(frozen=True)
class QualityTrainConfig:
    """One quality-classifier run: clip frames 0–149, `extra_folders` and `synthetic` generated frames
    (streamer.synthetic.generate_frame, seeds 0..synthetic-1) train, clip frames 150–174 select the best
    epoch, 175–249 are the untouched test set."""

    clip: Path
    output: Path
    loop: LoopConfig
    extra_folders: tuple[Path, ...] = ()
    synthetic: int = 0
    name: str = "quality"
    architecture: Mapping[str, Any] = field(default_factory=lambda: dict(LITE_CLASSIFIER))
    batch_size: int = 16
    seed: int = 0


def classification_accuracy(model: nn.Module, dataset: QualityDataset, batch_size: int) -> dict[str, float]:
    """Accuracy and mean cross-entropy of `model` on `dataset`."""
    loader = DataLoader(dataset, batch_size=batch_size)
    correct, total, loss = 0, 0, 0.0
    for images, labels in loader:
        logits = model.forward_train(images)
        loss += float(F.cross_entropy(logits, labels, reduction="sum"))
        correct += int((logits.argmax(1) == labels).sum())
        total += len(labels)
    return {"score": correct / total, "loss": loss / total}


def train_quality(config: QualityTrainConfig) -> tuple[LoopResult, dict[str, Any]]:
    """Train, keep the best epoch on validation frames, test on the test frames, write the model folder."""
    torch.manual_seed(config.seed)
    model = build_model(config.architecture)
    input_size = model.input_size
    train_frames = read_video_frames(config.clip, CLIP_TRAIN_FRAMES)
    for folder in config.extra_folders:
        train_frames += read_image_folder(folder)
    train_frames += [shrink(generate_frame(seed).image) for seed in range(config.synthetic)]
    validation_frames = read_video_frames(config.clip, CLIP_VALIDATION_FRAMES)
    common = {"input_size": input_size, "mean": IMAGENET_MEAN, "std": IMAGENET_STD}
    train_set = QualityDataset(train_frames, **common, fixed=False, seed=config.seed)
    validation_set = QualityDataset(validation_frames, **common, fixed=True, seed=config.seed + 1)
    loader = DataLoader(
        train_set,
        batch_size=config.batch_size,
        shuffle=True,
        generator=torch.Generator().manual_seed(config.seed),
    )

    def step_loss(net: nn.Module, batch: Any) -> dict[str, torch.Tensor]:
        images, labels = batch
        return {"loss": F.cross_entropy(net.forward_train(images), labels)}

    result = fit(
        model, step_loss, loader, lambda net: classification_accuracy(net, validation_set, 32), config.loop
    )
    model.load_state_dict(torch.load(result.best_path, map_location="cpu", weights_only=True))
    model.eval()
    fields = {
        "name": config.name,
        "task": "classifier",
        "architecture": dict(config.architecture),
        "classes": list(QUALITY_CLASSES),
        "input_size": list(input_size),
        "mean": list(IMAGENET_MEAN),
        "std": list(IMAGENET_STD),
        "metrics": {
            "validation_accuracy": round(result.best["score"], 4),
            "train_frames": len(train_frames),
            "epochs": result.epochs,
            "steps": result.steps,
            "train_minutes": round(result.minutes, 1),
        },
    }
    manifest = publish_model(model, fields, config.output)
    test = evaluate_quality(model, manifest, config.clip, seed=config.seed)
    update_manifest(config.output, metrics={**fields["metrics"], **test})
    return result, test


def evaluate_quality(
    model: nn.Module, manifest: ModelManifest, clip: Path, *, seed: int = 0, threshold: float = 0.5
) -> dict[str, Any]:
    """Accuracy on the test frames (175–249) against degraded copies of themselves.

    Returns test_accuracy (each frame and one degraded copy, the kinds taken in turn: 75 good + 75 bad),
    test_good_accuracy, test_bad_recall per kind (one copy of every frame per kind) and
    test_balanced_accuracy_all_kinds (mean of the good accuracy and the mean bad recall).
    """
    frames = read_video_frames(clip, CLIP_TEST_FRAMES)
    rng = np.random.default_rng(seed + 2)
    good_bad = quality_p_bad(model, manifest, frames) >= threshold
    per_kind = {}
    pair_correct = int((~good_bad).sum())
    for kind_index, kind in enumerate(DEGRADATIONS):
        copies = [degrade(frame, kind, rng) for frame in frames]
        called_bad = quality_p_bad(model, manifest, copies) >= threshold
        per_kind[kind] = round(float(called_bad.mean()), 4)
        turn = np.arange(len(frames)) % len(DEGRADATIONS) == kind_index
        pair_correct += int(called_bad[turn].sum())
    good_accuracy = float((~good_bad).mean())
    mean_recall = sum(per_kind.values()) / len(per_kind)
    return {
        "test_frames": f"{CLIP_TEST_FRAMES.start}-{CLIP_TEST_FRAMES.stop - 1}",
        "test_accuracy": round(pair_correct / (2 * len(frames)), 4),
        "test_good_accuracy": round(good_accuracy, 4),
        "test_bad_recall": per_kind,
        "test_balanced_accuracy_all_kinds": round((good_accuracy + mean_recall) / 2, 4),
    }
