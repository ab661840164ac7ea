"""Accuracy guard for INT8 models: how far INT8 outputs drift from FP32 outputs on held-out frames.

Detector: both outputs are decoded the same way (score >= `score_threshold`, class-aware NMS); the FP32
detections are taken as ground truth and scored against the INT8 detections with the EAD2019 scorer
(0.6 mAP + 0.4 IoU, in points: FP32 against itself scores 100). Box agreement is the share of FP32 boxes
that an INT8 box of the same class overlaps with IoU >= 0.5.
Classifier: the share of frames whose good/bad label (p_bad >= the model's threshold, else 0.5) is the
same.
For scale, a detector's report also gives `fp32_noise_loss_points`: the score FP32 itself loses when
seeded Gaussian noise of one grey level (sigma 1/255 before normalisation) is added to the frames. A
detector whose boxes sit near the score threshold loses points to any small change of its input.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch

from streamer.backends.base import Engine
from streamer.errors import ConfigError
from streamer.evaluate.detection_score import score_detections
from streamer.fusion.decode import DecodeConfig, decode_detections
from streamer.ops.boxes import pairwise_iou
from streamer.types import Detections

MATCH_IOU = 0.5
NOISE_GREY_LEVELS = 1.0
NOISE_SEED = 0


@dataclass(frozen=True)
class GuardBounds:
    """Largest accepted loss: detector score points lost, classifier share of labels changed."""

    max_score_loss_points: float = 1.0
    max_label_disagreement: float = 0.01
    score_threshold: float = 0.3
    nms_iou: float = 0.5
    max_detections: int = 100

    def __post_init__(self) -> None:
        if self.max_score_loss_points < 0 or not 0 <= self.max_label_disagreement <= 1:
            raise ConfigError(
                "INT8 guard bounds must be >= 0 points and a share in [0, 1], got "
                f"{self.max_score_loss_points} and {self.max_label_disagreement}"
            )


@dataclass
class GuardReport:
    """Outcome of the guard; `metrics` depend on the task (see module docstring)."""

    model: str
    task: str
    frames: int
    passed: bool
    reason: str
    metrics: dict[str, float]
    bounds: GuardBounds
    files: dict[str, str] = field(default_factory=dict)
    recipe: str = ""
    attempts: list[dict[str, object]] = field(default_factory=list)

    def write(self, path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(asdict(self), indent=2) + "\n")
        return path


def _decode_all(
    outputs: dict[str, torch.Tensor], bounds: GuardBounds, classes: tuple[str, ...]
) -> list[Detections]:
    """Detections per image (network-input pixels) from raw detector outputs."""
    batch = outputs["boxes"].shape[0]
    config = DecodeConfig(
        score_threshold=bounds.score_threshold,
        iou_threshold=bounds.nms_iou,
        max_detections=bounds.max_detections,
    )
    return decode_detections(outputs, [(1.0, 1.0, 0.0, 0.0)] * batch, classes=classes, config=config)


def box_agreement(truth: list[Detections], predicted: list[Detections]) -> float:
    """Share of truth boxes overlapped (IoU >= 0.5) by a predicted box of the same class; 1 with no truth."""
    matched, total = 0, 0
    for truth_image, predicted_image in zip(truth, predicted, strict=True):
        ious = pairwise_iou(truth_image.boxes, predicted_image.boxes)  # (T, P)
        same_class = truth_image.labels[:, None] == predicted_image.labels[None, :]
        matched += int(((ious >= MATCH_IOU) & same_class).any(dim=1).sum())
        total += len(truth_image)
    return matched / total if total else 1.0


def detection_agreement(truth: list[Detections], predicted: list[Detections]) -> dict[str, float]:
    """EAD2019 score (points) of `predicted` with `truth` as ground truth, its mAP and IoU, and box agreement.

    With no truth box anywhere, the score is 100 when nothing is predicted either and 0 otherwise.
    """
    truth_boxes = sum(len(d) for d in truth)
    agreement = box_agreement(truth, predicted)
    if truth_boxes == 0:
        nothing_predicted = all(len(d) == 0 for d in predicted)
        value = 1.0 if nothing_predicted else 0.0
        return {
            "score_points": 100.0 * value,
            "map": value,
            "iou": value,
            "box_agreement": agreement,
            "truth_boxes": 0.0,
        }
    ground_truth = {str(i): Detections(d.boxes, None, d.labels, d.classes) for i, d in enumerate(truth)}
    predictions = {str(i): d for i, d in enumerate(predicted)}
    result = score_detections(ground_truth, predictions, metric="ead2019")
    return {
        "score_points": 100.0 * result.score,
        "map": result.mean_ap,
        "iou": result.mean_iou,
        "box_agreement": agreement,
        "truth_boxes": float(truth_boxes),
    }


def _run(engine: Engine, frames: torch.Tensor) -> dict[str, torch.Tensor]:
    """Outputs of `engine` over (N, 3, H, W) `frames`, in batches of its max_batch, concatenated on CPU."""
    chunks = [engine.infer(batch) for batch in frames.split(engine.spec.max_batch)]
    return {name: torch.cat([chunk[name].cpu() for chunk in chunks]) for name in chunks[0]}


def _with_grey_noise(frames: torch.Tensor, std: tuple[float, float, float]) -> torch.Tensor:
    """`frames` (N, 3, H, W) normalised, plus seeded Gaussian noise of NOISE_GREY_LEVELS grey levels."""
    generator = torch.Generator().manual_seed(NOISE_SEED)
    sigma = torch.tensor(std, dtype=frames.dtype).reciprocal().mul(NOISE_GREY_LEVELS / 255.0)  # (3,)
    noise = torch.randn(frames.shape, generator=generator, dtype=frames.dtype)
    return frames + noise * sigma[None, :, None, None]


@dataclass(frozen=True)
class Fp32Reference:
    """What the guard compares INT8 with: FP32 outputs over the held-out frames, and for a detector its
    detections (decoded with the guard's bounds) and the score they lose to one grey level of noise."""

    outputs: dict[str, torch.Tensor]
    detections: list[Detections] | None = None
    noise_loss_points: float | None = None


def fp32_reference(fp32_engine: Engine, frames: np.ndarray, bounds: GuardBounds) -> Fp32Reference:
    """The FP32 side of the guard over held-out `frames` (N, 3, H, W) float32 normalised, made once for
    any number of INT8 candidates."""
    spec = fp32_engine.spec
    batch = torch.from_numpy(frames)
    outputs = _run(fp32_engine, batch)
    if spec.task == "classifier":
        return Fp32Reference(outputs)
    truth = _decode_all(outputs, bounds, spec.classes)
    noisy = _decode_all(_run(fp32_engine, _with_grey_noise(batch, spec.std)), bounds, spec.classes)
    noise_loss = 100.0 - detection_agreement(truth, noisy)["score_points"]
    return Fp32Reference(outputs, truth, noise_loss)


def check_int8(
    fp32_engine: Engine,
    int8_engine: Engine,
    frames: np.ndarray,
    bounds: GuardBounds | None = None,
    *,
    reference: Fp32Reference | None = None,
) -> GuardReport:
    """Compare `int8_engine` with `fp32_engine` on held-out `frames` (N, 3, H, W) float32 normalised.

    reference: `fp32_reference(fp32_engine, frames, bounds)` when already made (same frames and bounds).
    """
    bounds = bounds or GuardBounds()
    spec = fp32_engine.spec
    reference = reference or fp32_reference(fp32_engine, frames, bounds)
    candidate = _run(int8_engine, torch.from_numpy(frames))
    if spec.task == "classifier":
        p_bad_fp32, p_bad_int8 = reference.outputs["p_bad"], candidate["p_bad"]
        threshold = spec.score_thresholds[0] if spec.score_thresholds else 0.5
        disagreement = float(((p_bad_fp32 >= threshold) != (p_bad_int8 >= threshold)).float().mean())
        metrics = {
            "label_agreement": 1.0 - disagreement,
            "max_abs_p_bad_difference": float((p_bad_fp32 - p_bad_int8).abs().max()),
        }
        passed = disagreement <= bounds.max_label_disagreement
        reason = f"labels changed on {disagreement:.1%} of frames (bound {bounds.max_label_disagreement:.1%})"
    else:
        assert reference.detections is not None and reference.noise_loss_points is not None
        predicted = _decode_all(candidate, bounds, spec.classes)
        metrics = detection_agreement(reference.detections, predicted)
        loss = 100.0 - metrics["score_points"]
        metrics["score_loss_points"] = loss
        metrics["fp32_noise_loss_points"] = reference.noise_loss_points
        passed = loss <= bounds.max_score_loss_points
        reason = f"EAD2019-style score loss {loss:.2f} points (bound {bounds.max_score_loss_points:.2f})"
    return GuardReport(
        model=spec.name,
        task=spec.task,
        frames=int(frames.shape[0]),
        passed=passed,
        reason=("accepted: " if passed else "refused: ") + reason,
        metrics=metrics,
        bounds=bounds,
    )
