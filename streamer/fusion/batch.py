"""Flattening the detections of M models on B images into one set of tensors, and splitting results back.

Fusing a whole batch in one pass costs about the same number of tensor operations as one image, so the
per-image cost falls with the batch size.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch

from streamer.errors import DataError
from streamer.types import Detections


@dataclass(frozen=True)
class FlatBatch:
    """Detections of M models on B images, ordered by model, then image, then index.

    boxes (N, 4) float64; scores (N,) float64; labels (N,) int64 indices into `classes`, the class list
    all the detections share; model (N,) int64; image (N,) int64.
    """

    boxes: torch.Tensor
    scores: torch.Tensor
    labels: torch.Tensor
    model: torch.Tensor
    image: torch.Tensor
    models: int
    images: int
    classes: tuple[str, ...]

    @classmethod
    def of(cls, per_model: Sequence[Sequence[Detections]], threshold: float) -> FlatBatch:
        """per_model[m][b]: model m's detections of image b; keeps boxes with score >= threshold."""
        models, images = len(per_model), len(per_model[0])
        entries = [detections for batch in per_model for detections in batch]
        classes = shared_classes(entries)
        device = entries[0].boxes.device
        counts = torch.tensor([len(d) for d in entries], device=device)
        entry_model = torch.arange(models, device=device).repeat_interleave(images)  # (M*B,)
        entry_image = torch.arange(images, device=device).repeat(models)  # (M*B,)
        scores = torch.cat([d.scores for d in entries]).to(torch.float64)
        keep = torch.nonzero(scores >= threshold).squeeze(1)  # (N, 1) -> (N,)
        return cls(
            boxes=torch.cat([d.boxes for d in entries]).to(torch.float64).index_select(0, keep),
            scores=scores.index_select(0, keep),
            labels=torch.cat([d.labels for d in entries]).index_select(0, keep),
            model=entry_model.repeat_interleave(counts).index_select(0, keep),
            image=entry_image.repeat_interleave(counts).index_select(0, keep),
            models=models,
            images=images,
            classes=classes,
        )


def shared_classes(entries: Sequence[Detections]) -> tuple[str, ...]:
    """The class list of detections to be fused together; DataError unless they all have the same."""
    classes = entries[0].classes
    if any(d.classes != classes for d in entries):
        lists = sorted({d.classes for d in entries})
        raise DataError(f"detections fused together must share their classes, got {lists}")
    return classes


def split_by_image(
    boxes: torch.Tensor,
    scores: torch.Tensor,
    labels: torch.Tensor,
    image: torch.Tensor,
    images: int,
    classes: tuple[str, ...],
) -> list[Detections]:
    """One Detections per image (float32), each sorted by descending score (ties keep the input order).

    boxes (D, 4), scores (D,), labels (D,) indices into `classes`, image (D,) in 0..images-1.
    """
    by_score = torch.sort(scores, descending=True, stable=True).indices
    if images == 1:
        order, counts = by_score, [int(scores.shape[0])]
    else:
        order = by_score[torch.sort(image[by_score], stable=True).indices]  # image-major, score descending
        counts = torch.bincount(image, minlength=images).tolist()
    return [
        Detections(boxes=b, scores=s, labels=lab, classes=classes)
        for b, s, lab in zip(
            torch.split(boxes[order].to(torch.float32), counts),
            torch.split(scores[order].to(torch.float32), counts),
            torch.split(labels[order], counts),
            strict=True,
        )
    ]
