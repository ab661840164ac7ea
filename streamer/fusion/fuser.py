"""Fusion facade: one frozen FusionConfig, one Fuser, `fuse(per_model, config=...) -> Detections`.

Modes: "stack_vote" (the paper's ensemble, see streamer.fusion.ensemble), "wbf" (weighted boxes fusion),
"nms" and "soft_nms" (class-aware, over the union of all models' boxes). In every mode, boxes with
score < per_model_threshold are dropped first, and the post-filter (streamer.fusion.postfilter) runs last
when enabled. Everything stays on the device of the inputs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields, replace
from typing import Literal

import numpy as np
import torch

from streamer.errors import ConfigError, DataError
from streamer.fusion import cpu
from streamer.fusion.batch import FlatBatch, shared_classes, split_by_image
from streamer.fusion.ensemble import StackVoteParams, stack_vote
from streamer.fusion.nms import SoftNmsMethod, nms, soft_nms
from streamer.fusion.postfilter import inner_box_mask
from streamer.fusion.wbf import FusionNotSettled, weighted_boxes_fusion
from streamer.types import EAD2019_CLASSES, Detections

FusionMode = Literal["stack_vote", "wbf", "nms", "soft_nms"]
FUSION_MODES: tuple[str, ...] = ("stack_vote", "wbf", "nms", "soft_nms")
VOTE_FRACTION = 0.24  # default vote threshold per model: 0.24 * M (1.68 for M = 7)


@dataclass(frozen=True)
class FusionConfig:
    """How the detections of M models are fused into one set per image.

    per_model_threshold: boxes with a lower score are dropped before fusing (every mode).
    iou_threshold: WBF match / NMS suppression / linear soft-NMS IoU; None means 0.55 for "wbf", 0.5 else.
    vote_threshold: stack-vote summed-confidence threshold: one float, or a mapping class name -> float
    (classes not named use the default), or None for the default 0.24 * M (1.68 for M = 7).
    overlap_threshold, confidence_weight, iou_weight: stack-vote pairing score and its threshold.
    root_weight: weight multiplier of a stack's root box in the fused box; count_bonus: added to the
    stack's mean confidence per box. model_weights: WBF per-model weights (None: all 1).
    soft_nms_method, soft_nms_sigma, soft_nms_min_score: soft-NMS decay and cut-off.
    post_filter: remove the outer box of nested same-class pairs (more than `containment` of the inner
    box's area inside the outer one). classes: names of the label indices. output_thresholds: after
    fusion, a class keeps only boxes scoring at least its threshold (the ensemble's per-class thresholds,
    chosen on validation data; classes not named keep all).
    """

    mode: FusionMode = "stack_vote"
    per_model_threshold: float = 0.2
    iou_threshold: float | None = None
    vote_threshold: float | Mapping[str, float] | None = None
    overlap_threshold: float = 0.46
    confidence_weight: float = 0.7
    iou_weight: float = 0.3
    root_weight: float = 2.0
    count_bonus: float = 0.03
    model_weights: tuple[float, ...] | None = None
    soft_nms_method: SoftNmsMethod = "gaussian"
    soft_nms_sigma: float = 0.5
    soft_nms_min_score: float = 0.001
    post_filter: bool = True
    containment: float = 0.9
    classes: tuple[str, ...] = EAD2019_CLASSES
    output_thresholds: Mapping[str, float] | None = None

    @classmethod
    def from_mapping(cls, section: Mapping[str, object]) -> FusionConfig:
        """A config from a profile section (e.g. a TOML table); unknown keys are a ConfigError."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(section) - known)
        if unknown:
            raise ConfigError(f"unknown fusion options {unknown}; known: {sorted(known)}")
        values = dict(section)
        if isinstance(values.get("model_weights"), list):
            values["model_weights"] = tuple(values["model_weights"])
        return cls(**values)

    def __post_init__(self) -> None:
        if self.mode not in FUSION_MODES:
            raise ConfigError(f"fusion mode must be one of {', '.join(FUSION_MODES)}, got {self.mode!r}")
        for name in ("per_model_threshold", "overlap_threshold", "containment"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ConfigError(f"fusion {name} must be in [0, 1], got {value}")
        if self.iou_threshold is not None and not 0.0 <= self.iou_threshold <= 1.0:
            raise ConfigError(f"fusion iou_threshold must be in [0, 1], got {self.iou_threshold}")
        if min(self.root_weight, self.soft_nms_sigma, self.confidence_weight) <= 0 or self.iou_weight < 0:
            raise ConfigError(
                "fusion root_weight, soft_nms_sigma and confidence_weight must be > 0, iou_weight >= 0"
            )
        if self.soft_nms_method not in ("gaussian", "linear"):
            raise ConfigError(f"soft_nms_method must be 'gaussian' or 'linear', got {self.soft_nms_method!r}")
        if self.model_weights is not None and any(w <= 0 for w in self.model_weights):
            raise ConfigError(f"fusion model_weights must be > 0, got {self.model_weights}")
        vote = self.vote_threshold
        thresholds = list(vote.values()) if isinstance(vote, Mapping) else [vote]
        if any(value is not None and value <= 0 for value in thresholds):
            raise ConfigError(f"fusion vote_threshold must be > 0, got {self.vote_threshold}")
        if self.output_thresholds is not None and not all(
            0.0 <= v <= 1.0 for v in self.output_thresholds.values()
        ):
            raise ConfigError(f"fusion output_thresholds must be in [0, 1], got {self.output_thresholds}")
        if isinstance(self.vote_threshold, Mapping):
            unknown = sorted(set(self.vote_threshold) - set(self.classes))
            if unknown:
                raise ConfigError(
                    f"vote_threshold names unknown classes {unknown}; known: {list(self.classes)}"
                )

    def vote_thresholds(self, models: int) -> torch.Tensor:
        """Per-class stack-vote thresholds (K,) float64 for an ensemble of `models` detectors."""
        default = 1.68 if models == 7 else VOTE_FRACTION * models
        if self.vote_threshold is None:
            values = [default] * len(self.classes)
        elif isinstance(self.vote_threshold, Mapping):
            values = [float(self.vote_threshold.get(name, default)) for name in self.classes]
        else:
            values = [float(self.vote_threshold)] * len(self.classes)
        return torch.tensor(values, dtype=torch.float64)

    def resolved_iou_threshold(self) -> float:
        """IoU threshold of the chosen mode."""
        if self.iou_threshold is not None:
            return self.iou_threshold
        return 0.55 if self.mode == "wbf" else 0.5


def _check_inputs(per_model: Sequence[Sequence[Detections]], config: FusionConfig) -> list[Detections]:
    """Checks the batch structure, that every entry is on one device and labelled with the configured
    classes; returns the entries [m][b] flat."""
    if not per_model:
        raise DataError("fusion needs the detections of at least one model")
    images = {len(batch) for batch in per_model}
    if len(images) != 1 or 0 in images:
        raise DataError(f"every model must give one Detections per image, got batch sizes {sorted(images)}")
    if config.model_weights is not None and len(config.model_weights) != len(per_model):
        raise ConfigError(f"{len(config.model_weights)} model_weights for {len(per_model)} models")
    entries = [detections for batch in per_model for detections in batch]
    devices = {d.boxes.device for d in entries}
    if len(devices) > 1:
        raise DataError(f"all detections must be on one device, got {sorted(map(str, devices))}")
    if shared_classes(entries) != config.classes:
        raise DataError(f"the detections' classes {entries[0].classes} are not the fusion's {config.classes}")
    return entries


def _check_labels(low: int, high: int, classes: int) -> None:
    """Labels must index the configured classes; low, high: the smallest and largest label."""
    if low < 0 or high >= classes:
        raise DataError(f"labels must be in 0..{classes - 1}, got {low}..{high}")


def _post_filter(fused: list[Detections], containment: float, classes: tuple[str, ...]) -> list[Detections]:
    """The post-filter on every image at once (boxes of different images never interact); labels index
    `classes`."""
    device = fused[0].boxes.device
    counts = torch.tensor([len(d) for d in fused], device=device)
    image = torch.repeat_interleave(torch.arange(len(fused), device=device), counts)
    labels = torch.cat([d.labels for d in fused])
    boxes = torch.cat([d.boxes for d in fused])
    scores = torch.cat([d.scores for d in fused])
    keep = inner_box_mask(boxes, scores, image * len(classes) + labels, containment)
    sizes = torch.bincount(image[keep], minlength=len(fused)).tolist()
    return [
        Detections(boxes=b, scores=sc, labels=lab, classes=classes)
        for b, sc, lab in zip(
            torch.split(boxes[keep], sizes),
            torch.split(scores[keep], sizes),
            torch.split(labels[keep], sizes),
            strict=True,
        )
    ]


def _keep_above(detections: Detections, limits: torch.Tensor) -> Detections:
    """The detections whose score reaches the limit of their class (limits: (K,) by label)."""
    return detections.filter(detections.scores >= limits[detections.labels])


class Fuser:
    """Fuses the detections of M models (ordered best first) into one Detections per image.

    On CPU tensors, "stack_vote" and "wbf" (and the post-filter after them) run as compiled kernels
    (streamer.fusion.cpu) with the same results as the tensor code, which serves every other device and
    mode; `compiled_cpu=False` keeps the tensor code on the CPU too. The kernels compile (or load from their
    disk cache) on their first call: call `warm_up()` once before timing.
    """

    def __init__(self, config: FusionConfig | None = None, *, compiled_cpu: bool = True) -> None:
        self.config = config or FusionConfig()
        self.compiled_cpu = compiled_cpu and self.config.mode in ("stack_vote", "wbf")
        self._per_model_count: dict[int, tuple[np.ndarray, np.ndarray, float]] = {}

    def warm_up(self) -> None:
        """Compiles (or loads from their disk cache) the CPU kernels, so that the first real call does not.

        Runs this fuser's mode with the post-filter on a small input, and the NMS kernel on float32 and
        float64 boxes (the decoder's NMS uses float32). Takes about a second with a warm cache (first run on a
        machine: tens of seconds).
        """
        boxes = torch.tensor([[0.0, 0.0, 10.0, 10.0], [1.0, 0.0, 11.0, 10.0], [50.0, 50.0, 90.0, 60.0]])
        scores = torch.tensor([0.9, 0.8, 0.7])
        labels = torch.tensor([0, 0, 1])
        detections = Detections(boxes, scores, labels, self.config.classes)
        warm = Fuser(
            replace(self.config, post_filter=True, model_weights=None), compiled_cpu=self.compiled_cpu
        )
        warm.fuse_batch([[detections, detections], [detections, detections]])
        warm_up_nms()

    def fuse(self, per_model: Sequence[Detections]) -> Detections:
        """One image: per_model[m] are model m's detections; returns the fused detections."""
        return self.fuse_batch([[detections] for detections in per_model])[0]

    def fuse_batch(self, per_model: Sequence[Sequence[Detections]]) -> list[Detections]:
        """A batch in one pass: per_model[m][b] are model m's detections of image b.

        Returns one Detections per image, after the per-class output thresholds.
        """
        fused = self._fuse_all(per_model)
        if not self.config.output_thresholds:
            return fused
        if not fused:
            return fused
        limits = torch.tensor(  # (K,) one table for the whole batch
            [self.config.output_thresholds.get(name, 0.0) for name in self.config.classes],
            dtype=fused[0].scores.dtype,
            device=fused[0].scores.device,
        )
        return [_keep_above(detections, limits) for detections in fused]

    def _fuse_all(self, per_model: Sequence[Sequence[Detections]]) -> list[Detections]:
        config = self.config
        entries = _check_inputs(per_model, config)
        if self.compiled_cpu and entries[0].boxes.device.type == "cpu":
            return self._fuse_compiled(entries, len(per_model), len(per_model[0]))
        labels = torch.cat([d.labels for d in entries])
        if labels.numel():
            _check_labels(int(labels.min()), int(labels.max()), len(config.classes))
        with torch.inference_mode():
            try:
                fused = self._fuse_mode(per_model)
            except FusionNotSettled:  # rare exact ties: the sequential CPU kernel decides them
                device = entries[0].boxes.device
                cpu_entries = [detections.to("cpu") for detections in entries]
                fused = self._fuse_compiled(cpu_entries, len(per_model), len(per_model[0]))
                return [detections.to(device) for detections in fused]
            if config.post_filter:
                fused = _post_filter(fused, config.containment, config.classes)
        return fused

    def _model_constants(self, models: int) -> tuple[np.ndarray, np.ndarray, float]:
        """Per-class vote thresholds (K,), model weights (M,) and their sum (as the tensor code sums them)."""
        constants = self._per_model_count.get(models)
        if constants is None:
            weights = torch.tensor(
                [1.0] * models if self.config.model_weights is None else list(self.config.model_weights),
                dtype=torch.float64,
            )
            constants = (self.config.vote_thresholds(models).numpy(), weights.numpy(), float(weights.sum()))
            self._per_model_count[models] = constants
        return constants

    def _fuse_compiled(self, entries: list[Detections], models: int, images: int) -> list[Detections]:
        """stack_vote or wbf (then the post-filter) on CPU tensors with the compiled kernels."""
        config = self.config
        with torch.inference_mode():
            # one torch.cat per field is cheaper than a numpy view of every entry
            boxes = torch.cat([d.boxes for d in entries]).detach().numpy().astype(np.float64)
            scores = torch.cat([d.scores for d in entries]).detach().numpy().astype(np.float64)
            labels = torch.cat([d.labels for d in entries]).detach().numpy()
            counts = [len(d) for d in entries]
        if labels.shape[0]:
            _check_labels(int(labels.min()), int(labels.max()), len(config.classes))
        entry = np.repeat(np.arange(len(entries), dtype=np.int64), counts)
        votes, weights, weight_sum = self._model_constants(models)
        if config.mode == "stack_vote":
            fused = cpu.stack_vote_kernel(
                boxes,
                scores,
                labels,
                entry,
                images,
                float(config.per_model_threshold),
                votes,
                float(config.overlap_threshold),
                float(config.confidence_weight),
                float(config.iou_weight),
                float(np.float32(config.root_weight)),  # the tensor code weighs roots in float32
                float(config.count_bonus),
            )
        else:
            fused = cpu.wbf_kernel(
                boxes,
                scores,
                labels,
                entry,
                images,
                float(config.per_model_threshold),
                weights,
                weight_sum,
                float(config.resolved_iou_threshold()),
            )
        out_boxes, out_scores, out_labels, sizes = fused
        out_boxes = out_boxes.astype(np.float32)
        out_scores = out_scores.astype(np.float32)
        if config.post_filter:
            keep = cpu.inner_box_kernel(out_boxes, out_scores, out_labels, sizes, float(config.containment))
            if not keep.all():
                sizes = np.bincount(np.repeat(np.arange(images), sizes)[keep], minlength=images)
                out_boxes, out_scores, out_labels = out_boxes[keep], out_scores[keep], out_labels[keep]
        if images == 1:
            return [
                Detections(
                    torch.from_numpy(out_boxes),
                    torch.from_numpy(out_scores),
                    torch.from_numpy(out_labels),
                    config.classes,
                )
            ]
        ends = np.cumsum(sizes)
        starts = ends - sizes
        return [
            Detections(
                torch.from_numpy(out_boxes[start:end]),
                torch.from_numpy(out_scores[start:end]),
                torch.from_numpy(out_labels[start:end]),
                config.classes,
            )
            for start, end in zip(starts.tolist(), ends.tolist(), strict=True)
        ]

    def _fuse_mode(self, per_model: Sequence[Sequence[Detections]]) -> list[Detections]:
        config = self.config
        if config.mode == "stack_vote":
            params = StackVoteParams(
                vote_thresholds=config.vote_thresholds(len(per_model)),
                per_model_threshold=config.per_model_threshold,
                overlap_threshold=config.overlap_threshold,
                confidence_weight=config.confidence_weight,
                iou_weight=config.iou_weight,
                root_weight=config.root_weight,
                count_bonus=config.count_bonus,
            )
            return stack_vote(per_model, params)
        if config.mode == "wbf":
            return weighted_boxes_fusion(
                per_model,
                iou_threshold=config.resolved_iou_threshold(),
                skip_threshold=config.per_model_threshold,
                model_weights=config.model_weights,
            )
        flat = FlatBatch.of(per_model, config.per_model_threshold)
        categories = flat.image * len(config.classes) + flat.labels
        if config.mode == "nms":
            keep = nms(flat.boxes, flat.scores, config.resolved_iou_threshold(), categories=categories)
            scores = flat.scores[keep]
        else:
            keep, scores = soft_nms(
                flat.boxes,
                flat.scores,
                sigma=config.soft_nms_sigma,
                iou_threshold=config.resolved_iou_threshold(),
                method=config.soft_nms_method,
                min_score=config.soft_nms_min_score,
                categories=categories,
            )
        return split_by_image(
            flat.boxes[keep], scores, flat.labels[keep], flat.image[keep], flat.images, flat.classes
        )


def fuse(per_model: Sequence[Detections], *, config: FusionConfig | None = None) -> Detections:
    """Fuse one image's detections of M models (best first) with `config` (default: stack vote)."""
    return Fuser(config).fuse(per_model)


def warm_up_nms() -> None:
    """Compiles (or loads) the NMS kernel on float32 and float64 boxes, what a single detector's decoding
    needs; much cheaper than warming a whole fuser."""
    boxes = torch.tensor([[0.0, 0.0, 10.0, 10.0], [1.0, 0.0, 11.0, 10.0], [50.0, 50.0, 90.0, 60.0]])
    scores = torch.tensor([0.9, 0.8, 0.7])
    labels = torch.tensor([0, 0, 1])
    for dtype in (torch.float32, torch.float64):
        nms(boxes.to(dtype), scores.to(dtype), 0.5, categories=labels)
