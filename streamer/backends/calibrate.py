"""Calibrate a model to INT8 and install the QDQ model only when the accuracy guard accepts it."""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

from streamer.backends.cache import EngineCache
from streamer.backends.factory import ModelSource, fp32_onnx
from streamer.backends.int8_guard import GuardBounds, GuardReport, check_int8, fp32_reference
from streamer.backends.onnxruntime_engine import OnnxRuntimeEngine
from streamer.backends.quantize import RECIPES, load_frames, quantize_int8
from streamer.backends.spec import with_precision
from streamer.models.store import sha256_of
from streamer.paths import CALIBRATION_FRAMES, HOLDOUT_FRAMES

DEFAULT_CALIBRATION_FRAMES = CALIBRATION_FRAMES
DEFAULT_HOLDOUT_FRAMES = HOLDOUT_FRAMES
REPORT_NAME = "int8-report.json"


def calibrate_model(
    model: str | Path,
    *,
    frames_dir: Path = DEFAULT_CALIBRATION_FRAMES,
    holdout_dir: Path = DEFAULT_HOLDOUT_FRAMES,
    bounds: GuardBounds | None = None,
    report_path: Path | None = None,
    cache_dir: Path | None = None,
) -> GuardReport:
    """Quantise `model` on the images in `frames_dir`, compare INT8 with FP32 on `holdout_dir`.

    The quantisation recipes (`quantize.RECIPES`) are tried fastest first and the first one the guard
    accepts is installed as `model.int8.onnx` in the model's folder (where `load_engine(...,
    precision="int8")` finds it); when the guard refuses them all, nothing is installed and an older
    INT8 model is left as it was. The JSON report (the installed or last recipe, and every attempt) is
    written either way (default: `int8-report.json` in the model folder) and returned. An untrained
    model (manifest metrics "untrained", kept for timing only) gets the fastest recipe installed whatever
    the guard measures, and its report says so.
    """
    source = ModelSource.open(model, max_batch=8)
    cache = EngineCache(cache_dir)
    reference_onnx = fp32_onnx(source, cache)
    calibration = load_frames(frames_dir, source.spec)
    holdout = load_frames(holdout_dir, source.spec)
    bounds = bounds or GuardBounds()
    with cache.staging_folder() as staging:
        int8_spec = with_precision(source.spec, "int8", source.spec.max_batch)
        attempts: list[dict[str, object]] = []
        with OnnxRuntimeEngine(reference_onnx, source.spec) as fp32_engine:
            reference = fp32_reference(fp32_engine, holdout, bounds)
            for recipe, float_outputs in RECIPES.items():
                candidate = quantize_int8(
                    reference_onnx,
                    source.spec,
                    calibration,
                    staging / f"{recipe}.int8.onnx",
                    float_outputs=float_outputs,
                )
                with OnnxRuntimeEngine(candidate, int8_spec) as quantised:
                    report = check_int8(fp32_engine, quantised, holdout, bounds, reference=reference)
                if source.manifest.metrics.get("untrained"):
                    measured = report.reason.split(": ", 1)[-1]
                    reason = f"installed without the guard: untrained weights, for timing only ({measured})"
                    report = replace(report, passed=True, reason=reason)
                attempts.append(
                    {"recipe": recipe, "passed": report.passed, "reason": report.reason, **report.metrics}
                )
                if report.passed:
                    break
        report = replace(
            report,
            recipe=recipe,
            attempts=attempts,
            files={
                "fp32_onnx": str(reference_onnx),
                "int8_onnx": str(source.int8_path) if report.passed else "",
                "int8_sha256": sha256_of(candidate),
                "calibration_frames": f"{frames_dir} ({calibration.shape[0]} images)",
                "holdout_frames": f"{holdout_dir} ({holdout.shape[0]} images)",
            },
        )
        if report.passed:
            shutil.move(str(candidate), source.int8_path)
    report.write(report_path or source.folder / REPORT_NAME)
    return report
