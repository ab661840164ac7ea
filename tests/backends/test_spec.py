"""EngineSpec checks: a model that is not what the manifest or the caller says is refused."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import onnx
import pytest
import torch
from torch import nn

from streamer.backends.export import export_onnx
from streamer.backends.factory import load_engine
from streamer.backends.onnxruntime_engine import OnnxRuntimeEngine
from streamer.backends.spec import check_batch, spec_from_json, spec_to_json
from streamer.backends.torch_engine import TorchEngine
from streamer.errors import ConfigError, ModelError
from streamer.models.store import sha256_of, update_manifest
from tests.backends.tiny_models import TinyClassifier, TinyDetector, tiny_spec


def test_spec_json_round_trip() -> None:
    spec = tiny_spec("detector", precision="int8")
    assert spec_from_json(spec_to_json(spec)) == spec
    with pytest.raises(ModelError, match="malformed engine spec"):
        spec_from_json('{"name": "x"}')


@pytest.mark.parametrize(
    "change",
    [
        {"classes": ("a", "b", "c", "d", "e", "f", "g")},
        {"input_size": (32, 32)},
        {"source_sha256": "f" * 64},
        {"mean": (0.5, 0.5, 0.5)},
    ],
)
def test_onnx_of_another_model_is_refused(tmp_path: Path, change: dict[str, object]) -> None:
    spec = tiny_spec("detector")
    path = export_onnx(TinyDetector().eval(), spec, tmp_path / "tiny.onnx")
    with pytest.raises(ModelError, match="does not match model"):
        OnnxRuntimeEngine(path, dataclasses.replace(spec, **change))  # type: ignore[arg-type]


def test_onnx_with_other_outputs_is_refused(tmp_path: Path) -> None:
    detector_onnx = export_onnx(TinyDetector().eval(), tiny_spec("detector"), tmp_path / "det.onnx")
    proto = onnx.load(detector_onnx)
    del proto.metadata_props[:]
    onnx.save(proto, detector_onnx)
    with pytest.raises(ModelError, match="returns"):
        OnnxRuntimeEngine(detector_onnx, tiny_spec("classifier"))


def test_torch_model_with_wrong_class_count_is_refused() -> None:
    spec = tiny_spec("detector", classes=("specularity", "saturation"))
    with pytest.raises(ModelError, match="'scores' has shape"):
        TorchEngine(TinyDetector(), spec)


def test_torch_model_with_wrong_outputs_is_refused() -> None:
    with pytest.raises(ModelError, match="outputs"):
        TorchEngine(TinyClassifier(), tiny_spec("detector"))


def test_torch_backend_refuses_int8() -> None:
    with pytest.raises(ConfigError, match="int8"):
        TorchEngine(TinyClassifier(), tiny_spec("classifier", precision="int8"))


@pytest.mark.parametrize(
    "batch",
    [
        torch.zeros(5, 3, 64, 64),
        torch.zeros(1, 3, 32, 64),
        torch.zeros(3, 64, 64),
        torch.zeros(1, 3, 64, 64).half(),
    ],
)
def test_bad_batches_are_refused(batch: torch.Tensor) -> None:
    with pytest.raises(ModelError, match=r"takes \(1..4, 3, 64, 64\) float32"):
        check_batch(tiny_spec("classifier"), batch)


def test_load_engine_refuses_a_model_of_another_task(lite_classifier_folder: Path, tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="task is 'classifier', need 'detector'"):
        load_engine(lite_classifier_folder, task="detector", cache_dir=tmp_path)


def test_load_engine_refuses_onnx_of_other_weights(lite_classifier_folder: Path, tmp_path: Path) -> None:
    folder = tmp_path / "model"
    shutil.copytree(lite_classifier_folder, folder)
    other_spec = tiny_spec("classifier", input_size=(64, 64), name="quality-test")
    export_onnx(TinyClassifier().eval(), other_spec, folder / "model.onnx")
    update_manifest(folder, onnx_sha256=sha256_of(folder / "model.onnx"))
    with pytest.raises(ModelError, match="source_sha256"):
        load_engine(folder, cache_dir=tmp_path / "cache")


def test_load_engine_refuses_a_tampered_onnx(lite_classifier_folder: Path, tmp_path: Path) -> None:
    folder = tmp_path / "model"
    shutil.copytree(lite_classifier_folder, folder)
    with (folder / "model.onnx").open("ab") as stream:
        stream.write(b"\x00")
    with pytest.raises(ModelError, match="sha256"):
        load_engine(folder, cache_dir=tmp_path / "cache")


def test_fp16_on_onnxruntime_cpu_is_a_config_error(lite_classifier_folder: Path, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="fp32 or int8"):
        load_engine(lite_classifier_folder, backend="onnxruntime", precision="fp16", cache_dir=tmp_path)
    assert not list(tmp_path.glob(".build-*")) and not list(tmp_path.glob(".staging-*"))  # no scratch left


class _Identity(nn.Module):
    def forward(self, images: torch.Tensor) -> dict[str, torch.Tensor]:
        p_bad = images.mean(dim=(1, 2, 3)).sigmoid()
        return {"p_bad": p_bad, "causes": p_bad[:, None].repeat(1, 3)}


def test_torch_engine_runs_bf16_and_returns_float32() -> None:
    engine = TorchEngine(_Identity(), tiny_spec("classifier", precision="bf16"))
    outputs = engine.infer(torch.ones(2, 3, 64, 64))
    assert outputs["p_bad"].dtype == torch.float32
    assert torch.allclose(outputs["p_bad"], torch.full((2,), 0.7311), atol=1e-2)
