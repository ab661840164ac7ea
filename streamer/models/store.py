"""Model store: folders `engines/<name>/` with manifest.json, model.pt (state_dict), model.onnx, MODEL_CARD.md

manifest.json holds: name, task ("detector" | "classifier"), architecture ({"builder": "retinanet" |
"classifier", ...keyword arguments of the builder}), classes, input_size [H, W], mean, std (per channel on
RGB scaled to [0, 1]), weights (file name), sha256 (of the weights), onnx (file name or null), onnx_sha256,
metrics.

A model can be named by its folder, by its manifest.json, or by a bare weight file (`.pt`) or ONNX file
(`.onnx`) that has a manifest beside it: `<stem>.json` next to the file, else `manifest.json` in the same
folder. A bare file replaces the manifest's `weights` (or `onnx`) entry; its hash must still match.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from streamer.errors import ModelError
from streamer.models.anchors import AnchorGenerator
from streamer.models.classifier import classifier
from streamer.models.retinanet import retinanet

MANIFEST_NAME = "manifest.json"
WEIGHTS_NAME = "model.pt"
ONNX_NAME = "model.onnx"
BUILDERS: dict[str, Callable[..., nn.Module]] = {"retinanet": retinanet, "classifier": classifier}
TASK_OF_BUILDER: dict[str, str] = {"retinanet": "detector", "classifier": "classifier"}


@dataclass(frozen=True)
class ModelManifest:
    """A parsed manifest.json; `weights_path`, `onnx_path` (or None) are resolved absolute paths."""

    name: str
    task: str
    architecture: Mapping[str, Any]
    classes: tuple[str, ...]
    input_size: tuple[int, int]
    mean: tuple[float, float, float]
    std: tuple[float, float, float]
    sha256: str
    weights_path: Path
    onnx_path: Path | None = None
    onnx_sha256: str | None = None
    metrics: Mapping[str, Any] = field(default_factory=dict)
    manifest_path: Path | None = None
    score_thresholds: tuple[float, ...] = ()  # detectors: per class; classifiers: (p_bad threshold,)

    @property
    def level_sizes(self) -> tuple[int, ...] | None:
        """A detector's anchors per FPN level P3..P7 in output order; None for other models."""
        if self.architecture.get("builder") != "retinanet":
            return None
        return tuple(AnchorGenerator().level_sizes(self.input_size))


def _score_thresholds(raw: Mapping[str, Any], manifest_path: Path) -> tuple[float, ...]:
    """The manifest's `score_thresholds` in class order: {class: threshold} for a detector, {"bad": p_bad
    threshold} for a classifier (a 1-tuple); () when absent."""
    table = raw.get("score_thresholds")
    if not table:
        return ()
    classes = ["bad"] if raw.get("task") == "classifier" else [str(c) for c in raw["classes"]]
    if not isinstance(table, dict) or set(table) != set(classes):
        raise ModelError(f"{manifest_path}: score_thresholds must give one threshold for each class")
    return tuple(float(table[name]) for name in classes)


