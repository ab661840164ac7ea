"""Decoding detector outputs: threshold, per-level top-k, NMS, max detections, rescale to source pixels."""

from __future__ import annotations

import pytest
import torch

from streamer.errors import ConfigError, ModelError
from streamer.fusion import DecodeConfig, decode_detections
from streamer.types import Detections

IDENTITY = [(1.0, 1.0, 0.0, 0.0)]


def decode(raw: dict[str, torch.Tensor], transforms: object, **kwargs: object) -> list[Detections]:
    """decode_detections with made-up names for the K score columns of `raw` (none when it has none)."""
    scores = raw.get("scores")
    count = scores.shape[-1] if isinstance(scores, torch.Tensor) and scores.ndim == 3 else 0
    return decode_detections(raw, transforms, classes=tuple(f"class{k}" for k in range(count)), **kwargs)


def outputs(boxes: list[list[float]], scores: list[list[float]]) -> dict[str, torch.Tensor]:
    """One image: boxes (A, 4), scores (A, K) -> batch of one."""
    return {"boxes": torch.tensor([boxes]), "scores": torch.tensor([scores])}


def test_threshold_class_choice_and_rescale_to_source() -> None:
    raw = outputs(
        [[10, 20, 50, 60], [100, 100, 140, 140], [0, 0, 5, 5]],
        [[0.9, 0.0, 0.3], [0.0, 0.7, 0.0], [0.01, 0.02, 0.04]],
    )
    # source = input / 0.4 + (0, -136)
    (detections,) = decode(raw, [(0.4, 0.4, 0.0, -136.0)], config=DecodeConfig(score_threshold=0.05))
    assert detections.labels.tolist() == [0, 1, 2]
    assert detections.names == ("class0", "class1", "class2")
    torch.testing.assert_close(detections.scores, torch.tensor([0.9, 0.7, 0.3]))
    torch.testing.assert_close(
        detections.boxes,
        torch.tensor([[25.0, -86.0, 125.0, 14.0], [250.0, 114.0, 350.0, 214.0], [25.0, -86.0, 125.0, 14.0]]),
    )


def test_class_aware_nms_and_max_detections() -> None:
    raw = outputs(
        [[0, 0, 10, 10], [1, 0, 11, 10], [0, 0, 10, 10], [50, 50, 60, 60]],
        [[0.9, 0.0], [0.8, 0.0], [0.0, 0.6], [0.5, 0.0]],
    )
    (detections,) = decode(raw, IDENTITY)
    # box 1 overlaps box 0 of the same class (IoU 0.82) and goes; box 2 has another class and stays
    assert detections.scores.tolist() == pytest.approx([0.9, 0.6, 0.5])
    (top_two,) = decode(raw, IDENTITY, config=DecodeConfig(max_detections=2))
    assert top_two.scores.tolist() == pytest.approx([0.9, 0.6])


def test_top_k_is_per_level() -> None:
    boxes = [[i * 20.0, 0.0, i * 20.0 + 10.0, 10.0] for i in range(6)]
    scores = [[0.9], [0.8], [0.7], [0.3], [0.2], [0.1]]
    config = DecodeConfig(top_k=2)
    (one_level,) = decode(outputs(boxes, scores), IDENTITY, config=config)
    assert one_level.scores.tolist() == pytest.approx([0.9, 0.8])
    (two_levels,) = decode(outputs(boxes, scores), IDENTITY, config=config, level_sizes=[3, 3])
    assert two_levels.scores.tolist() == pytest.approx([0.9, 0.8, 0.3, 0.2])


def test_batch_keeps_images_apart_and_clips_to_input() -> None:
    raw = {
        "boxes": torch.tensor([[[-5.0, 0.0, 10.0, 10.0]], [[0.0, 0.0, 10.0, 10.0]]]),
        "scores": torch.tensor([[[0.9]], [[0.0]]]),
    }
    first, second = decode(raw, [(2.0, 2.0, 100.0, 0.0), (1.0, 1.0, 0.0, 0.0)], input_size=(8, 8))
    torch.testing.assert_close(first.boxes, torch.tensor([[100.0, 0.0, 104.0, 4.0]]))
    assert len(second) == 0


@pytest.mark.parametrize(
    ("raw", "transforms", "kwargs", "error", "message"),
    [
        ({"boxes": torch.zeros(1, 3, 4)}, IDENTITY, {}, ModelError, "'boxes' and 'scores'"),
        (
            {"boxes": torch.zeros(1, 3, 5), "scores": torch.zeros(1, 3, 2)},
            IDENTITY,
            {},
            ModelError,
            "(B, A, 4)",
        ),
        (
            {"boxes": torch.zeros(1, 3, 4), "scores": torch.zeros(1, 2, 2)},
            IDENTITY,
            {},
            ModelError,
            "(B, A, K)",
        ),
        (
            {"boxes": torch.zeros(1, 3, 4), "scores": torch.zeros(1, 3, 2)},
            [],
            {},
            ConfigError,
            "expected (1, 4)",
        ),
        (
            {"boxes": torch.zeros(1, 3, 4), "scores": torch.zeros(1, 3, 2)},
            [(0.0, 1.0, 0.0, 0.0)],
            {},
            ConfigError,
            "scales must be > 0",
        ),
        (
            {"boxes": torch.zeros(1, 3, 4), "scores": torch.zeros(1, 3, 2)},
            IDENTITY,
            {"level_sizes": [1, 1]},
            ConfigError,
            "sum to the 3 anchors",
        ),
    ],
)
def test_bad_outputs_and_arguments_raise_clear_errors(raw, transforms, kwargs, error, message) -> None:
    with pytest.raises(error, match=message.replace("(", r"\(").replace(")", r"\)")):
        decode(raw, transforms, **kwargs)


def test_bad_decode_config_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="score_threshold"):
        DecodeConfig(score_threshold=1.5)


def test_the_class_list_must_name_every_score_column() -> None:
    raw = outputs([[0, 0, 10, 10]], [[0.9, 0.0]])
    with pytest.raises(ModelError, match="give 2 classes, its class list has 3"):
        decode_detections(raw, IDENTITY, classes=("a", "b", "c"))
    (detections,) = decode_detections(raw, IDENTITY, classes=("a", "b"))
    assert detections.classes == ("a", "b") and detections.names == ("a",)
