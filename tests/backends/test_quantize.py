"""QDQ quantisation details: what is quantised, ReLUs fused, uint8 activations exact and fused."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch
from torch import nn

from streamer.backends.calibrate import DEFAULT_CALIBRATION_FRAMES
from streamer.backends.export import export_onnx, relative_error
from streamer.backends.quantize import load_frames, quantize_int8, unsigned_activations
from streamer.errors import DataError
from tests.backends.tiny_models import tiny_spec


class Branching(nn.Module):
    """A stem whose output feeds two convs (like a residual branch or shared heads): p_bad (B,), causes (B, 3)."""

    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Conv2d(3, 8, 3, padding=1)
        self.left = nn.Conv2d(8, 8, 3, padding=1)
        self.right = nn.Conv2d(8, 8, 1)
        self.head = nn.Conv2d(8, 4, 1)

    def forward(self, images: torch.Tensor) -> dict[str, torch.Tensor]:
        stem = torch.relu(self.stem(images))
        features = torch.relu(self.left(stem)) + torch.relu(self.right(stem))
        scores = self.head(features).mean(dim=(2, 3)).sigmoid()  # (B, 4, H, W) -> (B, 4)
        return {"p_bad": scores[:, 0], "causes": scores[:, 1:]}


@pytest.fixture(scope="module")
def branching(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, np.ndarray]:
    """The fp32 ONNX model of `Branching` and 12 calibration frames (N, 3, H, W)."""
    torch.manual_seed(0)
    folder = tmp_path_factory.mktemp("quantise")
    spec = tiny_spec("classifier")
    frames = load_frames(DEFAULT_CALIBRATION_FRAMES, spec)[:12]
    return export_onnx(Branching().eval(), spec, folder / "branching.onnx"), frames


@pytest.fixture(scope="module")
def quantised(branching: tuple[Path, np.ndarray]) -> tuple[Path, np.ndarray]:
    """The default (all int8) QDQ model, calibrated on the first 8 frames, and those 8 frames."""
    fp32, frames = branching
    return quantize_int8(fp32, tiny_spec("classifier"), frames[:8], fp32.with_suffix(".int8.onnx")), frames[
        :8
    ]


def _optimised_ops(model: bytes | str, path: Path) -> Counter[str]:
    options = ort.SessionOptions()
    options.optimized_model_filepath = str(path)
    options.log_severity_level = 3
    ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])
    return Counter(node.op_type for node in onnx.load(path).graph.node)


def _quantised_weights(model: onnx.ModelProto) -> list[bool]:
    """Per Conv node in graph order: whether its weight comes from a DequantizeLinear."""
    producers = {output: node for node in model.graph.node for output in node.output}
    return [
        node.input[1] in producers and producers[node.input[1]].op_type == "DequantizeLinear"
        for node in model.graph.node
        if node.op_type == "Conv"
    ]


def test_every_convolution_and_addition_is_quantised(quantised: tuple[Path, np.ndarray]) -> None:
    model = onnx.load(quantised[0])
    producers = {output: node for node in model.graph.node for output in node.output}
    assert _quantised_weights(model) == [True] * 4
    add = next(node for node in model.graph.node if node.op_type == "Add")
    assert all(producers[name].op_type == "DequantizeLinear" for name in add.input)
    reduce = next(node for node in model.graph.node if node.op_type == "ReduceMean")
    assert not any(
        node.op_type == "QuantizeLinear" and node.input[0] == reduce.output[0] for node in model.graph.node
    ), "decoding after the output convolution stays float"


def test_float_outputs_keep_the_output_convolution_float(branching: tuple[Path, np.ndarray]) -> None:
    fp32, frames = branching
    path = quantize_int8(
        fp32, tiny_spec("classifier"), frames[:8], fp32.with_suffix(".float-out.onnx"), float_outputs=True
    )
    assert _quantised_weights(onnx.load(path)) == [True, True, True, False]


def test_relu_is_fused_into_the_node_before_it(quantised: tuple[Path, np.ndarray]) -> None:
    model = onnx.load(quantised[0])
    producers = {output: node for node in model.graph.node for output in node.output}
    relus = [node for node in model.graph.node if node.op_type == "Relu"]
    assert len(relus) == 3
    assert all(producers[relu.input[0]].op_type == "Conv" for relu in relus), "no QDQ between conv and ReLU"


def test_unsigned_activations_match_and_fuse(quantised: tuple[Path, np.ndarray], tmp_path: Path) -> None:
    path, calibration_frames = quantised
    signed = onnx.load(path)
    unsigned = unsigned_activations(onnx.load(path))
    zero_points = {init.name: init.data_type for init in unsigned.graph.initializer}
    for node in unsigned.graph.node:
        if node.op_type == "QuantizeLinear":
            assert zero_points[node.input[2]] == onnx.TensorProto.UINT8
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL  # reference semantics
    outputs = [
        ort.InferenceSession(m.SerializeToString(), options, providers=["CPUExecutionProvider"]).run(
            None, {"images": calibration_frames}
        )[0]
        for m in (signed, unsigned)
    ]
    assert relative_error(outputs[0], outputs[1]) == 0.0, "identical within the calibrated range"
    signed_ops = _optimised_ops(signed.SerializeToString(), tmp_path / "signed.onnx")
    unsigned_ops = _optimised_ops(unsigned.SerializeToString(), tmp_path / "unsigned.onnx")
    assert unsigned_ops["QLinearConv"] == 4 and unsigned_ops["QLinearAdd"] == 1
    assert unsigned_ops["Relu"] == 0 and unsigned_ops["Conv"] == 0
    assert signed_ops["QLinearConv"] < unsigned_ops["QLinearConv"]


def test_int8_stays_close_to_fp32(
    branching: tuple[Path, np.ndarray], quantised: tuple[Path, np.ndarray]
) -> None:
    fp32, frames = branching
    options = ort.SessionOptions()
    options.log_severity_level = 3
    reference = ort.InferenceSession(str(fp32), options, providers=["CPUExecutionProvider"])
    unsigned = unsigned_activations(onnx.load(quantised[0])).SerializeToString()
    candidate = ort.InferenceSession(unsigned, options, providers=["CPUExecutionProvider"])
    held_out = frames[8:]
    p_bad = [session.run(None, {"images": held_out})[0] for session in (reference, candidate)]
    assert np.abs(p_bad[0] - p_bad[1]).max() < 0.02


def test_missing_calibration_images(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="no calibration images"):
        load_frames(tmp_path, tiny_spec("classifier"))
    (tmp_path / "broken.jpg").write_bytes(b"not a jpeg")
    with pytest.raises(DataError, match=r"cannot read image .*broken\.jpg"):
        load_frames(tmp_path, tiny_spec("classifier"))
