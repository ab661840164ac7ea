"""torch vs onnxruntime fp32 parity through load_engine, on the real detector and classifier architectures."""

from __future__ import annotations

from pathlib import Path

import onnx
import pytest
import torch

from streamer.backends.calibrate import DEFAULT_HOLDOUT_FRAMES
from streamer.backends.export import ONNX_OPSET, export_onnx, relative_error
from streamer.backends.factory import load_engine
from streamer.backends.onnxruntime_engine import OnnxRuntimeEngine
from streamer.backends.quantize import load_frames
from tests.backends.tiny_models import TinyDetector, tiny_spec

RELATIVE_TOLERANCE = 1e-4


def _relative_error(expected: torch.Tensor, actual: torch.Tensor) -> float:
    return relative_error(expected.numpy(), actual.numpy())


@pytest.mark.parametrize("folder_fixture", ["lite_detector_folder", "lite_classifier_folder"])
def test_torch_and_onnxruntime_agree(
    folder_fixture: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    folder = request.getfixturevalue(folder_fixture)
    with (
        load_engine(folder, backend="torch", max_batch=4) as reference,
        load_engine(folder, backend="onnxruntime", max_batch=4, cache_dir=tmp_path) as candidate,
    ):
        frames = torch.from_numpy(load_frames(DEFAULT_HOLDOUT_FRAMES, reference.spec))  # (N, 3, H, W)
        for batch_size in (3, 1):
            batch = frames[:batch_size]
            expected, actual = reference.infer(batch), candidate.infer(batch)
            assert list(expected) == list(actual)
            for name in expected:
                assert expected[name].shape == actual[name].shape
                assert expected[name].dtype == actual[name].dtype == torch.float32
                if batch_size > 1:
                    assert expected[name].unique().numel() > 1, f"{name} is constant; the check is vacuous"
                assert _relative_error(expected[name], actual[name]) <= RELATIVE_TOLERANCE, name


def test_export_has_dynamic_batch_and_checks(tmp_path: Path) -> None:
    model, spec = TinyDetector().eval(), tiny_spec("detector")
    path = export_onnx(model, spec, tmp_path / "tiny.onnx")
    proto = onnx.load(path)
    onnx.checker.check_model(proto)
    assert proto.opset_import[0].version >= 17 and ONNX_OPSET >= 17
    batch_dim = proto.graph.input[0].type.tensor_type.shape.dim[0]
    assert batch_dim.dim_param and not batch_dim.dim_value
    engine = OnnxRuntimeEngine(path, spec)
    for batch_size in (1, spec.max_batch):
        batch = torch.randn(batch_size, 3, *spec.input_size)
        outputs = engine.infer(batch)
        assert outputs["boxes"].shape == (batch_size, 64, 4)
        assert outputs["scores"].shape == (batch_size, 64, 7)
        with torch.no_grad():
            assert _relative_error(model(batch)["boxes"], outputs["boxes"]) <= RELATIVE_TOLERANCE
