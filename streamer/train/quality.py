"""Train and evaluate the quality gate: good/bad by the EAD box rule, and the share of each cause.

Training data: EAD-format folders labelled by streamer.evaluate.quality_labels (split by video with the detector's
split file or a fresh one), frames 0–149 of the bundled clip as good frames, and degraded copies of good
frames drawn afresh every step. The best epoch is the one with the highest ROC AUC on the validation
videos; the p_bad threshold that maximises balanced accuracy there goes into the manifest. The held-out
clip test is frames 175–249, never trained on, each frame against degraded copies of itself.
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
from torch.utils.data import DataLoader, WeightedRandomSampler

from streamer.errors import ConfigError, SourceError
from streamer.evaluate.classification import best_balanced_threshold, quality_metrics
from streamer.models.classifier import QUALITY_CLASSES
from streamer.models.predict import quality_p_bad
from streamer.models.store import ModelManifest, build_model, update_manifest
from streamer.paths import as_recorded
from streamer.synthetic import DEGRADATIONS, degrade
from streamer.train.detector import IMAGENET_MEAN, IMAGENET_STD, collect_items, read_class_names, read_weights
from streamer.train.loop import LoopConfig, LoopResult, fit
from streamer.train.publish import publish_model
from streamer.train.quality_data import (
    QualityDataset,
    QualitySample,
    ead_sample,
    good_frame_sample,
    source_weights,
)
from streamer.train.video_split import SPLIT_NAME, VideoSplit, read_split, split_folders, write_split

CLIP_TRAIN_FRAMES = range(0, 150)
CLIP_TEST_FRAMES = range(175, 250)
STORED_SHORT_SIDE = 288
STRIDE = 32  # the coverage head's grid step in input pixels
LITE_CLASSIFIER: dict[str, Any] = {
    "builder": "classifier",
    "backbone": "lite",
    "input_size": [256, 256],
    "width": 0.5,
}
B0_CLASSIFIER: dict[str, Any] = {
    "builder": "classifier",
    "backbone": "efficientnet_b0",
    "input_size": [256, 256],
}
PYRAMID_CLASSIFIER: dict[str, Any] = {
    "builder": "classifier",
    "backbone": "lite_pyramid",
    "input_size": [320, 320],
    "width": 0.5,
    "fpn_channels": 64,
}
CLASSIFIER_ARCHITECTURES: dict[str, dict[str, Any]] = {
    "lite": LITE_CLASSIFIER,
    "b0": B0_CLASSIFIER,
    "pyramid": PYRAMID_CLASSIFIER,
}
# a lite RetinaNet's trunk and pyramid, which the lite classifiers can start from: detector key prefix ->
# classifier key prefix
DETECTOR_PARTS = {"backbone.": "features.trunk.", "fpn.": "features.fpn."}


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


@dataclass(frozen=True)
class QualityTrainConfig:
    """One quality-gate run.

    data: EAD-format folders labelled by the rule; split: a split.json to reuse (e.g. the detector's), else
    one is drawn by video with `validation_fraction` and `seed`; clip: its frames 0–149 train as good, 175–249
    are the clip test; init_weights: a quality classifier to continue, or a lite detector whose trunk (and
    pyramid) starts the lite classifiers; freeze_features: train only what follows the trunk and pyramid
    of the "pyramid" architecture (they keep the detector's weights);
    coverage_weight: weight of the per-cell cause loss next to the good/bad loss; balance_sources: draw
    training frames with streamer.train.quality_data.source_weights instead of uniformly.
    """

    data: tuple[Path, ...]
    clip: Path
    output: Path
    loop: LoopConfig
    split: Path | None = None
    validation_fraction: float = 0.175
    name: str = "quality-lite"
    architecture: Mapping[str, Any] = field(default_factory=lambda: dict(LITE_CLASSIFIER))
    init_weights: Path | None = None
    freeze_features: bool = False
    degrade_probability: float = 0.3
    coverage_weight: float = 1.0
    balance_sources: bool = False
    batch_size: int = 16
    seed: int = 0
    command: str = ""


def make_split(config: QualityTrainConfig) -> VideoSplit:
    """The given split file applied to the data, or a fresh seeded split by video."""
    items = collect_items(config.data)
    if config.split is not None:
        return read_split(config.split, items)
    return split_folders(config.data, items, config.validation_fraction, config.seed)


def init_weights(path: Path) -> dict[str, torch.Tensor]:
    """Starting weights from a file: all of a quality classifier's (to continue one), or the lite trunk
    and feature pyramid of a detector, keyed for the lite classifiers."""
    state = read_weights(path)
    if "fc.weight" in state:
        return state
    parts = {
        ours + key.removeprefix(theirs): value
        for key, value in state.items()
        for theirs, ours in DETECTOR_PARTS.items()
        if key.startswith(theirs)
    }
    if not any(key.startswith(DETECTOR_PARTS["backbone."]) for key in parts):
        raise ConfigError(f"--init-weights: {path} holds no lite trunk (backbone.*)")
    return parts


def predict_p_bad(model: nn.Module, dataset: QualityDataset, batch_size: int = 32) -> np.ndarray:
    """(N,) p_bad of every item of an unaugmented dataset."""
    return predict(model, dataset, batch_size)[0]


def predict(model: nn.Module, dataset: QualityDataset, batch_size: int = 32) -> tuple[np.ndarray, np.ndarray]:
    """(p_bad (N,), predicted share of the view covered by any cause (N,)) of an unaugmented dataset."""
    loader = DataLoader(dataset, batch_size=batch_size)
    p_bad, covered = [], []
    with torch.no_grad():
        for images, _, _ in loader:
            bad_logit, coverage = model.forward_train(images)
            p_bad.append(torch.sigmoid(bad_logit).numpy())
            covered.append(torch.sigmoid(coverage[:, -1]).mean(dim=(1, 2)).numpy())
    return np.concatenate(p_bad), np.concatenate(covered)


def validation_metrics(model: nn.Module, dataset: QualityDataset, is_bad: np.ndarray) -> dict[str, float]:
    """ROC AUC ("score"), balanced accuracy at the best threshold and log loss of p_bad on the validation
    frames, and the ROC AUC of the predicted covered share ("coverage_auc")."""
    p_bad, covered = predict(model, dataset)
    threshold = best_balanced_threshold(is_bad, p_bad)
    metrics = quality_metrics(is_bad, p_bad, threshold)
    clipped = np.clip(p_bad, 1e-6, 1 - 1e-6)
    log_loss = -np.mean(np.where(is_bad, np.log(clipped), np.log(1 - clipped)))
    return {
        "score": float(metrics.auc or 0.0),
        "balanced_accuracy": metrics.balanced_accuracy,
        "threshold": threshold,
        "loss": float(log_loss),
        "coverage_auc": float(quality_metrics(is_bad, covered).auc or 0.0),
    }


def quality_loss(net: nn.Module, batch: Any, coverage_weight: float) -> dict[str, torch.Tensor]:
    """Binary cross-entropy of the bad logit plus `coverage_weight` × that of the per-cell cause maps."""
    images, bad, targets = batch
    bad_logit, coverage = net.forward_train(images)
    if coverage.shape[-2:] != targets.shape[-2:]:
        raise ConfigError(
            f"coverage grid {tuple(coverage.shape[-2:])} != targets {tuple(targets.shape[-2:])}"
        )
    label_loss = F.binary_cross_entropy_with_logits(bad_logit, bad)
    coverage_loss = F.binary_cross_entropy_with_logits(coverage, targets)
    return {
        "loss": label_loss + coverage_weight * coverage_loss,
        "label_loss": label_loss,
        "coverage_loss": coverage_loss,
    }


def load_samples(
    config: QualityTrainConfig, split: VideoSplit, input_size: Sequence[int]
) -> tuple[list[QualitySample], list[QualitySample]]:
    """(training samples: EAD train side + clip frames 0–149, validation samples: EAD validation side)."""
    classes = read_class_names(config.data)
    train = [ead_sample(item.image, classes, input_size) for item in split.train]
    clip_frames = read_video_frames(config.clip, CLIP_TRAIN_FRAMES)
    train += [
        good_frame_sample(frame, input_size, f"{config.clip.name}#{index}", config.clip.name)
        for index, frame in zip(CLIP_TRAIN_FRAMES, clip_frames, strict=True)
    ]
    validation = [ead_sample(item.image, classes, input_size) for item in split.validation]
    return train, validation


def train_quality(config: QualityTrainConfig) -> tuple[LoopResult, dict[str, Any]]:
    """Train, keep the best epoch by validation AUC, choose the threshold, write the model folder.

    Returns the loop result and the metrics written to the manifest.
    """
    torch.manual_seed(config.seed)
    model = build_model(config.architecture)
    if config.init_weights is not None and not config.loop.resume:
        missing, _ = model.load_state_dict(init_weights(config.init_weights), strict=False)
        if any(key.startswith(tuple(DETECTOR_PARTS.values())) for key in missing):
            raise ConfigError(f"--init-weights: {config.init_weights} does not fit the classifier's trunk")
    if config.freeze_features:
        model.features.freeze()
    input_size = model.input_size
    grid = (input_size[0] // STRIDE, input_size[1] // STRIDE)
    split = make_split(config)
    write_split(Path(config.loop.run_dir) / SPLIT_NAME, split, folders=config.data)
    train_samples, validation_samples = load_samples(config, split, input_size)
    is_bad = np.array([sample.bad for sample in validation_samples], dtype=bool)
    common = {"mean": IMAGENET_MEAN, "std": IMAGENET_STD, "grid": grid}
    train_set = QualityDataset(
        train_samples,
        **common,
        train=True,
        degrade_probability=config.degrade_probability,
        seed=config.seed,
    )
    validation_set = QualityDataset(validation_samples, **common, train=False)
    generator = torch.Generator().manual_seed(config.seed)
    sampler = (
        WeightedRandomSampler(
            torch.from_numpy(source_weights(train_samples)), len(train_samples), generator=generator
        )
        if config.balance_sources
        else None
    )
    loader = DataLoader(
        train_set,
        batch_size=config.batch_size,
        shuffle=sampler is None,
        sampler=sampler,
        generator=generator,
        drop_last=True,  # a last batch of one frame cannot be batch-normalised
    )
    result = fit(
        model,
        lambda net, batch: quality_loss(net, batch, config.coverage_weight),
        loader,
        lambda net: validation_metrics(net, validation_set, is_bad),
        config.loop,
    )
    model.load_state_dict(torch.load(result.best_path, map_location="cpu", weights_only=True))
    run_facts = {"epochs": result.epochs, "steps": result.steps, "train_minutes": round(result.minutes, 1)}
    return result, publish_quality(config, model, validation_set, train_samples, run_facts)


def publish_quality(
    config: QualityTrainConfig,
    model: nn.Module,
    validation_set: QualityDataset,
    train_samples: Sequence[QualitySample],
    run_facts: Mapping[str, Any],
) -> dict[str, Any]:
    """Choose the threshold on the validation frames, write the model folder (weights, manifest with the
    validation and clip-test figures, ONNX, split.json from the run folder); returns the figures."""
    model.eval()
    is_bad = np.array([sample.bad for sample in validation_set.samples], dtype=bool)
    p_bad = predict_p_bad(model, validation_set)
    threshold = round(best_balanced_threshold(is_bad, p_bad), 4)
    at_threshold = quality_metrics(is_bad, p_bad, threshold)
    metrics: dict[str, Any] = {
        "validation_frames": len(validation_set),
        "validation_bad_frames": int(is_bad.sum()),
        "validation_roc_auc": round(at_threshold.auc or 0.0, 4),
        "validation_balanced_accuracy": round(at_threshold.balanced_accuracy, 4),
        "validation_accuracy": round(at_threshold.accuracy, 4),
        "validation_sensitivity": round(at_threshold.recall, 4),
        "validation_specificity": round(at_threshold.specificity, 4),
        "validation_kappa": round(at_threshold.kappa, 4),
        "train_frames": len(train_samples),
        "train_bad_frames": int(sum(sample.bad for sample in train_samples)),
        **run_facts,
    }
    fields = {
        "name": config.name,
        "task": "classifier",
        "architecture": dict(config.architecture),
        "classes": list(QUALITY_CLASSES),
        "input_size": list(model.input_size),
        "mean": list(IMAGENET_MEAN),
        "std": list(IMAGENET_STD),
        "score_thresholds": {"bad": threshold},
        "training": {
            "data": [str(folder) for folder in config.data],
            "clip": as_recorded(config.clip),
            "seed": config.seed,
            "degrade_probability": config.degrade_probability,
            "coverage_weight": config.coverage_weight,
            "balance_sources": config.balance_sources,
            "init_weights": None if config.init_weights is None else str(config.init_weights),
            "command": config.command,
        },
        "metrics": metrics,
    }
    manifest = publish_model(model, fields, config.output)
    (Path(config.output) / SPLIT_NAME).write_text((Path(config.loop.run_dir) / SPLIT_NAME).read_text())
    clip_test = evaluate_clip(model, manifest, config.clip, seed=config.seed, threshold=threshold)
    update_manifest(config.output, metrics={**metrics, **clip_test})
    return {**metrics, **clip_test}


def evaluate_clip(
    model: nn.Module, manifest: ModelManifest, clip: Path, *, seed: int = 0, threshold: float = 0.5
) -> dict[str, Any]:
    """Accuracy on the clip's test frames (175–249) against degraded copies of themselves.

    Returns clip_test_accuracy (each frame and one degraded copy, the kinds taken in turn),
    clip_test_good_accuracy, clip_test_bad_recall per kind (one copy of every frame per kind).
    """
    frames = read_video_frames(clip, CLIP_TEST_FRAMES)
    rng = np.random.default_rng(seed + 2)
    called_bad_good = quality_p_bad(model, manifest, frames) >= threshold
    per_kind = {}
    pair_correct = int((~called_bad_good).sum())
    for kind_index, kind in enumerate(DEGRADATIONS):
        copies = [degrade(frame, kind, rng) for frame in frames]
        called_bad = quality_p_bad(model, manifest, copies) >= threshold
        per_kind[kind] = round(float(called_bad.mean()), 4)
        turn = np.arange(len(frames)) % len(DEGRADATIONS) == kind_index
        pair_correct += int(called_bad[turn].sum())
    return {
        "clip_test_frames": f"{CLIP_TEST_FRAMES.start}-{CLIP_TEST_FRAMES.stop - 1}",
        "clip_test_accuracy": round(pair_correct / (2 * len(frames)), 4),
        "clip_test_good_accuracy": round(float((~called_bad_good).mean()), 4),
        "clip_test_bad_recall": per_kind,
    }
