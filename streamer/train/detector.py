"""Train a RetinaNet on EAD-format folders and write it to the model store with its ONNX export.

Frames are prepared exactly as `streamer run` prepares them (field-of-view crop, resize, normalise), the
validation split is by video (`streamer.train.video_split`) and written next to the model, and per-class
score thresholds chosen on that split for the EAD2019 score are stored in the manifest.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import DataLoader

from streamer.errors import ConfigError, DataError
from streamer.evaluate.detection_score import score_detections
from streamer.evaluate.folders import read_class_list
from streamer.evaluate.thresholds import apply_thresholds, cross_fitted_score, tune_class_thresholds
from streamer.fusion.decode import DecodeConfig, decode_detections
from streamer.models.losses import DetectionLoss
from streamer.models.store import build_model
from streamer.train.augment import AugmentConfig
from streamer.train.datasets import DetectionDataset, collate_detections, scan_folder
from streamer.train.loop import LoopConfig, LoopResult, fit
from streamer.train.publish import publish_model
from streamer.train.video_split import (
    SPLIT_NAME,
    FolderItem,
    VideoSplit,
    read_split,
    split_folders,
    write_split,
)
from streamer.types import EAD2019_CLASSES, Detections

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
SMALL_ANCHORS = [16, 32, 64, 128, 256]  # specularities and bubbles are mostly under 16 px at 320x320
LITE_DETECTOR: dict[str, Any] = {
    "builder": "retinanet",
    "backbone": "lite",
    "input_size": [320, 320],
    "fpn_channels": 64,
    "head_width": 64,
    "head_depth": 2,
    "separable_heads": True,
    "backbone_width": 0.5,
    "anchor_sizes": SMALL_ANCHORS,
}
R18_DETECTOR: dict[str, Any] = {
    "builder": "retinanet",
    "backbone": "resnet18",
    "input_size": [384, 384],
    "fpn_channels": 96,
    "head_width": 96,
    "head_depth": 2,
    "anchor_sizes": SMALL_ANCHORS,
}
R50_DETECTOR: dict[str, Any] = {
    "builder": "retinanet",
    "backbone": "resnet50",
    "input_size": [512, 512],
    "anchor_sizes": [24, 48, 96, 192, 384],
}
DETECTOR_ARCHITECTURES: dict[str, dict[str, Any]] = {
    "lite": LITE_DETECTOR,
    "r18": R18_DETECTOR,
    "r50": R50_DETECTOR,
}
MONITORS = ("score_cross_fitted", "score", "mAP")  # validation figures that can pick the kept epoch
VALIDATION_DECODE = DecodeConfig(score_threshold=0.05, top_k=1000, iou_threshold=0.5, max_detections=100)


@dataclass(frozen=True)
class DetectorTrainConfig:
    """One detector training run.

    data: EAD-format folders; output: model folder written at the end (manifest, weights, ONNX, split);
    loop: optimisation settings (run folder, epochs, LR, ...); validation_fraction: share of frames held
    out by video; split_file: reuse this split instead of drawing one (ensemble members share a split);
    command: the command line that started the run, recorded in the manifest; init_weights: start from
    these weights (a state_dict, or a run's checkpoint.pt) instead of a random initialisation.
    """

    data: tuple[Path, ...]
    output: Path
    loop: LoopConfig
    name: str = "detector"
    architecture: Mapping[str, Any] = field(default_factory=lambda: dict(LITE_DETECTOR))
    batch_size: int = 8
    validation_fraction: float = 0.175
    split_file: Path | None = None
    seed: int = 0
    gamma: float = 1.5
    alpha: float = 0.25
    classification_weight: float = 1.0
    augment: AugmentConfig = field(default_factory=AugmentConfig)
    command: str = ""
    init_weights: Path | None = None


def read_class_names(folders: Sequence[Path]) -> tuple[str, ...]:
    """The class list of the folders (`classes.txt`, one name a line); the EAD2019 classes when none has
    one. Folders that disagree are an error."""
    found = {str(folder): names for folder in folders if (names := read_class_list(Path(folder)))}
    lists = set(found.values())
    if len(lists) > 1:
        raise DataError(f"the training folders list different classes: {found}")
    return lists.pop() if lists else EAD2019_CLASSES


def read_weights(path: Path) -> dict[str, torch.Tensor]:
    """A state_dict from a weight file or from a training checkpoint (its "model" entry)."""
    try:
        state = torch.load(path, map_location="cpu", weights_only=False)
    except (OSError, RuntimeError) as error:
        raise ConfigError(f"--init-weights: cannot read {path} ({error})") from error
    return state["model"] if isinstance(state, dict) and "model" in state and "optimizer" in state else state


def collect_items(folders: Sequence[Path]) -> list[FolderItem]:
    """All labelled images of the folders, tagged with their folder's index."""
    return [FolderItem(index, item) for index, folder in enumerate(folders) for item in scan_folder(folder)]


def make_split(config: DetectorTrainConfig) -> VideoSplit:
    """The run's split: the given split file, or a seeded split by video."""
    items = collect_items(config.data)
    if config.split_file is not None:
        return read_split(config.split_file, items)
    return split_folders(config.data, items, config.validation_fraction, config.seed)


def predict_dataset(
    model: torch.nn.Module, dataset: DetectionDataset, classes: Sequence[str], batch_size: int
) -> tuple[dict[str, Detections], dict[str, Detections]]:
    """(ground truth, predictions at score >= 0.05) of every image, in source pixels, keyed by index."""
    classes = tuple(classes)
    ground_truth, predictions = {}, {}
    level_sizes = model.level_sizes()
    for start in range(0, len(dataset), batch_size):
        indices = range(start, min(start + batch_size, len(dataset)))
        prepared = [dataset.load(i) for i in indices]
        images = torch.stack([dataset[i][0] for i in indices])
        table = [
            [p.transform.scale_x, p.transform.scale_y, p.transform.offset_x, p.transform.offset_y]
            for p in prepared
        ]
        decoded = decode_detections(
            model(images),
            table,
            classes=classes,
            config=VALIDATION_DECODE,
            level_sizes=level_sizes,
            input_size=model.input_size,
        )
        for index, image, detections in zip(indices, prepared, decoded, strict=True):
            ground_truth[str(index)] = Detections(
                torch.from_numpy(image.source_boxes.astype(np.float64).reshape(-1, 4)),
                None,
                torch.as_tensor(image.source_labels, dtype=torch.int64).reshape(-1),
                classes,
            )
            predictions[str(index)] = detections
    return ground_truth, predictions


def validation_metrics(
    ground_truth: Mapping[str, Detections], predictions: Mapping[str, Detections], classes: Sequence[str]
) -> tuple[dict[str, float], dict[str, float]]:
    """(metrics, per-class thresholds): EAD2019 score with thresholds tuned on this set ("score"), with
    thresholds tuned on the other half of the set ("score_cross_fitted"), and at the lowest threshold
    ("score_untuned", "mAP" = its mAP@0.25)."""
    try:
        untuned = score_detections(ground_truth, predictions)
    except DataError:
        empty = dict.fromkeys(
            ("score", "score_cross_fitted", "mAP", "IoU", "tuned_mAP", "score_untuned"), 0.0
        )
        return empty, dict.fromkeys(classes, 0.5)
    thresholds = tune_class_thresholds(ground_truth, predictions, classes)
    tuned = score_detections(ground_truth, apply_thresholds(predictions, thresholds))
    metrics = {
        "score": tuned.score,
        "score_cross_fitted": cross_fitted_score(ground_truth, predictions, classes),
        "mAP": untuned.mean_ap,
        "IoU": tuned.mean_iou,
        "tuned_mAP": tuned.mean_ap,
        "score_untuned": untuned.score,
    }
    return metrics, thresholds


def train_detector(config: DetectorTrainConfig) -> tuple[LoopResult, dict[str, Any]]:
    """Train, keep the best epoch by tuned EAD2019 score on the validation videos, write the model folder.

    Returns the loop result and the validation metrics of the written model.
    """
    if config.loop.monitor not in MONITORS:
        raise ConfigError(f"unknown monitor {config.loop.monitor!r}; choose one of {', '.join(MONITORS)}")
    torch.manual_seed(config.seed)
    classes = read_class_names(config.data)
    architecture = {**config.architecture, "num_classes": len(classes)}
    model = build_model(architecture)
    if config.init_weights is not None and not config.loop.resume:
        model.load_state_dict(read_weights(config.init_weights))
    split = make_split(config)
    if not split.train or not split.validation:
        raise ConfigError("detector training needs frames on both sides of the split")
    run_dir = Path(config.loop.run_dir)
    write_split(run_dir / SPLIT_NAME, split, folders=config.data)
    common = {
        "input_size": model.input_size,
        "num_classes": len(classes),
        "mean": IMAGENET_MEAN,
        "std": IMAGENET_STD,
    }
    train_set = DetectionDataset(
        [item.image for item in split.train], **common, augment_config=config.augment, seed=config.seed
    )
    validation_set = DetectionDataset([item.image for item in split.validation], **common)
    loader = DataLoader(
        train_set,
        batch_size=config.batch_size,
        shuffle=True,
        collate_fn=collate_detections,
        generator=torch.Generator().manual_seed(config.seed),
    )
    loss = DetectionLoss(
        gamma=config.gamma, alpha=config.alpha, classification_weight=config.classification_weight
    )

    def step_loss(net: torch.nn.Module, batch: Any) -> dict[str, torch.Tensor]:
        images, boxes, labels = batch
        logits, deltas = net.forward_train(images)
        return loss(logits, deltas, net.anchors, boxes, labels)

    def validate(net: torch.nn.Module) -> dict[str, float]:
        return validation_metrics(*predict_dataset(net, validation_set, classes, config.batch_size), classes)[
            0
        ]

    result = fit(model, step_loss, loader, validate, config.loop)
    model.load_state_dict(torch.load(result.best_path, map_location="cpu", weights_only=True))
    model.eval()
    with torch.no_grad():
        ground_truth, predictions = predict_dataset(model, validation_set, classes, config.batch_size)
    metrics, thresholds = validation_metrics(ground_truth, predictions, classes)
    kept = apply_thresholds(predictions, thresholds)
    ead2019 = score_detections(ground_truth, kept)
    endocv = score_detections(ground_truth, kept, metric="endocv2020")
    summary = {
        "validation_ead2019_score": round(ead2019.score, 4),
        "validation_ead2019_mAP": round(ead2019.mean_ap, 4),
        "validation_ead2019_IoU": round(ead2019.mean_iou, 4),
        "validation_ead2019_score_cross_fitted": round(metrics["score_cross_fitted"], 4),
        "selected_by": config.loop.monitor,
        "validation_ead2019_iou_within_1.3_mAP": ead2019.iou_within_limit,
        "validation_endocv2020_score": round(endocv.score, 4),
        "validation_mAP_all_scores": round(metrics["mAP"], 4),
        "validation_AP_per_class": {name: round(r.ap, 4) for name, r in ead2019.per_class.items()},
        "validation_images": len(split.validation),
        "validation_videos": split.validation_groups,
        "train_images": len(split.train),
        "epochs": result.epochs,
        "steps": result.steps,
        "train_minutes": round(result.minutes, 1),
    }
    output = Path(config.output)
    publish_model(
        model,
        {
            "name": config.name,
            "task": "detector",
            "architecture": dict(config.architecture) | {"num_classes": len(classes)},
            "classes": list(classes),
            "input_size": list(model.input_size),
            "mean": list(IMAGENET_MEAN),
            "std": list(IMAGENET_STD),
            "score_thresholds": {name: float(value) for name, value in thresholds.items()},
            "training": {
                "data": [str(folder) for folder in config.data],
                "seed": config.seed,
                "gamma": config.gamma,
                "alpha": config.alpha,
                "classification_weight": config.classification_weight,
                "command": config.command,
                "init_weights": None if config.init_weights is None else str(config.init_weights),
            },
            "metrics": summary,
        },
        output,
    )
    write_split(output / SPLIT_NAME, split, folders=config.data)
    return result, summary
