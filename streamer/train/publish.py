"""Write a trained model to a model folder: weights + manifest, then the ONNX export and its hash."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from torch import nn

from streamer.backends.export import export_onnx
from streamer.backends.spec import engine_spec
from streamer.models.store import (
    ONNX_NAME,
    ModelManifest,
    save_model,
    sha256_of,
    update_manifest,
)


def publish_model(model: nn.Module, manifest_fields: Mapping[str, Any], output: Path) -> ModelManifest:
    """Save `model` (eval mode) and its manifest into `output`, export model.onnx, record its sha256."""
    model.eval()
    manifest = save_model(model, {**manifest_fields, "onnx": ONNX_NAME}, output)
    onnx_path = Path(output) / ONNX_NAME
    export_onnx(model, engine_spec(manifest), onnx_path)
    return update_manifest(output, onnx=ONNX_NAME, onnx_sha256=sha256_of(onnx_path))
