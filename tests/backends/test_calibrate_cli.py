"""`streamer calibrate` and `streamer build` on model folders of the real architectures."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import torch
from typer.testing import CliRunner

from streamer import paths
from streamer.backends.calibrate import REPORT_NAME, calibrate_model
from streamer.backends.factory import INT8_ONNX_NAME, load_engine
from streamer.backends.int8_guard import GuardBounds
from streamer.backends.quantize import RECIPES
from streamer.cli import app
from streamer.errors import ConfigError, ModelError
from streamer.models.store import WEIGHTS_NAME, sha256_of, update_manifest
from tests.backends.tiny_models import LITE_CLASSIFIER, publish_random


@pytest.fixture(scope="module")
def decisive_classifier_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The lite classifier with every frame far on the "bad" side, so INT8 noise cannot flip a label."""
    folder = tmp_path_factory.mktemp("decisive")
    return publish_random(folder, "quality-test", "classifier", LITE_CLASSIFIER, bad_logit_offset=6.0)


@pytest.fixture
def classifier_copy(decisive_classifier_folder: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(decisive_classifier_folder, tmp_path / "quality"))


@pytest.fixture
def detector_copy(lite_detector_folder: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(lite_detector_folder, tmp_path / "detector"))


@pytest.fixture(autouse=True)
def _cache_in_tmp(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(paths, "ENGINE_CACHE_DIR", tmp_path / "engine-cache")


def test_calibrate_installs_an_accepted_int8_model(classifier_copy: Path) -> None:
    result = CliRunner().invoke(app, ["calibrate", str(classifier_copy)])
    assert result.exit_code == 0, result.output
    assert "accepted" in result.output
    report = json.loads((classifier_copy / REPORT_NAME).read_text())
    assert report["passed"] is True and report["frames"] == 10
    fastest = next(iter(RECIPES))
    assert report["recipe"] == fastest and [a["recipe"] for a in report["attempts"]] == [fastest]
    assert report["files"]["int8_sha256"] == sha256_of(classifier_copy / INT8_ONNX_NAME)
    with load_engine(classifier_copy, precision="int8", max_batch=2) as engine:
        assert (engine.backend, engine.spec.precision) == ("onnxruntime", "int8")
        height, width = engine.spec.input_size
        p_bad = engine.infer(torch.zeros(2, 3, height, width))["p_bad"]
        assert p_bad.shape == (2,) and bool(((p_bad >= 0) & (p_bad <= 1)).all())


def test_refused_int8_model_is_not_installed(detector_copy: Path) -> None:
    # Random weights score every anchor near the 0.01 prior: at that threshold INT8 noise reorders them.
    report = calibrate_model(detector_copy, bounds=GuardBounds(score_threshold=0.01))
    assert not report.passed
    assert not (detector_copy / INT8_ONNX_NAME).exists()
    written = json.loads((detector_copy / REPORT_NAME).read_text())
    assert written["passed"] is False and written["reason"].startswith("refused")
    assert [attempt["recipe"] for attempt in written["attempts"]] == list(RECIPES), "every recipe was tried"
    assert all(attempt["passed"] is False for attempt in written["attempts"])
    # at the 0.01 prior, one grey level of noise already reorders FP32's own boxes
    assert written["metrics"]["fp32_noise_loss_points"] > written["bounds"]["max_score_loss_points"]
    with pytest.raises(ModelError, match="streamer calibrate"):
        load_engine(detector_copy, precision="int8")


def test_untrained_model_gets_int8_for_timing_without_the_guard(detector_copy: Path) -> None:
    update_manifest(detector_copy, metrics={"untrained": True})
    report = calibrate_model(detector_copy, bounds=GuardBounds(score_threshold=0.01))
    assert report.passed and report.reason.startswith("installed without the guard: untrained weights")
    assert report.recipe == next(iter(RECIPES)) and len(report.attempts) == 1
    with load_engine(detector_copy, precision="int8", max_batch=1) as engine:
        assert engine.spec.precision == "int8"


def test_calibrate_takes_the_models_of_a_profile(classifier_copy: Path, tmp_path: Path) -> None:
    profile = tmp_path / "mine.toml"
    profile.write_text(f'[quality]\nmodel = "{classifier_copy}"\n\n[detector]\nmodels = ["classical"]\n')
    result = CliRunner().invoke(app, ["calibrate", "--profile", str(profile)])
    assert result.exit_code == 0, result.output
    assert "quality-test: accepted" in result.output
    assert (classifier_copy / INT8_ONNX_NAME).is_file()


def test_calibrate_command_fails_when_refused(detector_copy: Path) -> None:
    result = CliRunner().invoke(app, ["calibrate", str(detector_copy), "--score-threshold", "0.01"])
    assert isinstance(result.exception, ModelError)
    assert "refused" in str(result.exception)


def test_int8_model_of_older_weights_is_refused(classifier_copy: Path) -> None:
    calibrate_model(classifier_copy)
    weights = torch.load(classifier_copy / WEIGHTS_NAME, weights_only=True)
    first = next(iter(weights))
    weights[first] = weights[first] + 1
    torch.save(weights, classifier_copy / WEIGHTS_NAME)
    update_manifest(classifier_copy, sha256=sha256_of(classifier_copy / WEIGHTS_NAME))
    with pytest.raises(ModelError, match="source_sha256"):
        load_engine(classifier_copy, precision="int8")


def test_negative_bounds_are_refused() -> None:
    with pytest.raises(ConfigError, match="bounds"):
        GuardBounds(max_score_loss_points=-1)


def test_build_prepares_engines_ahead_of_time(classifier_copy: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["build", str(classifier_copy), "--max-batch", "4"])
    assert result.exit_code == 0, result.output
    assert "quality-test: onnxruntime fp32 on cpu (batch 1..4) ready" in result.output
    entries = [p.name for p in (tmp_path / "engine-cache").iterdir() if not p.name.startswith(".")]
    assert len(entries) == 1 and entries[0].startswith("onnxruntime-fp32-")


def test_build_reports_a_missing_model(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["build", str(tmp_path / "nowhere")])
    assert isinstance(result.exception, ModelError)
    assert "model not found" in str(result.exception)


def test_build_takes_the_models_of_a_profile(classifier_copy: Path, tmp_path: Path) -> None:
    profile = tmp_path / "mine.toml"
    profile.write_text(f'[quality]\nmodel = "{classifier_copy}"\n\n[detector]\nmodels = ["classical"]\n')
    result = CliRunner().invoke(app, ["build", "--profile", str(profile), "--max-batch", "2"])
    assert result.exit_code == 0, result.output
    assert "quality-test: onnxruntime fp32 on cpu (batch 1..2) ready" in result.output
    assert "classical" not in result.output  # nothing to build for weights-free engines


def test_build_needs_models_or_a_profile() -> None:
    result = CliRunner().invoke(app, ["build"])
    assert isinstance(result.exception, ConfigError)
