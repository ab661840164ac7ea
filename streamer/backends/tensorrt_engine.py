"""The tensorrt backend (TensorRT 10 Python API).

`build_plan` turns an ONNX model into a serialized engine: FP32, FP16 or BF16 from the fp32 model, INT8
from the QDQ model (explicit quantisation, strongly typed network), with one optimisation profile over
the batch axis (1..max_batch) and a timing cache. `TensorRTEngine` runs a plan with `execute_async_v3`
on torch's current CUDA stream, reading from and writing to torch-allocated device tensors, so the data
never leaves the GPU and torch and TensorRT share one CUDA context.

`tensorrt` is imported lazily: streamer works without it, and asking for it where it is missing is a
ConfigError with a clear message.
"""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

import torch

from streamer.backends.base import EngineSpec
from streamer.backends.spec import INPUT_NAME, check_batch, output_names
from streamer.errors import ConfigError, ModelError, warn

WORKSPACE_BYTES = 4 << 30


def import_tensorrt() -> ModuleType:
    """The `tensorrt` module (version 10 or newer), or ConfigError saying why it cannot be used."""
    try:
        import tensorrt
    except (ImportError, OSError) as error:
        raise ConfigError(
            "the tensorrt backend needs TensorRT 10 (pip install 'tensorrt>=10') and a CUDA GPU; "
            f"`import tensorrt` failed: {error}"
        ) from error
    major = int(str(tensorrt.__version__).split(".")[0])
    if major < 10:
        raise ConfigError(f"the tensorrt backend needs TensorRT 10 or newer, found {tensorrt.__version__}")
    return tensorrt


def tensorrt_version() -> str | None:
    """The installed TensorRT version, or None when it cannot be imported."""
    try:
        return str(import_tensorrt().__version__)
    except ConfigError:
        return None


def build_plan(onnx_path: Path, spec: EngineSpec, *, timing_cache: bytes = b"") -> tuple[bytes, bytes]:
    """Build a serialized engine from `onnx_path` for `spec` (precision, input_size, max_batch).

    For precision "int8", `onnx_path` must be the QDQ model; it is built as a strongly typed network
    (no precision flags, as TensorRT 10 asks for explicit quantisation). `timing_cache`: a serialized
    timing cache from earlier builds on this GPU and TensorRT version, or b"". Returns (plan, the
    updated serialized timing cache).
    """
    trt = import_tensorrt()
    logger = trt.Logger(trt.Logger.WARNING)
    builder = trt.Builder(logger)
    flags = 0
    if spec.precision == "int8":
        flags |= 1 << int(trt.NetworkDefinitionCreationFlag.STRONGLY_TYPED)
    network = builder.create_network(flags)
    parser = trt.OnnxParser(network, logger)
    if not parser.parse_from_file(str(onnx_path)):
        errors = "; ".join(str(parser.get_error(index)) for index in range(parser.num_errors))
        raise ModelError(f"TensorRT cannot parse {onnx_path}: {errors}")

    config = builder.create_builder_config()
    config.set_memory_pool_limit(trt.MemoryPoolType.WORKSPACE, WORKSPACE_BYTES)
    if spec.precision == "fp16":
        config.set_flag(trt.BuilderFlag.FP16)
    elif spec.precision == "bf16":
        config.set_flag(trt.BuilderFlag.BF16)

    height, width = spec.input_size
    profile = builder.create_optimization_profile()
    profile.set_shape(
        INPUT_NAME,
        (1, 3, height, width),  # min
        (spec.max_batch, 3, height, width),  # opt
        (spec.max_batch, 3, height, width),  # max
    )
    config.add_optimization_profile(profile)

    cache = config.create_timing_cache(timing_cache)
    if cache is None or not config.set_timing_cache(cache, ignore_mismatch=False):
        warn("the TensorRT timing cache is unreadable or foreign; starting a new one")
        config.set_timing_cache(config.create_timing_cache(b""), ignore_mismatch=False)

    serialized = builder.build_serialized_network(network, config)
    if serialized is None:
        raise ModelError(f"TensorRT failed to build an engine from {onnx_path} ({spec.precision})")
    return bytes(serialized), bytes(config.get_timing_cache().serialize())


