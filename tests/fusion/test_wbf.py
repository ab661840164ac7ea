"""Weighted Boxes Fusion against the ensemble-boxes package on normalised coordinates."""

from __future__ import annotations

import warnings

import numpy as np
import torch
from ensemble_boxes import weighted_boxes_fusion
from hypothesis import given, settings
from hypothesis import strategies as st

from streamer.fusion import FusionConfig, fuse
from streamer.types import EAD2019_CLASSES, Detections


def random_normalised(rng: np.random.Generator, count: int) -> Detections:
    """`count` boxes clustered around a few objects, inside [0, 1], positive area, 7 classes."""
    centers = rng.uniform(0.15, 0.85, (4, 2))
    pick = rng.integers(0, 4, count)
    half = rng.uniform(0.02, 0.12, (count, 2))
    center = centers[pick] + rng.normal(0.0, 0.02, (count, 2))
    boxes = np.clip(np.concatenate([center - half, center + half], axis=1), 0.0, 1.0)
    return Detections(
        boxes=torch.tensor(boxes, dtype=torch.float32),
        scores=torch.tensor(rng.uniform(0.0, 1.0, count), dtype=torch.float32),
        labels=torch.tensor((pick + rng.integers(0, 2, count) * 3) % 7, dtype=torch.int64),
        classes=EAD2019_CLASSES,
    )


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    models=st.integers(1, 6),
    max_boxes=st.integers(0, 25),
    iou_threshold=st.floats(0.3, 0.8),
    skip=st.floats(0.0, 0.5),
    weighted=st.booleans(),
)
def test_wbf_matches_ensemble_boxes(
    seed: int, models: int, max_boxes: int, iou_threshold: float, skip: float, weighted: bool
) -> None:
    rng = np.random.default_rng(seed)
    per_model = [random_normalised(rng, int(rng.integers(0, max_boxes + 1))) for _ in range(models)]
    weights = tuple(float(w) for w in rng.uniform(0.5, 2.0, models)) if weighted else None
    config = FusionConfig(
        mode="wbf",
        iou_threshold=iou_threshold,
        per_model_threshold=skip,
        model_weights=weights,
        post_filter=False,
    )
    fused = fuse(per_model, config=config)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        boxes, scores, labels = weighted_boxes_fusion(
            [d.boxes.double().numpy() for d in per_model],
            [d.scores.double().numpy() for d in per_model],
            [d.labels.numpy() for d in per_model],
            weights=list(weights) if weights else None,
            iou_thr=iou_threshold,
            skip_box_thr=skip,
        )
    assert len(fused) == len(scores)
    ours = np.lexsort((fused.boxes[:, 0].numpy(), fused.labels.numpy(), -fused.scores.numpy()))
    theirs = np.lexsort((boxes[:, 0], labels, -scores)) if len(scores) else np.zeros(0, dtype=int)
    np.testing.assert_array_equal(fused.labels.numpy()[ours], labels[theirs].astype(np.int64))
    np.testing.assert_allclose(fused.scores.numpy()[ours], scores[theirs], atol=1e-5)
    np.testing.assert_allclose(fused.boxes.numpy()[ours], boxes[theirs].reshape(-1, 4), atol=1e-5)


def test_wbf_two_models_one_object() -> None:
    a = Detections(
        torch.tensor([[0.1, 0.1, 0.3, 0.3]]), torch.tensor([0.9]), torch.tensor([2]), EAD2019_CLASSES
    )
    b = Detections(
        torch.tensor([[0.12, 0.1, 0.32, 0.3]]), torch.tensor([0.3]), torch.tensor([2]), EAD2019_CLASSES
    )
    fused = fuse([a, b], config=FusionConfig(mode="wbf", per_model_threshold=0.0, post_filter=False))
    # x1 = (0.9 * 0.1 + 0.3 * 0.12) / 1.2 = 0.105; score = mean 0.6 * min(2, 2) / 2
    torch.testing.assert_close(fused.boxes, torch.tensor([[0.105, 0.1, 0.305, 0.3]]))
    torch.testing.assert_close(fused.scores, torch.tensor([0.6]))
