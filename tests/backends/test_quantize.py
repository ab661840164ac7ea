"""QDQ quantisation details: output convolutions stay float, uint8 activations are exact and fuse."""

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
    """A stem whose output feeds two convs (like a residual branch or shared heads): p_bad (B,)."""

    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Conv2d(3, 8, 3, padding=1)
        self.left = nn.Conv2d(8, 8, 3, padding=1)
        self.right = nn.Conv2d(8, 8, 1)
        self.head = nn.Conv2d(8, 1, 1)

    def forward(self, images: torch.Tensor) -> dict[str, torch.Tensor]:
        stem = torch.relu(self.stem(images))
        features = torch.relu(self.left(stem)) + torch.relu(self.right(stem))
        return {"p_bad": self.head(features).mean(dim=(1, 2, 3)).sigmoid()}  # (B, 1, H, W) -> (B,)


@pytest.fixture(scope="module")
def quantised(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, np.ndarray]:
    torch.manual_seed(0)
    folder = tmp_path_factory.mktemp("quantise")
    spec = tiny_spec("classifier")
    frames = load_frames(DEFAULT_CALIBRATION_FRAMES, spec)
    fp32 = export_onnx(Branching().eval(), spec, folder / "branching.onnx")
    return quantize_int8(fp32, spec, frames[:8], folder / "branching.int8.onnx"), frames[8:12]


def _optimised_ops(model: bytes | str, path: Path) -> Counter[str]:
    options = ort.SessionOptions()
    options.optimized_model_filepath = str(path)
    options.log_severity_level = 3
    ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])
    return Counter(node.op_type for node in onnx.load(path).graph.node)


def test_output_convolution_stays_float(quantised: tuple[Path, np.ndarray]) -> None:
    model = onnx.load(quantised[0])
    producers = {output: node for node in model.graph.node for output in node.output}
    convolutions = [node for node in model.graph.node if node.op_type == "Conv"]
    quantised_weights = {
        conv.name: conv.input[1] in producers and producers[conv.input[1]].op_type == "DequantizeLinear"
        for conv in convolutions
    }
    assert len(convolutions) == 4
    assert sum(quantised_weights.values()) == 3, "every conv but the output (head) conv is quantised"


def test_unsigned_activations_are_exact_and_fuse(quantised: tuple[Path, np.ndarray], tmp_path: Path) -> None:
    path, frames = quantised
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
            None, {"images": frames}
        )[0]
        for m in (signed, unsigned)
    ]
    assert relative_error(outputs[0], outputs[1]) == 0.0
    signed_ops = _optimised_ops(signed.SerializeToString(), tmp_path / "signed.onnx")
    unsigned_ops = _optimised_ops(unsigned.SerializeToString(), tmp_path / "unsigned.onnx")
    assert unsigned_ops["QLinearConv"] == 3 and unsigned_ops["Conv"] == 1
    assert signed_ops["QLinearConv"] < unsigned_ops["QLinearConv"]


def test_missing_calibration_images(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="no calibration images"):
        load_frames(tmp_path, tiny_spec("classifier"))
    (tmp_path / "broken.jpg").write_bytes(b"not a jpeg")
    with pytest.raises(DataError, match="cannot read calibration image"):
        load_frames(tmp_path, tiny_spec("classifier"))
