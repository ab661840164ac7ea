import json
import shutil

import pytest
import torch

from streamer.backends.spec import engine_spec
from streamer.errors import ModelError
from streamer.models.store import (
    build_model,
    load_manifest,
    load_model,
    save_model,
    update_manifest,
    verified_onnx_path,
)

ARCHITECTURE = {"builder": "classifier", "backbone": "lite", "input_size": [64, 64], "width": 0.25}


def _fields(architecture=ARCHITECTURE):
    return {
        "name": "tiny-quality",
        "task": "classifier",
        "architecture": architecture,
        "classes": ["good", "bad"],
        "input_size": [64, 64],
        "mean": [0.5, 0.5, 0.5],
        "std": [0.25, 0.25, 0.25],
        "metrics": {"accuracy": 0.9},
    }


@pytest.fixture
def saved(tmp_path):
    torch.manual_seed(0)
    model = build_model(ARCHITECTURE).eval()
    save_model(model, _fields(), tmp_path / "tiny")
    return model, tmp_path / "tiny"


def test_round_trip_gives_the_same_outputs_and_spec(saved):
    model, folder = saved
    loaded, manifest = load_model(folder)
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        assert torch.equal(model(x)["p_bad"], loaded(x)["p_bad"])
    spec = engine_spec(manifest)
    assert spec.task == "classifier" and spec.input_size == (64, 64) and spec.classes == ("good", "bad")
    assert (
        spec.source_sha256 == manifest.sha256 == json.loads((folder / "manifest.json").read_text())["sha256"]
    )
    assert manifest.onnx_path is None and manifest.metrics == {"accuracy": 0.9}


def test_tampered_weights_are_refused(saved):
    _, folder = saved
    data = bytearray((folder / "model.pt").read_bytes())
    data[-100] ^= 0xFF
    (folder / "model.pt").write_bytes(bytes(data))
    with pytest.raises(ModelError, match="does not match its manifest"):
        load_model(folder)


def test_missing_weights_and_missing_manifest_are_clear_errors(saved, tmp_path):
    _, folder = saved
    (folder / "model.pt").unlink()
    with pytest.raises(ModelError, match="weight file missing"):
        load_model(folder)
    with pytest.raises(ModelError, match="no manifest"):
        load_manifest(tmp_path)
    with pytest.raises(ModelError, match="model not found"):
        load_model(tmp_path / "nowhere")


def test_weights_that_do_not_fit_the_architecture_are_refused(saved):
    _, folder = saved
    raw = json.loads((folder / "manifest.json").read_text())
    raw["architecture"]["width"] = 0.5
    (folder / "manifest.json").write_text(json.dumps(raw))
    with pytest.raises(ModelError, match="do not fit"):
        load_model(folder)


def test_a_bare_weight_file_uses_the_manifest_beside_it(saved, tmp_path):
    _, folder = saved
    other = tmp_path / "elsewhere"
    other.mkdir()
    shutil.copy(folder / "model.pt", other / "quality-v2.pt")
    shutil.copy(folder / "manifest.json", other / "quality-v2.json")
    _, manifest = load_model(other / "quality-v2.pt")
    assert manifest.weights_path == (other / "quality-v2.pt").resolve()
    assert load_manifest(folder / "model.pt").manifest_path == (folder / "manifest.json").resolve()


def test_unknown_builder_is_a_model_error(tmp_path):
    with pytest.raises(ModelError, match="unknown architecture builder"):
        build_model({"builder": "yolo"})
    with pytest.raises(ModelError, match="does not fit builder"):
        build_model({"builder": "retinanet", "depth": 3})


def test_onnx_file_is_checked_against_its_hash(saved, tmp_path):
    _, folder = saved
    (folder / "model.onnx").write_bytes(b"onnx bytes")
    manifest = update_manifest(folder, onnx="model.onnx", onnx_sha256="0" * 64)
    with pytest.raises(ModelError, match=r"ONNX file .* does not match"):
        verified_onnx_path(manifest)
    bare = tmp_path / "bare.onnx"
    bare.write_bytes(b"onnx bytes")
    with pytest.raises(ModelError, match="no manifest"):
        load_manifest(bare)
