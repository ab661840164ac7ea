"""INT8 accuracy guard: accepts a well-calibrated model, refuses broken calibrations."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import numpy_helper

from streamer.backends.export import export_onnx
from streamer.backends.int8_guard import GuardBounds, check_int8
from streamer.backends.onnxruntime_engine import OnnxRuntimeEngine
from streamer.backends.quantize import quantize_int8
from streamer.backends.spec import with_precision
from tests.backends.tiny_models import (
    BrightnessClassifier,
    CellDetector,
    cell_frames,
    normalised_colour,
    tiny_spec,
)

DARK, BRIGHT = (40, 30, 30), (230, 220, 210)


def _engines(
    tmp_path: Path, task: str, calibration: np.ndarray
) -> tuple[OnnxRuntimeEngine, OnnxRuntimeEngine]:
    spec = tiny_spec(task)
    dark, bright = normalised_colour(DARK, spec), normalised_colour(BRIGHT, spec)
    model = CellDetector(dark, bright) if task == "detector" else BrightnessClassifier(dark, bright)
    fp32 = export_onnx(model.eval(), spec, tmp_path / f"{task}.onnx")
    int8 = quantize_int8(fp32, spec, calibration, tmp_path / f"{task}.int8.onnx")
    return OnnxRuntimeEngine(fp32, spec), OnnxRuntimeEngine(
        int8, with_precision(spec, "int8", spec.max_batch)
    )


def _corrupt_input_scale(path: Path, factor: float) -> None:
    """Multiply the scale of the first QuantizeLinear (the image input) by `factor`."""
    model = onnx.load(path)
    quantize = next(node for node in model.graph.node if node.op_type == "QuantizeLinear")
    scale = next(init for init in model.graph.initializer if init.name == quantize.input[1])
    scale.CopyFrom(numpy_helper.from_array(numpy_helper.to_array(scale) * factor, scale.name))
    onnx.save(model, path)


def test_detector_with_good_calibration_is_accepted(tmp_path: Path) -> None:
    spec = tiny_spec("detector")
    fp32, int8 = _engines(tmp_path, "detector", cell_frames(16, seed=1, spec=spec))
    report = check_int8(fp32, int8, cell_frames(8, seed=2, spec=spec))
    assert report.passed, report.reason
    assert report.metrics["truth_boxes"] > 50
    assert report.metrics["score_loss_points"] <= 1.0
    assert report.metrics["box_agreement"] >= 0.99
    assert 0.0 <= report.metrics["fp32_noise_loss_points"] <= 1.0, "cells far from the threshold are stable"


def test_detector_calibrated_on_black_frames_is_refused(tmp_path: Path) -> None:
    spec = tiny_spec("detector")
    black = cell_frames(16, seed=1, spec=spec, bright_share=0.0)
    fp32, int8 = _engines(tmp_path, "detector", black)
    report = check_int8(fp32, int8, cell_frames(8, seed=2, spec=spec))
    assert not report.passed
    assert report.metrics["score_loss_points"] > 1.0
    assert report.reason.startswith("refused")


def test_detector_with_corrupted_scale_is_refused(tmp_path: Path) -> None:
    spec = tiny_spec("detector")
    fp32, _ = _engines(tmp_path, "detector", cell_frames(16, seed=1, spec=spec))
    _corrupt_input_scale(tmp_path / "detector.int8.onnx", 0.02)
    int8 = OnnxRuntimeEngine(tmp_path / "detector.int8.onnx", with_precision(spec, "int8", spec.max_batch))
    report = check_int8(fp32, int8, cell_frames(8, seed=2, spec=spec))
    assert not report.passed
    assert report.metrics["box_agreement"] < 0.9


def test_classifier_guard(tmp_path: Path) -> None:
    spec = tiny_spec("classifier")
    # Frames are mostly dark or mostly bright, so about half of them are "bad".
    frames = np.concatenate([cell_frames(6, seed=3, spec=spec, bright_share=share) for share in (0.1, 0.9)])
    fp32, int8 = _engines(tmp_path, "classifier", frames)
    accepted = check_int8(fp32, int8, frames)
    assert accepted.passed and accepted.metrics["label_agreement"] == 1.0
    _corrupt_input_scale(tmp_path / "classifier.int8.onnx", 0.02)
    broken = OnnxRuntimeEngine(
        tmp_path / "classifier.int8.onnx", with_precision(spec, "int8", spec.max_batch)
    )
    refused = check_int8(fp32, broken, frames)
    assert not refused.passed
    assert refused.metrics["label_agreement"] < 0.99


def test_bounds_are_configurable_and_reported(tmp_path: Path) -> None:
    spec = tiny_spec("detector")
    fp32, int8 = _engines(tmp_path, "detector", cell_frames(16, seed=1, spec=spec, bright_share=0.0))
    lenient = GuardBounds(max_score_loss_points=100.0)
    report = check_int8(fp32, int8, cell_frames(8, seed=2, spec=spec), lenient)
    assert report.passed
    written = json.loads(report.write(tmp_path / "report.json").read_text())
    assert written["passed"] is True
    assert written["bounds"]["max_score_loss_points"] == 100.0
    assert written["metrics"]["score_loss_points"] == pytest.approx(report.metrics["score_loss_points"])
