"""The onnxruntime backend: the CPU provider, or the TensorRT / CUDA providers where installed."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import psutil
import torch
from google.protobuf.message import DecodeError
from onnxruntime.capi import onnxruntime_pybind11_state as ort_state

from streamer.backends.base import EngineSpec
from streamer.backends.quantize import unsigned_activations
from streamer.backends.spec import (
    IDENTITY_FIELDS,
    INPUT_NAME,
    SPEC_METADATA_KEY,
    check_batch,
    output_names,
    require_same_model,
    spec_from_json,
)
from streamer.errors import ConfigError, ModelError

ORT_LOAD_ERRORS = (ort_state.Fail, ort_state.InvalidGraph, ort_state.InvalidProtobuf, ort_state.NoSuchFile)
GPU_PROVIDERS = ("TensorrtExecutionProvider", "CUDAExecutionProvider")


def default_intra_op_threads() -> int:
    """Physical cores this process may run on (at least 1)."""
    allowed = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    physical = psutil.cpu_count(logical=False) or allowed
    return max(1, min(allowed, physical))


def _providers(device: torch.device, spec: EngineSpec, trt_cache_dir: Path | None) -> list[object]:
    """Execution providers with options, best first, for `device`."""
    if device.type == "cpu":
        if spec.precision not in ("fp32", "int8"):
            raise ConfigError(f"onnxruntime on CPU runs fp32 or int8, not {spec.precision!r}")
        return ["CPUExecutionProvider"]
    available = ort.get_available_providers()
    chosen: list[object] = []
    if "TensorrtExecutionProvider" in available:
        trt_options: dict[str, object] = {
            "device_id": device.index or 0,
            "trt_fp16_enable": spec.precision == "fp16",
            "trt_int8_enable": spec.precision == "int8",
            "trt_engine_cache_enable": trt_cache_dir is not None,
            "trt_timing_cache_enable": trt_cache_dir is not None,
        }
        if trt_cache_dir is not None:
            trt_options["trt_engine_cache_path"] = str(trt_cache_dir)
            trt_options["trt_timing_cache_path"] = str(trt_cache_dir)
        chosen.append(("TensorrtExecutionProvider", trt_options))
    if "CUDAExecutionProvider" in available:
        cuda_options = {
            "device_id": device.index or 0,
            "user_compute_stream": str(torch.cuda.current_stream(device).cuda_stream),
        }
        chosen.append(("CUDAExecutionProvider", cuda_options))
    if not chosen:
        raise ConfigError(
            f"onnxruntime on CUDA needs one of {list(GPU_PROVIDERS)}; this onnxruntime has {available}"
        )
    if spec.precision in ("fp16", "bf16") and "TensorrtExecutionProvider" not in available:
        raise ConfigError(f"onnxruntime runs {spec.precision} only through its TensorRT provider")
    return [*chosen, "CPUExecutionProvider"]


def _load_onnx(path: Path) -> onnx.ModelProto:
    try:
        return onnx.load(path)
    except (OSError, DecodeError) as error:
        raise ModelError(f"cannot read ONNX model {path}: {error}") from error


class OnnxRuntimeEngine:
    """Runs an ONNX model (input "images" (B, 3, H, W) float32, outputs per the engine contract).

    model_path: the ONNX file (fp32, or the QDQ int8 model for precision "int8");
    threads: intra-op threads (default: the physical cores available);
    optimized_model_out: where onnxruntime writes its optimised graph (for the engine cache), or None;
    optimize: False for a model that is already optimised (loaded from the cache).
    An int8 (QDQ) model on CPU runs with uint8 activations (`unsigned_activations`).
    """

    backend = "onnxruntime"

    def __init__(
        self,
        model_path: Path,
        spec: EngineSpec,
        *,
        device: torch.device | str = "cpu",
        threads: int | None = None,
        optimized_model_out: Path | None = None,
        optimize: bool = True,
        trt_cache_dir: Path | None = None,
    ) -> None:
        self.spec = spec
        self.device = torch.device(device)
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads if threads is not None else default_intra_op_threads()
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.log_severity_level = 3
        options.graph_optimization_level = (
            ort.GraphOptimizationLevel.ORT_ENABLE_ALL
            if optimize
            else ort.GraphOptimizationLevel.ORT_DISABLE_ALL
        )
        if optimized_model_out is not None:
            options.optimized_model_filepath = str(optimized_model_out)
        providers = _providers(self.device, spec, trt_cache_dir)
        source: str | bytes = str(model_path)
        if self.device.type == "cpu" and spec.precision == "int8" and optimize:
            source = unsigned_activations(_load_onnx(model_path)).SerializeToString()
        try:
            self._session = ort.InferenceSession(source, sess_options=options, providers=providers)
        except ORT_LOAD_ERRORS as error:
            raise ModelError(f"onnxruntime cannot load {model_path}: {error}") from error
        self._names = output_names(spec.task)
        self._check_model(model_path)

    def _check_model(self, model_path: Path) -> None:
        """ModelError unless the ONNX graph takes the spec's input and returns the contract's outputs."""
        metadata = self._session.get_modelmeta().custom_metadata_map
        if SPEC_METADATA_KEY in metadata:
            embedded = spec_from_json(metadata[SPEC_METADATA_KEY])
            fields = (*IDENTITY_FIELDS, "precision")
            require_same_model(embedded, self.spec, what=str(model_path), fields=fields)
        inputs = self._session.get_inputs()
        height, width = self.spec.input_size
        if (
            len(inputs) != 1
            or inputs[0].name != INPUT_NAME
            or list(inputs[0].shape[1:]) != [3, height, width]
        ):
            found = [(i.name, i.shape) for i in inputs]
            raise ModelError(
                f"{model_path} takes inputs {found}, expected [({INPUT_NAME!r}, [B, 3, {height}, {width}])]"
            )
        found_outputs = tuple(output.name for output in self._session.get_outputs())
        if found_outputs != self._names:
            raise ModelError(f"{model_path} returns {list(found_outputs)}, expected {list(self._names)}")

    @property
    def providers(self) -> list[str]:
        """The providers the session runs on, best first."""
        return self._session.get_providers()

    def infer(self, batch: torch.Tensor) -> dict[str, torch.Tensor]:
        """batch: (B, 3, H, W) float32 normalised; returns the named float32 outputs on `device`."""
        check_batch(self.spec, batch)
        if self.device.type == "cpu":
            arrays = self._session.run(None, {INPUT_NAME: batch.detach().contiguous().numpy()})
            return {name: torch.from_numpy(array) for name, array in zip(self._names, arrays, strict=True)}
        return self._infer_bound(batch)

    def _infer_bound(self, batch: torch.Tensor) -> dict[str, torch.Tensor]:
        """CUDA: bind torch-allocated device buffers to the session, so nothing goes through the host."""
        batch = batch.to(self.device).contiguous()
        device_id = self.device.index or 0
        binding = self._session.io_binding()
        binding.bind_input(INPUT_NAME, "cuda", device_id, np.float32, tuple(batch.shape), batch.data_ptr())
        outputs = {}
        for output in self._session.get_outputs():
            shape = (batch.shape[0], *output.shape[1:])  # static trailing dims, dynamic batch
            outputs[output.name] = torch.empty(shape, dtype=torch.float32, device=self.device)
            binding.bind_output(
                output.name, "cuda", device_id, np.float32, shape, outputs[output.name].data_ptr()
            )
        self._session.run_with_iobinding(binding)
        return outputs

    def close(self) -> None:
        self._session = None  # type: ignore[assignment]

    def __enter__(self) -> OnnxRuntimeEngine:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
