"""NMS and soft-NMS against sequential references."""

from __future__ import annotations

import importlib

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from streamer.fusion.nms import nms, soft_nms
from tests.fusion import reference

nms_module = importlib.import_module("streamer.fusion.nms")  # the package re-exports the function nms


def random_boxes(rng: np.random.Generator, count: int, grid: bool) -> tuple[torch.Tensor, torch.Tensor]:
    """(count, 4) boxes in a 200-pixel frame and (count,) scores; grid: coarse values with ties."""
    if grid:
        corner = rng.integers(0, 10, (count, 2)) * 10.0
        size = rng.integers(1, 6, (count, 2)) * 10.0
        scores = rng.choice([0.2, 0.4, 0.6, 0.8], count)
    else:
        corner = rng.uniform(0, 150, (count, 2))
        size = rng.uniform(5, 60, (count, 2))
        scores = rng.uniform(0, 1, count)
    boxes = np.concatenate([corner, corner + size], axis=1)
    return torch.tensor(boxes, dtype=torch.float32), torch.tensor(scores, dtype=torch.float32)


def as_lists(boxes: torch.Tensor, scores: torch.Tensor) -> tuple[list, list]:
    return [tuple(b) for b in boxes.tolist()], scores.tolist()


@settings(max_examples=80, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    count=st.integers(0, 80),
    grid=st.booleans(),
    threshold=st.floats(0.1, 0.9),
    categories=st.integers(1, 4),
    block=st.sampled_from([4, 16, 1024]),
    max_pairs=st.sampled_from([0, 10**6]),
)
def test_nms_matches_sequential_greedy(
    seed: int, count: int, grid: bool, threshold: float, categories: int, block: int, max_pairs: int
) -> None:
    rng = np.random.default_rng(seed)
    boxes, scores = random_boxes(rng, count, grid)
    labels = torch.tensor(rng.integers(0, categories, count), dtype=torch.int64)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(nms_module, "_BLOCK", block)
        patch.setattr(nms_module, "_MAX_PAIRS", max_pairs)  # 0: dense blocks, else the x-sweep pairs
        kept = nms(boxes, scores, threshold, categories=labels)
    expected = reference.nms(*as_lists(boxes, scores), threshold, labels.tolist())
    assert kept.tolist() == expected


def test_nms_without_categories_suppresses_across_everything() -> None:
    boxes = torch.tensor([[0, 0, 10, 10], [1, 0, 11, 10], [50, 50, 60, 60]], dtype=torch.float32)
    scores = torch.tensor([0.5, 0.9, 0.7])
    assert nms(boxes, scores, 0.5).tolist() == [1, 2]
    assert nms(boxes, scores, 0.5, categories=torch.tensor([0, 1, 0])).tolist() == [1, 2, 0]
    assert nms(boxes[:0], scores[:0], 0.5).tolist() == []


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    count=st.integers(0, 60),
    sigma=st.floats(0.1, 1.0),
    categories=st.integers(1, 3),
    window=st.sampled_from([2, 8, 64]),
)
def test_gaussian_soft_nms_matches_sequential(
    seed: int, count: int, sigma: float, categories: int, window: int
) -> None:
    rng = np.random.default_rng(seed)
    boxes, scores = random_boxes(rng, count, grid=False)
    labels = torch.tensor(rng.integers(0, categories, count), dtype=torch.int64)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(nms_module, "_SOFT_NMS_WINDOW", window)
        kept, decayed = soft_nms(boxes, scores, sigma=sigma, min_score=0.05, categories=labels)
    expected = reference.soft_nms(*as_lists(boxes, scores), labels.tolist(), sigma, 0.05)
    assert kept.tolist() == [i for i, _ in expected]
    np.testing.assert_allclose(decayed.numpy(), [s for _, s in expected], rtol=1e-5)


def test_linear_soft_nms_decays_only_above_threshold() -> None:
    boxes = torch.tensor([[0, 0, 10, 10], [0, 0, 10, 5], [0, 0, 10, 1]], dtype=torch.float32)
    kept, decayed = soft_nms(boxes, torch.tensor([0.9, 0.8, 0.7]), method="linear", iou_threshold=0.3)
    # IoU with the first box: 0.5 (decayed by 1 - 0.5) and 0.1 (kept as is)
    assert kept.tolist() == [0, 2, 1]
    torch.testing.assert_close(decayed, torch.tensor([0.9, 0.7, 0.4]))
