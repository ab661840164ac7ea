"""Backend selection: onnxruntime on this CPU, TensorRT only on CUDA and only when it imports."""

from __future__ import annotations

import builtins
from pathlib import Path

import pytest
import torch

from streamer.backends import factory, tensorrt_engine
from streamer.backends.factory import load_engine, resolve_device, select_backend
from streamer.backends.onnxruntime_engine import OnnxRuntimeEngine, default_intra_op_threads
from streamer.backends.tensorrt_engine import TensorRTEngine, build_plan, import_tensorrt
from streamer.errors import ConfigError
from tests.backends.tiny_models import tiny_spec


def test_auto_on_cpu_is_onnxruntime(lite_classifier_folder: Path, tmp_path: Path) -> None:
    assert select_backend("auto", torch.device("cpu")) == "onnxruntime"
    with load_engine(lite_classifier_folder, cache_dir=tmp_path) as engine:
        assert isinstance(engine, OnnxRuntimeEngine)
        assert (engine.backend, engine.device.type, engine.spec.precision) == ("onnxruntime", "cpu", "fp32")
        assert engine.providers == ["CPUExecutionProvider"]


@pytest.mark.parametrize(("trt_version", "expected"), [("10.9.0", "tensorrt"), (None, "torch")])
def test_auto_on_cuda(monkeypatch: pytest.MonkeyPatch, trt_version: str | None, expected: str) -> None:
    monkeypatch.setattr(factory, "tensorrt_version", lambda: trt_version)
    assert select_backend("auto", torch.device("cuda")) == expected


def test_explicit_backends() -> None:
    assert select_backend("torch", torch.device("cpu")) == "torch"
    assert select_backend("onnxruntime", torch.device("cuda")) == "onnxruntime"
    with pytest.raises(ConfigError, match="CUDA only"):
        select_backend("tensorrt", torch.device("cpu"))
    with pytest.raises(ConfigError, match="unknown backend 'openvino'"):
        select_backend("openvino", torch.device("cpu"))


def test_devices() -> None:
    assert resolve_device("cpu") == torch.device("cpu")
    with pytest.raises(ConfigError, match="unknown device"):
        resolve_device("gpu0")
    if not torch.cuda.is_available():
        with pytest.raises(ConfigError, match="no CUDA device"):
            resolve_device("cuda")


def _without_tensorrt(monkeypatch: pytest.MonkeyPatch) -> None:
    real_import = builtins.__import__

    def refuse(name: str, *args: object, **kwargs: object) -> object:
        if name == "tensorrt":
            raise ImportError("No module named 'tensorrt'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", refuse)


def test_missing_tensorrt_is_a_clear_config_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    _without_tensorrt(monkeypatch)
    with pytest.raises(ConfigError, match=r"needs TensorRT 10 .*`import tensorrt` failed"):
        import_tensorrt()
    assert tensorrt_engine.tensorrt_version() is None
    with pytest.raises(ConfigError, match="TensorRT 10"):
        build_plan(tmp_path / "model.onnx", tiny_spec("detector"))
    assert select_backend("auto", torch.device("cuda")) == "torch"


def test_tensorrt_engine_needs_cuda() -> None:
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    with pytest.raises(ConfigError, match="CUDA device only"):
        TensorRTEngine(b"", tiny_spec("detector"), device="cpu")


def test_intra_op_threads_follow_the_machine() -> None:
    import os

    threads = default_intra_op_threads()
    assert 1 <= threads <= len(os.sched_getaffinity(0))


def test_thread_count_is_configurable(tmp_path: Path) -> None:
    from streamer.backends.export import export_onnx
    from tests.backends.tiny_models import TinyClassifier

    spec = tiny_spec("classifier")
    path = export_onnx(TinyClassifier().eval(), spec, tmp_path / "c.onnx")
    engine = OnnxRuntimeEngine(path, spec, threads=1)
    assert engine.infer(torch.zeros(1, 3, 64, 64))["p_bad"].shape == (1,)
