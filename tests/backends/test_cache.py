"""Engine cache: keys change with every field; stale and corrupt entries are rebuilt, never loaded."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
import torch

from streamer.backends.cache import ENTRY_FILE, CacheKey, EngineCache, device_identity
from streamer.backends.factory import ORT_OPTIMISED_NAME, load_engine

BASE_KEY = CacheKey(
    model_sha256="a" * 64,
    backend="onnxruntime",
    backend_version="1.32.0",
    device_name="AMD EPYC",
    compute_capability="x86_64-0000",
    precision="fp32",
    batch_range=(1, 8),
    input_size=(512, 512),
)
CHANGED_FIELDS = {
    "model_sha256": "b" * 64,
    "backend": "tensorrt",
    "backend_version": "1.33.0",
    "device_name": "NVIDIA H100",
    "compute_capability": "9.0",
    "precision": "int8",
    "batch_range": (1, 16),
    "input_size": (640, 640),
}


@pytest.mark.parametrize("field", sorted(CHANGED_FIELDS))
def test_key_changes_with_each_field(field: str) -> None:
    changed = dataclasses.replace(BASE_KEY, **{field: CHANGED_FIELDS[field]})
    assert changed.digest() != BASE_KEY.digest()
    assert changed.folder_name() != BASE_KEY.folder_name()


def test_key_is_stable() -> None:
    assert BASE_KEY.digest() == dataclasses.replace(BASE_KEY).digest()
    assert set(CHANGED_FIELDS) == {f.name for f in dataclasses.fields(CacheKey)}


def test_cpu_identity_names_the_instruction_set() -> None:
    name, capability = device_identity(torch.device("cpu"))
    assert name and capability.count("-") == 1


def _stored(cache: EngineCache, tmp_path: Path, payload: bytes = b"plan bytes") -> Path:
    built = tmp_path / "built.bin"
    built.write_bytes(payload)
    return cache.store(BASE_KEY, {"engine.bin": built})


def test_store_then_lookup(tmp_path: Path) -> None:
    cache = EngineCache(tmp_path / "cache")
    folder = _stored(cache, tmp_path)
    assert cache.lookup(BASE_KEY) == folder
    assert (folder / "engine.bin").read_bytes() == b"plan bytes"
    assert cache.lookup(dataclasses.replace(BASE_KEY, precision="fp16")) is None


@pytest.mark.parametrize(
    ("damage", "problem"),
    [
        (lambda folder: (folder / "engine.bin").write_bytes(b"plan bytez"), "corrupt"),
        (lambda folder: (folder / "engine.bin").unlink(), "corrupt"),
        (lambda folder: (folder / ENTRY_FILE).write_text("{not json"), "corrupt"),
        (
            lambda folder: (folder / ENTRY_FILE).write_text(
                json.dumps({"key": {**BASE_KEY.as_json(), "backend_version": "0.1"}, "files": {}})
            ),
            "stale",
        ),
    ],
)
def test_damaged_entry_is_rejected_with_a_warning(tmp_path: Path, damage, problem: str, capsys) -> None:
    cache = EngineCache(tmp_path / "cache")
    folder = _stored(cache, tmp_path)
    damage(folder)
    assert cache.lookup(BASE_KEY) is None
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith("streamer: warning: engine cache entry") and problem in line
    assert not folder.exists()


def test_corrupt_cached_engine_is_rebuilt(lite_classifier_folder: Path, tmp_path: Path, capsys) -> None:
    cache_dir = tmp_path / "cache"
    with load_engine(lite_classifier_folder, cache_dir=cache_dir, max_batch=2):
        pass
    (entry,) = [p for p in cache_dir.iterdir() if p.name.startswith("onnxruntime-")]
    (entry / ORT_OPTIMISED_NAME).write_bytes(b"\x00garbage")
    capsys.readouterr()
    engine = load_engine(lite_classifier_folder, cache_dir=cache_dir, max_batch=2)
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith("streamer: warning: ") and "corrupt" in line
    with engine:
        height, width = engine.spec.input_size
        assert engine.infer(torch.zeros(2, 3, height, width))["p_bad"].shape == (2,)
    assert EngineCache(cache_dir).lookup(_only_key(entry)) is not None


def _only_key(entry: Path) -> CacheKey:
    fields = json.loads((entry / ENTRY_FILE).read_text())["key"]
    return CacheKey(
        **{**fields, "batch_range": tuple(fields["batch_range"]), "input_size": tuple(fields["input_size"])}
    )


def test_every_backend_name_has_a_builder_and_unknown_names_say_the_choices() -> None:
    from streamer.backends.factory import select_backend
    from streamer.engine_registry import BACKENDS, engine_builder
    from streamer.errors import ConfigError

    assert all(callable(engine_builder(name)) for name in BACKENDS)
    with pytest.raises(ConfigError, match="choose auto, torch, onnxruntime or tensorrt"):
        select_backend("openvino", torch.device("cpu"))