def _torch_dtype(trt: ModuleType, dtype: object) -> torch.dtype:
    dtypes = {
        trt.DataType.FLOAT: torch.float32,
        trt.DataType.HALF: torch.float16,
        trt.DataType.BF16: torch.bfloat16,
        trt.DataType.INT32: torch.int32,
        trt.DataType.INT64: torch.int64,
        trt.DataType.INT8: torch.int8,
        trt.DataType.BOOL: torch.bool,
    }
    if dtype not in dtypes:
        raise ModelError(f"TensorRT tensor type {dtype} is not supported")
    return dtypes[dtype]


class TensorRTEngine:
    """Runs a serialized TensorRT plan built by `build_plan` for `spec` on a CUDA `device`."""

    backend = "tensorrt"

    def __init__(self, plan: bytes, spec: EngineSpec, *, device: torch.device | str = "cuda") -> None:
        self.device = torch.device(device)
        if self.device.type != "cuda" or not torch.cuda.is_available():
            raise ConfigError("the tensorrt backend runs on a CUDA device only")
        self._trt = import_tensorrt()
        self.spec = spec
        self._names = output_names(spec.task)
        with torch.cuda.device(self.device):  # TensorRT uses the current (torch's primary) CUDA context
            torch.cuda.init()
            self._logger = self._trt.Logger(self._trt.Logger.WARNING)
            self._runtime = self._trt.Runtime(self._logger)
            self._engine = self._runtime.deserialize_cuda_engine(plan)
            if self._engine is None:
                raise ModelError(
                    f"TensorRT cannot deserialize the engine of {spec.name!r} (corrupt or foreign)"
                )
            self._context = self._engine.create_execution_context()
        self._check_io()

    def _check_io(self) -> None:
        """ModelError unless the plan has the input "images" and exactly the contract's outputs."""
        trt = self._trt
        inputs, outputs = [], []
        for index in range(self._engine.num_io_tensors):
            name = self._engine.get_tensor_name(index)
            is_input = self._engine.get_tensor_mode(name) == trt.TensorIOMode.INPUT
            (inputs if is_input else outputs).append(name)
        if inputs != [INPUT_NAME] or sorted(outputs) != sorted(self._names):
            raise ModelError(
                f"TensorRT engine of {self.spec.name!r} has inputs {inputs} and outputs {outputs}, "
                f"expected [{INPUT_NAME!r}] and {list(self._names)}"
            )

    def infer(self, batch: torch.Tensor) -> dict[str, torch.Tensor]:
        """batch: (B, 3, H, W) float32 normalised; returns the named float32 outputs on `device`.

        Enqueued on torch's current stream: the returned tensors are ready for any later work on it.
        """
        check_batch(self.spec, batch)
        images = batch.to(self.device, non_blocking=True).contiguous()
        self._context.set_input_shape(INPUT_NAME, tuple(images.shape))
        self._context.set_tensor_address(INPUT_NAME, images.data_ptr())
        outputs = {}
        for name in self._names:
            shape = tuple(self._context.get_tensor_shape(name))
            dtype = _torch_dtype(self._trt, self._engine.get_tensor_dtype(name))
            outputs[name] = torch.empty(shape, dtype=dtype, device=self.device)
            self._context.set_tensor_address(name, outputs[name].data_ptr())
        stream = torch.cuda.current_stream(self.device)
        if not self._context.execute_async_v3(stream.cuda_stream):
            raise RuntimeError(f"TensorRT failed to enqueue the engine of {self.spec.name!r}")
        return {name: value.float() for name, value in outputs.items()}

    def close(self) -> None:
        self._context = None
        self._engine = None
        self._runtime = None

    def __enter__(self) -> TensorRTEngine:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
