"""load_engine: a model folder (or a bare .pt / .onnx with its manifest) in, a ready Engine out.

Backend choice (`auto`): TensorRT on CUDA when it imports, else torch on CUDA, else onnxruntime on CPU.
Built artefacts (onnxruntime's optimised graph, TensorRT plans, exports of models shipped without ONNX)
live in the engine cache, so a second start does not build again.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Literal

import onnx
import onnxruntime as ort
import torch
from google.protobuf.message import DecodeError

from streamer.backends.base import Engine, EngineSpec, Task
from streamer.backends.cache import CacheKey, EngineCache, device_identity
from streamer.backends.export import export_onnx
from streamer.backends.onnxruntime_engine import OnnxRuntimeEngine
from streamer.backends.spec import (
    IDENTITY_FIELDS,
    SPEC_METADATA_KEY,
    engine_spec,
    require_same_model,
    require_spec,
    spec_from_json,
    with_precision,
)
from streamer.backends.tensorrt_engine import TensorRTEngine, build_plan, tensorrt_version
from streamer.backends.torch_engine import TorchEngine
from streamer.engine_registry import BACKEND_CHOICES, BACKENDS, engine_builder, spoken
from streamer.errors import ConfigError, ModelError, warn
from streamer.models.store import ModelManifest, load_manifest, load_model, sha256_of

BackendChoice = Literal["auto", "torch", "onnxruntime", "tensorrt"]
INT8_ONNX_NAME = "model.int8.onnx"
ORT_OPTIMISED_NAME = "model.ort.onnx"
EXPORTED_NAME = "model.onnx"
PLAN_NAME = "engine.plan"


def resolve_device(device: str | torch.device) -> torch.device:
    """A torch.device for "cpu", "cuda" or "cuda:N"; ConfigError when it does not exist here."""
    try:
        resolved = torch.device(device)
    except RuntimeError as error:
        raise ConfigError(f"unknown device {device!r}; use cpu, cuda or cuda:N") from error
    if resolved.type not in ("cpu", "cuda"):
        raise ConfigError(f"unsupported device {device!r}; use cpu, cuda or cuda:N")
    if resolved.type == "cuda":
        if not torch.cuda.is_available():
            raise ConfigError(f"device {device!r} requested but torch sees no CUDA device")
        if (resolved.index or 0) >= torch.cuda.device_count():
            raise ConfigError(
                f"device {device!r} requested but only {torch.cuda.device_count()} CUDA device(s)"
            )
    return resolved


def select_backend(backend: str, device: torch.device) -> str:
    """The backend to run: `backend` itself, or for "auto" the best one for `device`."""
    if backend == "auto":
        if device.type == "cuda":
            return "tensorrt" if tensorrt_version() is not None else "torch"
        return "onnxruntime"
    if backend not in BACKENDS:
        raise ConfigError(f"unknown backend {backend!r}; choose {spoken(BACKEND_CHOICES)}")
    if backend == "tensorrt" and device.type != "cuda":
        raise ConfigError("the tensorrt backend runs on CUDA only; use --device cuda or another backend")
    return backend


@dataclasses.dataclass(frozen=True)
class ModelSource:
    """A model as found on disk: where it was named, its manifest and its fp32 spec."""

    location: Path
    manifest: ModelManifest
    spec: EngineSpec

    @property
    def folder(self) -> Path:
        return self.manifest.weights_path.parent

    @property
    def int8_path(self) -> Path:
        return self.folder / INT8_ONNX_NAME

    @classmethod
    def open(cls, model: str | Path, max_batch: int) -> ModelSource:
        manifest = load_manifest(model)
        return cls(Path(model), manifest, with_precision(engine_spec(manifest), "fp32", max_batch))


def embedded_spec(onnx_path: Path) -> EngineSpec | None:
    """The EngineSpec stored in an ONNX file's metadata by export/quantise, or None."""
    try:
        model = onnx.load(onnx_path, load_external_data=False)
    except (OSError, DecodeError, ValueError) as error:
        raise ModelError(f"cannot read ONNX model {onnx_path}: {error}") from error
    for prop in model.metadata_props:
        if prop.key == SPEC_METADATA_KEY:
            return spec_from_json(prop.value)
    return None


def fp32_onnx(source: ModelSource, cache: EngineCache) -> Path:
    """The model's fp32 ONNX file: the shipped one (hash verified), else an export kept in the cache."""
    manifest = source.manifest
    if manifest.onnx_path is not None and manifest.onnx_path.is_file():
        if manifest.onnx_sha256 and sha256_of(manifest.onnx_path) != manifest.onnx_sha256:
            raise ModelError(
                f"{manifest.onnx_path} does not match the sha256 in its manifest; re-export the model"
            )
        return manifest.onnx_path
    key = CacheKey(
        model_sha256=manifest.sha256,
        backend="onnx-export",
        backend_version=torch.__version__,
        device_name="any",
        compute_capability="any",
        precision="fp32",
        batch_range=(1, source.spec.max_batch),
        input_size=source.spec.input_size,
    )
    entry = cache.lookup(key)
    if entry is None:
        model, _ = load_model(source.location)
        with cache.staging_folder() as staging:
            export_onnx(model, source.spec, staging / EXPORTED_NAME)
            entry = cache.store(key, {EXPORTED_NAME: staging / EXPORTED_NAME})
    return entry / EXPORTED_NAME


