"""Stack vote against the sequential reference of the paper's algorithm."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from streamer.fusion import FusionConfig, fuse
from tests.fusion import reference
from tests.fusion.helpers import random_objects, random_rows, to_detections, to_rows

NO_FILTER = {"post_filter": False}


def assert_same_detections(fast, expected) -> None:
    got = to_rows(fast)
    assert [g[2] for g in got] == [e[2] for e in expected]
    np.testing.assert_allclose([g[1] for g in got], [e[1] for e in expected], rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(
        np.array([g[0] for g in got]).reshape(-1, 4),
        np.array([e[0] for e in expected]).reshape(-1, 4),
        rtol=1e-6,
        atol=1e-3,
    )


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    models=st.integers(1, 7),
    max_boxes=st.integers(0, 14),
    tied=st.booleans(),
)
def test_stack_vote_matches_reference(seed: int, models: int, max_boxes: int, tied: bool) -> None:
    rng = np.random.default_rng(seed)
    objects = random_objects(rng, int(rng.integers(1, 6)), tied=tied)
    rows = [
        random_rows(rng, int(rng.integers(0, max_boxes + 1)), objects=objects, tied=tied)
        for _ in range(models)
    ]
    per_model = [to_detections(r) for r in rows]
    config = FusionConfig(**NO_FILTER)
    fused = fuse(per_model, config=config)
    thresholds = config.vote_thresholds(models).tolist()
    expected = reference.stack_vote([to_rows(d) for d in per_model], thresholds)
    assert_same_detections(fused, expected)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), root_weight=st.floats(0.5, 4.0), bonus=st.floats(0.0, 0.1))
def test_stack_vote_parameters_and_per_class_thresholds(seed: int, root_weight: float, bonus: float) -> None:
    rng = np.random.default_rng(seed)
    objects = random_objects(rng, 4, tied=False)
    per_model = [to_detections(random_rows(rng, 10, objects=objects, tied=False)) for _ in range(4)]
    votes = {"specularity": 0.3, "blur": 2.5, "instrument": 0.9}
    config = FusionConfig(vote_threshold=votes, root_weight=root_weight, count_bonus=bonus, **NO_FILTER)
    fused = fuse(per_model, config=config)
    thresholds = [votes.get(name, 0.24 * 4) for name in config.classes]
    expected = reference.stack_vote(
        [to_rows(d) for d in per_model], thresholds, root_weight=root_weight, count_bonus=bonus
    )
    assert_same_detections(fused, expected)


def test_three_models_on_one_object_make_one_detection() -> None:
    box = (100.0, 100.0, 200.0, 200.0)
    shifted = (110.0, 100.0, 210.0, 200.0)
    per_model = [
        to_detections([(box, 0.9, 3)]),
        to_detections([(shifted, 0.6, 3), ((400.0, 400.0, 450.0, 450.0), 0.3, 3)]),
        to_detections([(box, 0.1, 3)]),  # below the per-model threshold
    ]
    fused = fuse(per_model, config=FusionConfig(vote_threshold=0.7, root_weight=2.0, **NO_FILTER))
    # stack: root 0.9 (weight 1.8) + 0.6; x1 = (1.8 * 100 + 0.6 * 110) / 2.4 = 102.5
    assert fused.labels.tolist() == [3]
    torch.testing.assert_close(fused.boxes[0], torch.tensor([102.5, 100.0, 202.5, 200.0]))
    assert fused.scores.item() == pytest.approx((0.9 + 0.6) / 2 + 0.03 * 2)


def test_default_vote_threshold_is_1_68_for_seven_models() -> None:
    assert FusionConfig().vote_thresholds(7).tolist() == [1.68] * 7
    assert FusionConfig().vote_thresholds(5).tolist() == pytest.approx([1.2] * 7)


def test_empty_and_single_model_inputs() -> None:
    empty = fuse([to_detections([])] * 3, config=FusionConfig())
    assert len(empty) == 0
    single = fuse([to_detections([((0.0, 0.0, 10.0, 10.0), 0.5, 1), ((5.0, 5.0, 9.0, 9.0), 0.2, 1)])])
    # one model: every box is its own stack; only 0.5 >= 0.24 votes, score 0.5 + 0.03
    assert single.scores.tolist() == pytest.approx([0.53])
