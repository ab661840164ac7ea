"""INT8 post-training quantisation: calibration frames in, a QDQ ONNX model out.

The QDQ model (per-channel symmetric int8 weights, symmetric int8 activations) runs on onnxruntime
and on TensorRT (explicit quantisation).
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import onnx
from onnx import numpy_helper
from onnxruntime.quantization import (
    CalibrationDataReader,
    CalibrationMethod,
    QuantFormat,
    QuantType,
    quantize_static,
)
from onnxruntime.quantization.shape_inference import quant_pre_process

from streamer.backends.base import EngineSpec
from streamer.backends.spec import INPUT_NAME, SPEC_METADATA_KEY, spec_to_json, with_precision
from streamer.errors import DataError
from streamer.images import IMAGE_SUFFIXES, is_image_file, read_rgb
from streamer.preprocessing import to_network_input

# Quantised operators: the convolutions, the residual and FPN additions and the max pool, so that the
# whole network body runs on int8 tensors. Box decoding (everything after the output convolutions)
# stays float, which keeps box coordinates exact.
QUANTIZED_OPS = ("Conv", "Add", "MaxPool", "MatMul", "Gemm")
# Recipes, fastest first: name -> float_outputs (see quantize_int8). Calibration keeps the first one the
# accuracy guard accepts.
RECIPES: dict[str, bool] = {"int8-outputs": False, "float-outputs": True}


def load_frames(folder: Path, spec: EngineSpec) -> np.ndarray:
    """Every image in `folder` (sorted by name), prepared for `spec` as `streamer run` prepares frames
    (field-of-view crop, resize, normalise: `streamer.preprocessing.to_network_input`).

    Returns (N, 3, H, W) float32: RGB scaled to [0, 1], minus spec.mean, divided by spec.std.
    """
    paths = sorted(p for p in Path(folder).iterdir() if is_image_file(p)) if folder.is_dir() else []
    if not paths:
        raise DataError(f"no calibration images ({', '.join(IMAGE_SUFFIXES)}) in {folder}")
    height, width = spec.input_size
    frames = np.empty((len(paths), 3, height, width), dtype=np.float32)
    for index, path in enumerate(paths):
        rgb = read_rgb(path)
        frames[index] = to_network_input(rgb, spec.input_size, spec.mean, spec.std)[0].numpy()
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
    float_outputs: bool = False,
) -> Path:
    """Write the QDQ INT8 model of `fp32_onnx` to `out_path`, calibrated on `calibration` (N, 3, H, W).

    Convolutions, additions, max pooling, MatMul and Gemm are quantised with per-channel symmetric int8
    weights and symmetric int8 activations (as TensorRT requires); box decoding after the output
    convolutions stays float. `float_outputs` also keeps the output convolutions (box deltas, class
    logits) float: finer outputs, slower on CPU. A ReLU is fused into the convolution before it (no
    quantisation between them, as TensorRT places it). The spec (precision "int8") is stored in the
    model's metadata. Returns `out_path`.
    """
    out_path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="quantize-") as scratch:
        prepared = Path(scratch) / "prepared.onnx"
        quant_pre_process(str(fp32_onnx), str(prepared), skip_symbolic_shape=False)
        graph = onnx.load(prepared, load_external_data=False)
        heads = output_convolutions(graph)
        excluded = decoding_nodes(graph, heads) + (heads if float_outputs else [])
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
            nodes_to_exclude=excluded,
            extra_options={"ActivationSymmetric": True, "WeightSymmetric": True},
        )
    model = fuse_relu_quantisation(onnx.load(out_path))
    int8_spec = with_precision(spec, "int8", spec.max_batch)
    onnx.helper.set_model_props(model, {SPEC_METADATA_KEY: spec_to_json(int8_spec)})
    onnx.save(model, out_path)
    return out_path


def _consumers(model: onnx.ModelProto) -> dict[str, list[onnx.NodeProto]]:
    """Tensor name -> the nodes that read it."""
    consumers: dict[str, list[onnx.NodeProto]] = {}
    for node in model.graph.node:
        for name in node.input:
            consumers.setdefault(name, []).append(node)
    return consumers


def _producers(model: onnx.ModelProto) -> dict[str, onnx.NodeProto]:
    """Tensor name -> the node that writes it."""
    return {output: node for node in model.graph.node for output in node.output}


def output_convolutions(model: onnx.ModelProto) -> list[str]:
    """Names of the Conv nodes from which a graph output is reached without passing another Conv."""
    consumers = _consumers(model)
    outputs = {output.name for output in model.graph.output}

    def reaches_output(tensor: str, seen: set[str]) -> bool:
        if tensor in outputs:
            return True
        for node in consumers.get(tensor, []):
            if node.op_type != "Conv" and node.name not in seen:
                seen.add(node.name)
                if any(reaches_output(output, seen) for output in node.output):
                    return True
        return False

    return [
        node.name
        for node in model.graph.node
        if node.op_type == "Conv" and reaches_output(node.output[0], set())
    ]


def decoding_nodes(model: onnx.ModelProto, output_convs: list[str]) -> list[str]:
    """Names of the nodes downstream of the `output_convs` (reshapes, box decoding, sigmoid)."""
    consumers = _consumers(model)
    heads = set(output_convs)
    pending = [o for node in model.graph.node if node.name in heads for o in node.output]
    found: dict[str, None] = {}
    while pending:
        for node in consumers.get(pending.pop(), []):
            if node.name not in found:
                found[node.name] = None
                pending.extend(node.output)
    return list(found)


def fuse_relu_quantisation(model: onnx.ModelProto) -> onnx.ModelProto:
    """Drop each QuantizeLinear -> DequantizeLinear pair whose only reader is a ReLU that feeds only
    QuantizeLinear nodes: x -> Q -> DQ -> Relu -> Q becomes x -> Relu -> Q.

    One rounding fewer, and the convolution, ReLU and quantisation fuse into one int8 kernel (TensorRT
    and onnxruntime alike). Modifies and returns `model`.
    """
    consumers = _consumers(model)
    producers = _producers(model)
    graph_outputs = {output.name for output in model.graph.output}
    dropped: list[onnx.NodeProto] = []
    for relu in (node for node in model.graph.node if node.op_type == "Relu"):
        readers = consumers.get(relu.output[0], [])
        dequantize = producers.get(relu.input[0])
        if (
            not readers
            or any(reader.op_type != "QuantizeLinear" for reader in readers)
            or relu.output[0] in graph_outputs
            or dequantize is None
            or dequantize.op_type != "DequantizeLinear"
            or len(consumers[dequantize.output[0]]) != 1
        ):
            continue
        quantize = producers.get(dequantize.input[0])
        if (
            quantize is None
            or quantize.op_type != "QuantizeLinear"
            or len(consumers[quantize.output[0]]) != 1
        ):
            continue
        relu.input[0] = quantize.input[0]
        dropped += [quantize, dequantize]
    for node in dropped:
        model.graph.node.remove(node)
    return model


def unsigned_activations(model: onnx.ModelProto) -> onnx.ModelProto:
    """The same QDQ model with uint8 activations for onnxruntime's CPU kernels.

    Symmetric int8 tensors become uint8 with zero point 128, which is exact (q_u8 = q_s8 + 128 on the
    same grid); onnxruntime fuses uint8-activation QDQ convolutions even where a quantised tensor feeds
    several nodes (residual branches, shared heads), which it does not do for int8 activations. A tensor
    quantised right after a ReLU gets zero point 0 instead: equal within the calibrated range (above it,
    it saturates at 255 steps instead of 127), and onnxruntime then folds the ReLU away and fuses the
    convolution or addition before it into one int8 kernel. Weights stay int8. Modifies and returns
    `model`.
    """
    initializers = {initializer.name: initializer for initializer in model.graph.initializer}
    consumers = _consumers(model)
    producers = _producers(model)
    relu_zero_point = "relu_output_zero_point_u8"
    converted: dict[str, str] = {}
    for quantize in (node for node in model.graph.node if node.op_type == "QuantizeLinear"):
        zero_point = quantize.input[2] if len(quantize.input) > 2 else ""
        if zero_point not in initializers or initializers[zero_point].data_type != onnx.TensorProto.INT8:
            continue
        source = producers.get(quantize.input[0])
        if source is not None and source.op_type == "Relu" and _is_zero(initializers[zero_point]):
            if relu_zero_point not in initializers:
                initializers[relu_zero_point] = numpy_helper.from_array(
                    np.zeros((), np.uint8), relu_zero_point
                )
                model.graph.initializer.append(initializers[relu_zero_point])
            unsigned = relu_zero_point
        else:
            if zero_point not in converted:
                shifted = numpy_helper.to_array(initializers[zero_point]).astype(np.int16) + 128
                model.graph.initializer.append(
                    numpy_helper.from_array(shifted.astype(np.uint8), f"{zero_point}_u8")
                )
                converted[zero_point] = f"{zero_point}_u8"
            unsigned = converted[zero_point]
        quantize.input[2] = unsigned
        for dequantize in consumers.get(quantize.output[0], []):
            if dequantize.op_type == "DequantizeLinear":
                dequantize.input[2] = unsigned
    return model


def _is_zero(initializer: onnx.TensorProto) -> bool:
    return not numpy_helper.to_array(initializer).any()
