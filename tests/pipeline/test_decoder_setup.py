"""The pipeline's decoder takes the engine's level sizes and per-class thresholds from its spec."""

from types import SimpleNamespace

import pytest
import torch

from streamer.backends.base import EngineSpec
from streamer.config import DetectorConfig
from streamer.pipeline.stage_setup import make_decoder
from streamer.preprocessing import InputTransform

IDENTITY = [InputTransform(1.0, 1.0, 0.0, 0.0)]


def _outputs(scores_per_anchor, classes=1):
    anchors = len(scores_per_anchor)
    boxes = torch.tensor([[10.0 * i, 0.0, 10.0 * i + 8, 8.0] for i in range(anchors)])[None]  # disjoint
    scores = torch.zeros((1, anchors, classes))
    for anchor, (label, score) in enumerate(scores_per_anchor):
        scores[0, anchor, label] = score
    return {"boxes": boxes, "scores": scores}


def _engine(**spec_fields):
    return SimpleNamespace(spec=EngineSpec(name="m", task="detector", input_size=(64, 128), **spec_fields))


def test_top_k_is_taken_on_each_level_of_the_spec():
    outputs = _outputs([(0, 0.9), (0, 0.8), (0, 0.7), (0, 0.3), (0, 0.2), (0, 0.1)])
    config = DetectorConfig(score_threshold=0.05, top_k_per_level=2)
    one_level = make_decoder(_engine(classes=("a",)), config)(outputs, IDENTITY)[0]
    assert one_level.scores.tolist() == pytest.approx([0.9, 0.8])
    per_level = make_decoder(_engine(classes=("a",), level_sizes=(3, 3)), config)(outputs, IDENTITY)[0]
    assert per_level.scores.tolist() == pytest.approx([0.9, 0.8, 0.3, 0.2])  # small-object level kept


def test_per_class_thresholds_of_the_spec_apply_unless_the_profile_sets_one():
    outputs = _outputs([(0, 0.5), (1, 0.5), (1, 0.9)], classes=2)
    engine = _engine(classes=("a", "b"), score_thresholds=(0.4, 0.8))
    own = make_decoder(engine, DetectorConfig())(outputs, IDENTITY)[0]
    assert sorted(zip(own.labels.tolist(), own.scores.tolist(), strict=True)) == [
        (0, 0.5),
        (1, pytest.approx(0.9)),
    ]
    given = make_decoder(engine, DetectorConfig(score_threshold=0.3))(outputs, IDENTITY)[0]
    assert len(given) == 3
    default = make_decoder(_engine(classes=("a", "b")), DetectorConfig())(outputs, IDENTITY)[0]
    assert len(default) == 3  # no thresholds in the manifest: the default 0.3 for all
