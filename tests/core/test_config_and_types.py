"""Profiles load and validate; CLI overrides apply; the data records reject malformed values."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from streamer.config import BadFramePolicy, available_profiles, load_profile, with_overrides
from streamer.errors import ConfigError
from streamer.types import EAD2019_CLASSES, Detections, Frame, FrameResult, QualityLabel, Verdict


def test_every_bundled_profile_loads() -> None:
    names = available_profiles()
    assert {"lite", "noop"} <= set(names)
    for name in names:
        assert load_profile(name).profile == name


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[detector]\nmodelz = ['x']\n", "unknown key"),
        ("[nonsense]\na = 1\n", "unknown section"),
        ("[output]\nbad_frames = 'hide'\n", "bad_frames must be one of mark, drop"),
        ("batch = 0\n", "--batch"),
        ("batch = 100000\n", "--batch must be in 1..64"),
        ("[detector\n", "invalid profile"),
        ('batch = "four"\n', "batch must be a whole number, got 'four'"),
        ("batch = 2.5\n", "batch must be a whole number, got 2.5"),
        ('[detector]\nscore_threshold = "high"\n', r"\[detector\] score_threshold must be a number"),
        ('[quality]\nthreshold = "0.5"\n', r"\[quality\] threshold must be a number"),
        ('[capture]\nqueue_size = "big"\n', r"\[capture\] queue_size must be a whole number"),
        ('[detector]\nmodels = "detector-lite"\n', r"\[detector\] models must be a list"),
        ('[output]\noutputs = "annotated"\n', r"\[output\] outputs must be a list"),
        ('[preprocess]\ncrop_fov = "false"\n', "crop_fov must be true or false"),
        ("[capture]\nreconnect = -3\n", "reconnect"),
        ("[quality]\nbad_after = 0\n", "bad_after"),
        ('backend = "cuda-magic"\n', "backend must be one of auto"),
    ],
)
def test_bad_profiles_are_refused(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "custom.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message):
        load_profile(str(path))


def test_overrides_replace_only_what_is_given() -> None:
    base = load_profile("lite")
    config = with_overrides(base, batch=2, bad_frames="drop", detectors=("a", "b"), max_frames=5)
    assert config.batch == 2
    assert config.output.bad_frames is BadFramePolicy.DROP
    assert config.detector.models == ("a", "b")
    assert config.capture.max_frames == 5
    assert config.quality == base.quality


@pytest.mark.parametrize(
    "changes",
    [
        {"bad_frames": "hide"},
        {"capture": "gstreamer"},
        {"max_frames": 0},
        {"outputs": ("gif",)},
        {"reconnect": -3},
        {"quality_threshold": 0.0},
        {"score_threshold": 2.0},
        {"batch": 100000},
    ],
)
def test_invalid_overrides_are_refused(changes: dict) -> None:
    with pytest.raises(ConfigError):
        with_overrides(load_profile("lite"), **changes)


@pytest.mark.parametrize(
    ("boxes", "scores", "labels", "message"),
    [
        (torch.zeros(2, 3), torch.zeros(2), torch.zeros(2, dtype=torch.int64), "boxes must be"),
        (torch.zeros(2, 4), torch.zeros(3), torch.zeros(2, dtype=torch.int64), "scores must be"),
        (torch.zeros(2, 4), torch.zeros(2), torch.zeros(2), "int64"),
        (torch.zeros(2, 4, dtype=torch.int64), torch.zeros(2), torch.zeros(2, dtype=torch.int64), "floats"),
    ],
)
def test_detections_validate_shapes(boxes, scores, labels, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Detections(boxes=boxes, scores=scores, labels=labels, classes=EAD2019_CLASSES)
    with pytest.raises(ValueError, match="tuple of class names"):
        Detections(torch.zeros(0, 4), None, torch.zeros(0, dtype=torch.int64), list(EAD2019_CLASSES))


def test_detections_filter_and_records() -> None:
    detections = Detections(
        boxes=torch.tensor([[0.0, 0, 10, 10], [5, 5, 20, 20]]),
        scores=torch.tensor([0.9, 0.2]),
        labels=torch.tensor([0, 6]),
        classes=EAD2019_CLASSES,
    )
    kept = detections.filter(detections.scores > 0.5)
    assert len(kept) == 1 and len(detections) == 2
    assert kept.to_records() == [{"box": [0.0, 0.0, 10.0, 10.0], "score": 0.9, "label": "specularity"}]
    assert detections.names == ("specularity", "instrument")


def test_records_are_the_rounded_json_form_and_read_back() -> None:
    detections = Detections(
        torch.tensor([[10.123456, 20.005, 30.5, 40.0]]),
        torch.tensor([0.876543]),
        torch.tensor([1]),
        ("a", "b"),
    )
    records = detections.to_records()
    assert json.dumps(records) == '[{"box": [10.12, 20.0, 30.5, 40.0], "score": 0.8765, "label": "b"}]'
    rounded = detections.rounded()
    assert rounded.boxes.dtype == torch.float64 and rounded.classes == ("a", "b")
    assert rounded.boxes.tolist() == [[10.12, 20.0, 30.5, 40.0]] and rounded.scores.tolist() == [0.8765]
    read = Detections.from_records(records, ("a", "b"))
    assert read.to_records() == records and read.labels.tolist() == [1]
    truth = Detections.from_records(
        [{"box": [0, 0, 5, 5], "label": 0}, {"box": [1, 1, 2, 2], "label": "polyp"}]
    )
    assert truth.scores is None and truth.names == ("specularity", "polyp")
    assert truth.classes == (*EAD2019_CLASSES, "polyp")  # a name outside the list is added after it
    assert truth.to_records() == [
        {"box": [0.0, 0.0, 5.0, 5.0], "label": "specularity"},
        {"box": [1.0, 1.0, 2.0, 2.0], "label": "polyp"},
    ]
    boxes, scores, labels = truth.numpy()
    assert boxes.dtype == np.float64 and scores is None and labels.tolist() == [0, 7]
    empty = Detections.from_records([])
    assert len(empty) == 0 and empty.scores is None and empty.to_records() == []


def test_frame_rejects_non_rgb_images() -> None:
    with pytest.raises(ValueError, match="H×W×3 uint8"):
        Frame(index=0, pts=0, time_base=0.04, captured_ns=0, source="s", image=np.zeros((4, 4), np.uint8))


def test_verdict_probability_range() -> None:
    with pytest.raises(ValueError):
        Verdict(QualityLabel.BAD, 1.5)


def test_latency_per_stage_and_end_to_end() -> None:
    frame = Frame(
        index=0,
        pts=0,
        time_base=0.04,
        captured_ns=1_000_000,
        source="s",
        image=np.zeros((2, 2, 3), np.uint8),
        decode_ns=3_000_000,
    )
    result = FrameResult(
        frame=frame, stamps_ns={"queue": 2_000_000, "quality": 5_000_000, "sink": 11_000_000}
    )
    assert result.latency_ms() == {"decode": 3.0, "queue": 1.0, "quality": 3.0, "sink": 6.0, "e2e": 10.0}
