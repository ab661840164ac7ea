"""The compiled CPU kernels give the results of the tensor code (run on the CPU for the comparison)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from streamer.errors import DataError
from streamer.fusion import Fuser, FusionConfig
from streamer.types import EAD2019_CLASSES, Detections
from tests.fusion.helpers import random_objects, random_rows, to_detections, to_rows
from tests.fusion.test_nms import nms_module, random_boxes


def random_batch(
    rng: np.random.Generator, models: int, images: int, max_boxes: int, tied: bool
) -> list[list[Detections]]:
    """per_model[m][b]: random detections of `models` models on `images` images."""
    batch = []
    for _ in range(images):
        objects = random_objects(rng, int(rng.integers(1, 6)), tied=tied)
        batch.append(
            [
                to_detections(
                    random_rows(rng, int(rng.integers(0, max_boxes + 1)), objects=objects, tied=tied)
                )
                for _ in range(models)
            ]
        )
    return [list(per_image) for per_image in zip(*batch, strict=True)]


def assert_paths_agree(config: FusionConfig, per_model: list[list[Detections]]) -> None:
    compiled = Fuser(config)
    tensor = Fuser(config, compiled_cpu=False)
    assert compiled.compiled_cpu and not tensor.compiled_cpu
    got = compiled.fuse_batch(per_model)
    expected = tensor.fuse_batch(per_model)
    assert [to_rows(d) for d in got] == [to_rows(d) for d in expected]
    for d in got:
        assert d.boxes.dtype == torch.float32 and d.scores.dtype == torch.float32
        assert d.labels.dtype == torch.int64 and d.boxes.device.type == "cpu"


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    models=st.integers(1, 7),
    images=st.integers(1, 3),
    max_boxes=st.integers(0, 20),
    tied=st.booleans(),
    post_filter=st.booleans(),
    threshold=st.sampled_from([0.0, 0.2, 0.5]),
)
def test_compiled_stack_vote_equals_tensor_code(
    seed: int, models: int, images: int, max_boxes: int, tied: bool, post_filter: bool, threshold: float
) -> None:
    rng = np.random.default_rng(seed)
    per_model = random_batch(rng, models, images, max_boxes, tied)
    vote = None if rng.random() < 0.5 else {"specularity": 0.3, "blur": 2.5, "artifact": 0.9}
    config = FusionConfig(
        mode="stack_vote",
        per_model_threshold=threshold,
        post_filter=post_filter,
        vote_threshold=vote,
        root_weight=float(rng.uniform(0.5, 3.0)),
        overlap_threshold=float(rng.choice([0.3, 0.46, 0.6])),
    )
    assert_paths_agree(config, per_model)


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    models=st.integers(1, 7),
    images=st.integers(1, 3),
    max_boxes=st.integers(0, 20),
    iou_threshold=st.floats(0.2, 0.8),
    post_filter=st.booleans(),
    weighted=st.booleans(),
)
def test_compiled_wbf_equals_tensor_code(
    seed: int,
    models: int,
    images: int,
    max_boxes: int,
    iou_threshold: float,
    post_filter: bool,
    weighted: bool,
) -> None:
    # continuous coordinates: the tensor code forms the fused boxes from differences of prefix sums, which
    # can round differently from running sums, so exact ties between clusters are left out here
    rng = np.random.default_rng(seed)
    per_model = random_batch(rng, models, images, max_boxes, tied=False)
    weights = tuple(float(w) for w in rng.uniform(0.5, 2.0, models)) if weighted else None
    config = FusionConfig(
        mode="wbf",
        iou_threshold=iou_threshold,
        per_model_threshold=float(rng.choice([0.0, 0.2])),
        model_weights=weights,
        post_filter=post_filter,
    )
    assert_paths_agree(config, per_model)


@pytest.mark.parametrize("mode", ["stack_vote", "wbf"])
def test_compiled_path_handles_empty_inputs_and_bad_labels(mode: str) -> None:
    config = FusionConfig(mode=mode)
    empty = [[Detections.empty(EAD2019_CLASSES)] * 2, [Detections.empty(EAD2019_CLASSES)] * 2]
    assert_paths_agree(config, empty)
    weak = to_detections([((0.0, 0.0, 10.0, 10.0), 0.1, 0)])
    assert_paths_agree(config, [[weak], [weak]])
    flat = to_detections([((0.0, 0.0, 0.0, 10.0), 0.9, 0), ((0.0, 0.0, 10.0, 10.0), 0.9, 0)])  # zero area
    assert_paths_agree(config, [[flat], [flat]])
    bad = to_detections([((0.0, 0.0, 1.0, 1.0), 0.9, -1)])
    with pytest.raises(DataError, match=r"labels must be in 0\.\.6, got -1\.\.-1"):
        Fuser(config).fuse([bad])


@pytest.mark.parametrize("mode", ["stack_vote", "wbf", "nms", "soft_nms"])
def test_warm_up_runs_for_every_mode(mode: str) -> None:
    fuser = Fuser(FusionConfig(mode=mode))
    fuser.warm_up()
    assert fuser.compiled_cpu == (mode in ("stack_vote", "wbf"))


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    count=st.integers(0, 300),
    grid=st.booleans(),
    threshold=st.floats(0.0, 0.9),
    categories=st.integers(1, 4),
    double=st.booleans(),
    max_pairs=st.sampled_from([0, 10**6]),
)
def test_compiled_nms_equals_tensor_code(
    seed: int, count: int, grid: bool, threshold: float, categories: int, double: bool, max_pairs: int
) -> None:
    rng = np.random.default_rng(seed)
    boxes, scores = random_boxes(rng, count, grid)
    if double:
        boxes, scores = boxes.double(), scores.double()
    labels = torch.tensor(rng.integers(0, categories, count), dtype=torch.int64)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(nms_module, "_BLOCK", 64)  # so that both tensor variants run on a few hundred boxes
        patch.setattr(nms_module, "_MAX_PAIRS", max_pairs)  # 0: dense blocks, else the x-sweep pairs
        expected = nms_module.nms_tensors(boxes, scores, threshold, categories=labels)
    kept = nms_module.nms(boxes, scores, threshold, categories=labels)
    assert kept.dtype == torch.int64
    assert kept.tolist() == expected.tolist()
    if categories == 1:
        assert nms_module.nms(boxes, scores, threshold).tolist() == expected.tolist()


def test_compiled_nms_on_many_boxes_and_exact_threshold() -> None:
    rng = np.random.default_rng(7)
    count = 3000
    places = rng.uniform(0, 1, (100, 2)) * [1280, 720]
    center = places[rng.integers(0, 100, count)] + rng.normal(0, 15, (count, 2))
    half = rng.uniform(10, 80, (count, 2))
    boxes = torch.tensor(np.concatenate([center - half, center + half], axis=1), dtype=torch.float32)
    scores = torch.tensor(rng.uniform(0, 1, count), dtype=torch.float32)
    labels = torch.tensor(rng.integers(0, 3, count), dtype=torch.int64)
    expected = nms_module.nms_tensors(boxes, scores, 0.5, categories=labels)
    assert nms_module.nms(boxes, scores, 0.5, categories=labels).tolist() == expected.tolist()
    # IoU exactly 0.55 in float32 but above 0.55 in float64: compared in the boxes' dtype, as torch does
    pair = torch.tensor([[0.0, 0.0, 1.0, 1.0], [0.0, 0.0, 1.0, 0.55]], dtype=torch.float32)
    pair_scores = torch.tensor([0.9, 0.8])
    for threshold in (0.55, 0.5499):
        expected = nms_module.nms_tensors(pair, pair_scores, threshold)
        assert nms_module.nms(pair, pair_scores, threshold).tolist() == expected.tolist()