def sha256_of(path: Path) -> str:
    """Hex sha256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _manifest_location(path: Path) -> tuple[Path, Path | None]:
    """(manifest file, bare model file or None) for a folder, a manifest or a bare .pt/.onnx file."""
    if path.is_dir():
        return path / MANIFEST_NAME, None
    if path.suffix == ".json":
        return path, None
    if path.suffix in (".pt", ".onnx"):
        beside = path.with_suffix(".json")
        return (beside if beside.is_file() else path.parent / MANIFEST_NAME), path
    raise ModelError(f"{path}: not a model folder, manifest.json, .pt or .onnx file")


def load_manifest(path_or_dir: str | Path) -> ModelManifest:
    """Read and validate the manifest of a model folder, manifest file or bare .pt/.onnx file."""
    path = Path(path_or_dir)
    if not path.exists():
        raise ModelError(f"model not found: {path}")
    manifest_path, bare_file = _manifest_location(path)
    if not manifest_path.is_file():
        raise ModelError(f"{path}: no manifest found (looked for {manifest_path})")
    try:
        raw = json.loads(manifest_path.read_text())
    except (OSError, json.JSONDecodeError) as error:
        raise ModelError(f"{manifest_path}: unreadable manifest ({error})") from error
    required = ("name", "task", "architecture", "classes", "input_size", "mean", "std", "weights", "sha256")
    missing = [key for key in required if key not in raw]
    if missing:
        raise ModelError(f"{manifest_path}: manifest lacks {', '.join(missing)}")
    builder = raw["architecture"].get("builder") if isinstance(raw["architecture"], dict) else None
    if builder not in BUILDERS:
        known = ", ".join(BUILDERS)
        raise ModelError(f"{manifest_path}: unknown architecture builder {builder!r}; known: {known}")
    if raw["task"] != TASK_OF_BUILDER[builder]:
        raise ModelError(f"{manifest_path}: task {raw['task']!r} does not match builder {builder!r}")
    folder = manifest_path.parent
    weights_path = folder / raw["weights"]
    onnx_path = folder / raw["onnx"] if raw.get("onnx") else None
    if bare_file is not None and bare_file.suffix == ".pt":
        weights_path = bare_file
    elif bare_file is not None:
        onnx_path = bare_file
    try:
        return ModelManifest(
            name=str(raw["name"]),
            task=str(raw["task"]),
            architecture=dict(raw["architecture"]),
            classes=tuple(str(c) for c in raw["classes"]),
            input_size=(int(raw["input_size"][0]), int(raw["input_size"][1])),
            mean=tuple(float(v) for v in raw["mean"]),
            std=tuple(float(v) for v in raw["std"]),
            sha256=str(raw["sha256"]),
            weights_path=weights_path.resolve(),
            onnx_path=onnx_path.resolve() if onnx_path else None,
            onnx_sha256=raw.get("onnx_sha256"),
            metrics=dict(raw.get("metrics", {})),
            manifest_path=manifest_path.resolve(),
            score_thresholds=_score_thresholds(raw, manifest_path),
        )
    except (TypeError, ValueError, IndexError) as error:
        raise ModelError(f"{manifest_path}: malformed manifest field ({error})") from error


def build_model(architecture: Mapping[str, Any]) -> nn.Module:
    """An untrained model from an architecture mapping {"builder": name, ...builder keyword arguments}."""
    kwargs = dict(architecture)
    builder = kwargs.pop("builder", None)
    if builder not in BUILDERS:
        raise ModelError(f"unknown architecture builder {builder!r}; known: {', '.join(BUILDERS)}")
    try:
        return BUILDERS[builder](**kwargs)
    except TypeError as error:
        raise ModelError(f"architecture does not fit builder {builder!r}: {error}") from error


def load_model(path_or_dir: str | Path) -> tuple[nn.Module, ModelManifest]:
    """Build the model of a manifest and load its verified weights; returns (model in eval mode, manifest)."""
    manifest = load_manifest(path_or_dir)
    if not manifest.weights_path.is_file():
        raise ModelError(f"{manifest.name}: weight file missing: {manifest.weights_path}")
    actual = sha256_of(manifest.weights_path)
    if actual != manifest.sha256:
        raise ModelError(
            f"{manifest.name}: weight file {manifest.weights_path} does not match its manifest "
            f"(sha256 {actual[:12]}…, expected {manifest.sha256[:12]}…); the file is corrupt or was replaced"
        )
    model = build_model(manifest.architecture)
    try:
        state = torch.load(manifest.weights_path, map_location="cpu", weights_only=True)
        model.load_state_dict(state)
    except (RuntimeError, OSError, ValueError) as error:
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise ModelError(f"{manifest.name}: weights do not fit the architecture ({first_line})") from error
    return model.eval(), manifest


def verified_onnx_path(manifest: ModelManifest) -> Path:
    """The manifest's ONNX file after checking that it exists and matches onnx_sha256 (ModelError if not)."""
    if manifest.onnx_path is None:
        raise ModelError(f"{manifest.name}: the manifest names no ONNX file")
    if not manifest.onnx_path.is_file():
        raise ModelError(f"{manifest.name}: ONNX file missing: {manifest.onnx_path}")
    actual = sha256_of(manifest.onnx_path)
    if manifest.onnx_sha256 and actual != manifest.onnx_sha256:
        raise ModelError(
            f"{manifest.name}: ONNX file {manifest.onnx_path} does not match its manifest "
            f"(sha256 {actual[:12]}…, expected {manifest.onnx_sha256[:12]}…)"
        )
    return manifest.onnx_path


def save_model(model: nn.Module, manifest_fields: Mapping[str, Any], out_dir: str | Path) -> ModelManifest:
    """Write model.pt (state_dict) and manifest.json into `out_dir`; returns the written manifest.

    manifest_fields: every manifest key except weights and sha256 (computed here); "onnx" and
    "onnx_sha256" are kept only if that ONNX file exists in `out_dir`.
    """
    folder = Path(out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    weights_path = folder / WEIGHTS_NAME
    torch.save(model.state_dict(), weights_path)
    fields = dict(manifest_fields)
    fields["weights"] = WEIGHTS_NAME
    fields["sha256"] = sha256_of(weights_path)
    onnx_name = fields.get("onnx")
    if onnx_name and (folder / onnx_name).is_file():
        fields["onnx_sha256"] = sha256_of(folder / onnx_name)
    else:
        fields["onnx"] = None
        fields["onnx_sha256"] = None
    fields.setdefault("metrics", {})
    (folder / MANIFEST_NAME).write_text(json.dumps(fields, indent=2) + "\n")
    return load_manifest(folder)


def update_manifest(out_dir: str | Path, **updates: Any) -> ModelManifest:
    """Merge `updates` into an existing manifest.json (e.g. onnx, onnx_sha256, metrics) and rewrite it."""
    path = Path(out_dir) / MANIFEST_NAME
    raw = json.loads(path.read_text())
    raw.update(updates)
    path.write_text(json.dumps(raw, indent=2) + "\n")
    return load_manifest(path)
