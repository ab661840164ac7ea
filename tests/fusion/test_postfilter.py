"""Post-filter: the outer box of nested same-class pairs goes."""

from __future__ import annotations

import numpy as np
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from streamer.fusion.postfilter import remove_outer_boxes
from tests.fusion import reference
from tests.fusion.helpers import random_objects, random_rows, to_detections, to_rows


def test_outer_box_removed_inner_kept_other_class_untouched() -> None:
    outer = ((0.0, 0.0, 100.0, 100.0), 0.9, 1)
    inner = ((10.0, 10.0, 50.0, 50.0), 0.4, 1)
    other_class = ((0.0, 0.0, 100.0, 100.0), 0.8, 2)
    barely = ((90.0, 90.0, 120.0, 120.0), 0.5, 1)  # only 1/9 of it inside the outer box
    detections = to_detections([outer, inner, other_class, barely])
    kept = remove_outer_boxes(detections, 0.9)
    assert to_rows(kept) == to_rows(detections)[1:]


def test_mutually_nested_pair_keeps_exactly_one() -> None:
    a = ((0.0, 0.0, 100.0, 100.0), 0.9, 0)
    b = ((0.0, 0.0, 100.0, 99.0), 0.5, 0)
    detections = to_detections([a, b])
    assert to_rows(remove_outer_boxes(detections, 0.9)) == to_rows(detections)[1:]


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), count=st.integers(0, 30), tied=st.booleans())
def test_post_filter_matches_reference(seed: int, count: int, tied: bool) -> None:
    rng = np.random.default_rng(seed)
    rows = random_rows(rng, count, objects=random_objects(rng, 3, tied=tied), tied=tied)
    detections = to_detections(rows)
    kept = remove_outer_boxes(detections, 0.9)
    assert to_rows(kept) == reference.remove_outer_boxes(to_rows(detections), 0.9)
    assert kept.boxes.dtype == torch.float32
