"""Train a RetinaNet on EAD2019-format folders and write it to the model store with its ONNX export."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import DataLoader

from streamer.errors import ConfigError, DataError
from streamer.evaluate.annotations import BoxSet
from streamer.evaluate.detection_score import DetectionScore, score_detections
from streamer.fusion.decode import decode_detections
from streamer.models.losses import DetectionLoss
from streamer.models.predict import detect
from streamer.models.preprocess import to_network_input
from streamer.models.store import ModelManifest, build_model
from streamer.train.augment import AugmentConfig
from streamer.train.datasets import (
    DetectionDataset,
    LabelledImage,
    collate_detections,
    read_image,
    read_yolo_labels,
    scan_folder,
    split_by_sequence,
)
from streamer.train.loop import LoopConfig, LoopResult, fit
from streamer.train.publish import publish_model
from streamer.types import EAD2019_CLASSES

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
LITE_DETECTOR: dict[str, Any] = {
    "builder": "retinanet",
    "backbone": "lite",
    "input_size": [320, 320],
    "fpn_channels": 64,
    "head_width": 64,
    "head_depth": 2,
    "separable_heads": True,
    "backbone_width": 0.5,
}
R50_DETECTOR: dict[str, Any] = {"builder": "retinanet", "backbone": "resnet50", "input_size": [512, 512]}
DETECTOR_ARCHITECTURES: dict[str, dict[str, Any]] = {"lite": LITE_DETECTOR, "r50": R50_DETECTOR}


@dataclass(frozen=True)
class DetectorTrainConfig:
    """One detector training run.

    data: EAD2019-format folders; output: model folder written at the end (manifest, weights, ONNX);
    loop: optimisation settings (run folder, epochs, LR, ...); validation_fraction: share of sequences
    held out; validation_limit: at most this many held-out images are scored after each epoch.
    """

    data: tuple[Path, ...]
    output: Path
    loop: LoopConfig
    name: str = "detector"
    architecture: Mapping[str, Any] = field(default_factory=lambda: dict(LITE_DETECTOR))
    batch_size: int = 8
    validation_fraction: float = 0.15
    validation_limit: int = 120
    seed: int = 0
    gamma: float = 1.5
    alpha: float = 0.25
    classification_weight: float = 1.0


def collect_items(folders: Sequence[Path]) -> list[LabelledImage]:
    """All labelled images of the folders; sequences of different folders never share a name."""
    items = []
    for index, folder in enumerate(folders):
        for item in scan_folder(folder):
            items.append(LabelledImage(item.image_path, item.label_path, f"{index}:{item.sequence}"))
    return items


def ead2019_validation(
    model: torch.nn.Module, dataset: DetectionDataset, batch_size: int
) -> dict[str, float]:
    """EAD2019 score (0.6 mAP@0.25 + 0.4 IoU), mAP and IoU on `dataset` (boxes in input pixels)."""
    ground_truth, predictions = {}, {}
    for start in range(0, len(dataset), batch_size):
        indices = range(start, min(start + batch_size, len(dataset)))
        loaded = [dataset.load(i) for i in indices]
        images = torch.stack(
            [to_network_input(image, dataset.input_size, dataset.mean, dataset.std) for image, _, _ in loaded]
        )
        outputs = model(images)
        identity = [[1.0, 1.0, 0.0, 0.0]] * len(loaded)  # boxes stay in network-input pixels
        decoded = decode_detections(outputs, identity, input_size=dataset.input_size)
        for (index, (_, boxes, labels)), detections in zip(
            zip(indices, loaded, strict=True), decoded, strict=True
        ):
            names = tuple(EAD2019_CLASSES[int(label)] for label in labels)
            ground_truth[str(index)] = BoxSet(names, boxes.astype(np.float64))
            predictions[str(index)] = BoxSet(
                tuple(EAD2019_CLASSES[int(label)] for label in detections.labels.tolist()),
                detections.boxes.numpy().astype(np.float64).reshape(-1, 4),  # (N, 4)
                detections.scores.numpy().astype(np.float64),
            )
    try:
        result = score_detections(ground_truth, predictions)
    except DataError:
        return {"score": 0.0, "mAP": 0.0, "IoU": 0.0}
    return {"score": result.score, "mAP": result.mean_ap, "IoU": result.mean_iou}


def train_detector(config: DetectorTrainConfig) -> tuple[LoopResult, dict[str, float]]:
    """Train, keep the best epoch by EAD2019 score on held-out sequences, write the model folder.

    Returns the loop result and the held-out metrics of the written model.
    """
    torch.manual_seed(config.seed)
    model = build_model(config.architecture)
    input_size = model.input_size
    train_items, validation_items = split_by_sequence(
        collect_items(config.data), config.validation_fraction, config.seed
    )
    if not train_items or not validation_items:
        raise ConfigError("detector training needs at least two sequences (one to train, one to validate)")
    rng = np.random.default_rng(config.seed)
    if len(validation_items) > config.validation_limit:
        picked = rng.choice(len(validation_items), config.validation_limit, replace=False)
        validation_items = [validation_items[i] for i in sorted(picked)]
    common = {"input_size": input_size, "num_classes": len(EAD2019_CLASSES), "mean": IMAGENET_MEAN}
    train_set = DetectionDataset(
        train_items, **common, std=IMAGENET_STD, augment_config=AugmentConfig(), seed=config.seed
    )
    validation_set = DetectionDataset(validation_items, **common, std=IMAGENET_STD)
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

    result = fit(
        model,
        step_loss,
        loader,
        lambda net: ead2019_validation(net, validation_set, config.batch_size),
        config.loop,
    )
    model.load_state_dict(torch.load(result.best_path, map_location="cpu", weights_only=True))
    model.eval()
    metrics = {
        "validation_ead2019_score": round(result.best["score"], 4),
        "validation_mAP@0.25": round(result.best["mAP"], 4),
        "validation_IoU": round(result.best["IoU"], 4),
        "validation_images": len(validation_items),
        "train_images": len(train_items),
        "epochs": result.epochs,
        "steps": result.steps,
        "train_minutes": round(result.minutes, 1),
    }
    publish_model(
        model,
        {
            "name": config.name,
            "task": "detector",
            "architecture": dict(config.architecture),
            "classes": list(EAD2019_CLASSES),
            "input_size": list(input_size),
            "mean": list(IMAGENET_MEAN),
            "std": list(IMAGENET_STD),
            "metrics": metrics,
        },
        config.output,
    )
    return result, metrics


def evaluate_detector(model: torch.nn.Module, manifest: ModelManifest, folder: Path) -> DetectionScore:
    """EAD2019 score of a stored detector on an EAD2019-format folder, boxes in original image pixels."""
    ground_truth, predictions = {}, {}
    for item in scan_folder(folder):
        image = read_image(item.image_path)
        height, width = image.shape[:2]
        boxes, labels = read_yolo_labels(item.label_path, width, height, len(manifest.classes))
        key = item.image_path.stem
        ground_truth[key] = BoxSet(tuple(manifest.classes[i] for i in labels), boxes.astype(np.float64))
        records = detect(model, manifest, image)
        predictions[key] = BoxSet.from_records(records) if records else BoxSet.empty(with_scores=True)
    return score_detections(ground_truth, predictions)
