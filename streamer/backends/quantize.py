"""INT8 post-training quantisation: calibration frames in, a QDQ ONNX model out.

The QDQ model (per-channel symmetric int8 weights, symmetric int8 activations) runs on onnxruntime
and on TensorRT (explicit quantisation).
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import onnx
from onnxruntime.quantization import (
    CalibrationDataReader,
    CalibrationMethod,
    QuantFormat,
    QuantType,
    quantize_static,
)
from onnxruntime.quantization.shape_inference import quant_pre_process

from streamer.backends.base import EngineSpec
from streamer.backends.onnxruntime_engine import SPEC_METADATA_KEY
from streamer.backends.spec import INPUT_NAME, spec_to_json, with_precision
from streamer.errors import DataError

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png")
# Only the compute-heavy operators are quantised; additions, box decoding and sigmoids stay in float,
# which keeps box coordinates exact (TensorRT's own advice for explicit quantisation).
QUANTIZED_OPS = ("Conv", "MatMul", "Gemm")


def load_frames(folder: Path, spec: EngineSpec) -> np.ndarray:
    """Every image in `folder` (sorted by name), resized and normalised for `spec`.

    Returns (N, 3, H, W) float32: RGB scaled to [0, 1], minus spec.mean, divided by spec.std.
    """
    paths = (
        sorted(p for p in Path(folder).iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        if folder.is_dir()
        else []
    )
    if not paths:
        raise DataError(f"no calibration images ({', '.join(IMAGE_SUFFIXES)}) in {folder}")
    height, width = spec.input_size
    mean = np.asarray(spec.mean, dtype=np.float32)
    std = np.asarray(spec.std, dtype=np.float32)
    frames = np.empty((len(paths), 3, height, width), dtype=np.float32)
    for index, path in enumerate(paths):
        bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if bgr is None:
            raise DataError(f"cannot read calibration image {path}")
        rgb = cv2.cvtColor(cv2.resize(bgr, (width, height), interpolation=cv2.INTER_AREA), cv2.COLOR_BGR2RGB)
        normalised = (rgb.astype(np.float32) / 255.0 - mean) / std
        frames[index] = normalised.transpose(2, 0, 1)  # (H, W, 3) -> (3, H, W)
    return frames


class _FrameReader(CalibrationDataReader):
    """Feeds (N, 3, H, W) frames to the calibrator one at a time."""

    def __init__(self, frames: np.ndarray) -> None:
        self._frames = frames
        self._iterator: Iterator[dict[str, np.ndarray]] = self._batches()

    def _batches(self) -> Iterator[dict[str, np.ndarray]]:
        for index in range(self._frames.shape[0]):
            yield {INPUT_NAME: self._frames[index : index + 1]}

    def get_next(self) -> dict[str, np.ndarray] | None:
        return next(self._iterator, None)

    def rewind(self) -> None:
        self._iterator = self._batches()


def quantize_int8(
    fp32_onnx: Path,
    spec: EngineSpec,
    calibration: np.ndarray,
    out_path: Path,
    *,
    method: CalibrationMethod = CalibrationMethod.MinMax,
) -> Path:
    """Write the QDQ INT8 model of `fp32_onnx` to `out_path`, calibrated on `calibration` (N, 3, H, W).

    The spec (precision "int8") is stored in the model's metadata. Returns `out_path`.
    """
    out_path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="quantize-") as scratch:
        prepared = Path(scratch) / "prepared.onnx"
        quant_pre_process(str(fp32_onnx), str(prepared), skip_symbolic_shape=False)
        quantize_static(
            str(prepared),
            str(out_path),
            _FrameReader(calibration),
            quant_format=QuantFormat.QDQ,
            per_channel=True,
            activation_type=QuantType.QInt8,
            weight_type=QuantType.QInt8,
            calibrate_method=method,
            op_types_to_quantize=list(QUANTIZED_OPS),
            extra_options={"ActivationSymmetric": True, "WeightSymmetric": True},
        )
    model = onnx.load(out_path)
    int8_spec = with_precision(spec, "int8", spec.max_batch)
    onnx.helper.set_model_props(model, {SPEC_METADATA_KEY: spec_to_json(int8_spec)})
    onnx.save(model, out_path)
    return out_path