def model_onnx(source: ModelSource, precision: str, cache: EngineCache) -> Path:
    """The ONNX file an engine of `precision` is built from (the QDQ model for int8), spec-checked."""
    if precision == "int8":
        path = source.int8_path
        if not path.is_file():
            name, folder = source.spec.name, source.folder
            raise ModelError(f"model {name!r} has no INT8 model ({path}); run `streamer calibrate {folder}`")
    else:
        path = fp32_onnx(source, cache)
    found = embedded_spec(path)
    if found is not None:
        fields = (*IDENTITY_FIELDS, "precision") if precision == "int8" else IDENTITY_FIELDS
        expected = dataclasses.replace(source.spec, precision=precision)  # type: ignore[arg-type]
        require_same_model(found, expected, what=str(path), fields=fields)
    return path


def build_torch_engine(
    source: ModelSource, spec: EngineSpec, device: torch.device, cache: EngineCache, threads: int | None
) -> TorchEngine:
    """The model's torch module (threads and cache unused: torch builds nothing ahead)."""
    module, _ = load_model(source.location)
    return TorchEngine(module, spec, device=device)


def build_onnxruntime_engine(
    source: ModelSource, spec: EngineSpec, device: torch.device, cache: EngineCache, threads: int | None
) -> OnnxRuntimeEngine:
    """onnxruntime on CPU keeps its optimised graph in the cache; on CUDA the TensorRT provider its plans."""
    onnx_path = model_onnx(source, spec.precision, cache)
    name, capability = device_identity(device)
    key = CacheKey(
        model_sha256=sha256_of(onnx_path),
        backend="onnxruntime",
        backend_version=ort.__version__,
        device_name=name,
        compute_capability=capability,
        precision=spec.precision,
        batch_range=(1, spec.max_batch),
        input_size=spec.input_size,
    )
    if device.type == "cuda":
        trt_cache = cache.folder(key)
        trt_cache.mkdir(parents=True, exist_ok=True)
        return OnnxRuntimeEngine(onnx_path, spec, device=device, threads=threads, trt_cache_dir=trt_cache)
    entry = cache.lookup(key)
    if entry is not None:
        try:
            return OnnxRuntimeEngine(entry / ORT_OPTIMISED_NAME, spec, threads=threads, optimize=False)
        except ModelError as error:
            warn(f"cached engine {entry} cannot be loaded ({error}); rebuilding it")
    with cache.staging_folder() as staging:
        OnnxRuntimeEngine(
            onnx_path, spec, threads=threads, optimized_model_out=staging / ORT_OPTIMISED_NAME
        ).close()
        entry = cache.store(key, {ORT_OPTIMISED_NAME: staging / ORT_OPTIMISED_NAME})
    return OnnxRuntimeEngine(entry / ORT_OPTIMISED_NAME, spec, threads=threads, optimize=False)


def build_tensorrt_engine(
    source: ModelSource, spec: EngineSpec, device: torch.device, cache: EngineCache, threads: int | None
) -> TensorRTEngine:
    """A TensorRT engine from the cache, or built (with the shared timing cache) and stored there."""
    onnx_path = model_onnx(source, spec.precision, cache)
    name, capability = device_identity(device)
    version = tensorrt_version() or "missing"
    key = CacheKey(
        model_sha256=sha256_of(onnx_path),
        backend="tensorrt",
        backend_version=version,
        device_name=name,
        compute_capability=capability,
        precision=spec.precision,
        batch_range=(1, spec.max_batch),
        input_size=spec.input_size,
    )
    entry = cache.lookup(key)
    if entry is not None:
        try:
            return TensorRTEngine((entry / PLAN_NAME).read_bytes(), spec, device=device)
        except ModelError as error:
            warn(f"cached TensorRT engine {entry} cannot be loaded ({error}); rebuilding it")
    timing_path = cache.root / f"tensorrt-{version}-sm{capability}.timing"
    timing = timing_path.read_bytes() if timing_path.is_file() else b""
    with torch.cuda.device(device):
        plan, timing = build_plan(onnx_path, spec, timing_cache=timing)
    with cache.staging_folder() as staging:
        (staging / PLAN_NAME).write_bytes(plan)
        entry = cache.store(key, {PLAN_NAME: staging / PLAN_NAME})
    timing_path.write_bytes(timing)
    return TensorRTEngine(plan, spec, device=device)


def load_engine(
    model: str | Path,
    *,
    backend: BackendChoice = "auto",
    device: str | torch.device = "cpu",
    precision: str = "fp32",
    max_batch: int = 8,
    threads: int | None = None,
    cache_dir: Path | None = None,
    task: Task | None = None,
    classes: tuple[str, ...] | None = None,
) -> Engine:
    """Load `model` (folder, manifest.json, or bare .pt/.onnx beside its manifest) as a ready Engine.

    backend: "auto" = tensorrt on CUDA if importable, else torch on CUDA, else onnxruntime on CPU;
    precision: fp32, fp16, bf16 (torch, tensorrt) or int8 (onnxruntime, tensorrt; needs `streamer calibrate`);
    max_batch: largest batch accepted; threads: onnxruntime intra-op threads (default: physical cores);
    task / classes: what the caller needs; another model raises ModelError.
    The engine's `spec.precision`, `backend` and `device` tell what runs.
    """
    resolved = resolve_device(device)
    chosen = select_backend(backend, resolved)
    source = ModelSource.open(model, max_batch)
    require_spec(source.spec, task=task, classes=classes)
    spec = with_precision(source.spec, precision, max_batch)
    build = engine_builder(chosen)
    return build(source, spec, resolved, EngineCache(cache_dir), threads)
