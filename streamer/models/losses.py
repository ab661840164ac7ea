"""RetinaNet losses: α-balanced focal loss and smooth-L1 box loss, both divided by the number of positives."""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
import torch.nn.functional as F

from streamer.models.box_coder import BoxCoder
from streamer.models.matching import IGNORE, match_anchors


def focal_loss(
    logits: torch.Tensor, targets: torch.Tensor, *, gamma: float = 1.5, alpha: float = 0.25
) -> torch.Tensor:
    """Elementwise FL = -α_t (1 - p_t)^γ log(p_t); logits and 0/1 targets of the same shape."""
    p = torch.sigmoid(logits)
    ce = F.binary_cross_entropy_with_logits(logits, targets, reduction="none")
    p_t = p * targets + (1 - p) * (1 - targets)
    alpha_t = alpha * targets + (1 - alpha) * (1 - targets)
    return alpha_t * (1 - p_t) ** gamma * ce


@dataclass(frozen=True)
class DetectionLoss:
    """Loss of RetinaNet head outputs against ground truth.

    gamma, alpha: focal loss; classification_weight: factor on the focal term (2 for the paper's m2);
    beta: smooth-L1 transition point on the encoded deltas.
    """

    gamma: float = 1.5
    alpha: float = 0.25
    classification_weight: float = 1.0
    beta: float = 1 / 9
    box_coder: BoxCoder = field(default_factory=BoxCoder)

    def __call__(
        self,
        logits: torch.Tensor,
        deltas: torch.Tensor,
        anchors: torch.Tensor,
        boxes: list[torch.Tensor],
        labels: list[torch.Tensor],
    ) -> dict[str, torch.Tensor]:
        """logits (B, A, K), deltas (B, A, 4), anchors (A, 4) x1 y1 x2 y2; per image boxes (M, 4) x1 y1 x2 y2
        input pixels and labels (M,) int64. Returns {"loss", "classification", "box", "positives"}.
        """
        classification = logits.new_zeros(())
        box = logits.new_zeros(())
        positives = 0
        for image_logits, image_deltas, image_boxes, image_labels in zip(
            logits, deltas, boxes, labels, strict=True
        ):
            matched = match_anchors(image_boxes, anchors)  # (A,)
            positive = matched >= 0
            valid = matched != IGNORE
            targets = torch.zeros_like(image_logits)
            targets[positive, image_labels[matched[positive]]] = 1.0
            classification = (
                classification
                + focal_loss(image_logits[valid], targets[valid], gamma=self.gamma, alpha=self.alpha).sum()
            )
            if positive.any():
                target_deltas = self.box_coder.encode(image_boxes[matched[positive]], anchors[positive])
                box = box + F.smooth_l1_loss(
                    image_deltas[positive], target_deltas, beta=self.beta, reduction="sum"
                )
            positives += int(positive.sum())
        normaliser = max(1, positives)
        classification = classification / normaliser
        box = box / normaliser
        return {
            "loss": self.classification_weight * classification + box,
            "classification": classification.detach(),
            "box": box.detach(),
            "positives": torch.tensor(positives),
        }
