"""Checking engines against their EngineSpec: output names, batch shapes, spec equality, JSON form."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable

import torch

from streamer.backends.base import EngineSpec, Task
from streamer.engine_registry import PRECISIONS, spoken
from streamer.errors import ConfigError, ModelError
from streamer.models.store import ModelManifest
from streamer.types import QUALITY_CAUSES

OUTPUT_NAMES: dict[str, tuple[str, ...]] = {
    "classifier": ("p_bad", "causes"),
    "detector": ("boxes", "scores"),
}
INPUT_NAME = "images"
SPEC_METADATA_KEY = "streamer.spec"  # ONNX metadata entry holding the spec as JSON
IDENTITY_FIELDS: tuple[str, ...] = ("name", "task", "classes", "input_size", "mean", "std", "source_sha256")


def output_names(task: Task) -> tuple[str, ...]:
    """The output names an engine of `task` returns, in order."""
    if task not in OUTPUT_NAMES:
        raise ModelError(f"unknown model task {task!r}; expected one of {sorted(OUTPUT_NAMES)}")
    return OUTPUT_NAMES[task]


def spec_to_json(spec: EngineSpec) -> str:
    """The spec as a JSON object string (tuples become lists)."""
    return json.dumps(dataclasses.asdict(spec), sort_keys=True)


def spec_from_json(text: str) -> EngineSpec:
    """Inverse of `spec_to_json`; a malformed text raises ModelError."""
    try:
        fields = json.loads(text)
        return EngineSpec(
            name=str(fields["name"]),
            task=fields["task"],
            classes=tuple(fields["classes"]),
            input_size=(int(fields["input_size"][0]), int(fields["input_size"][1])),
            max_batch=int(fields["max_batch"]),
            mean=tuple(float(v) for v in fields["mean"]),  # type: ignore[arg-type]
            std=tuple(float(v) for v in fields["std"]),  # type: ignore[arg-type]
            precision=fields["precision"],
            source_sha256=str(fields["source_sha256"]),
            level_sizes=tuple(int(v) for v in fields.get("level_sizes", ())),
            score_thresholds=tuple(float(v) for v in fields.get("score_thresholds", ())),
        )
    except (ValueError, KeyError, TypeError, IndexError) as error:
        raise ModelError(f"malformed engine spec {text[:80]!r}: {error}") from error


def spec_differences(actual: EngineSpec, expected: EngineSpec, fields: Iterable[str]) -> list[str]:
    """Human-readable `field: actual != expected` for each of `fields` that differs."""
    differences = []
    for field in fields:
        have, want = getattr(actual, field), getattr(expected, field)
        if have != want:
            differences.append(f"{field}: {have!r} != {want!r}")
    return differences


def require_same_model(
    actual: EngineSpec, expected: EngineSpec, *, what: str, fields: tuple[str, ...] = IDENTITY_FIELDS
) -> None:
    """Raise ModelError when `actual` (read from `what`) describes another model than `expected`."""
    differences = spec_differences(actual, expected, fields)
    if differences:
        raise ModelError(f"{what} does not match model {expected.name!r}: " + "; ".join(differences))


def require_spec(
    spec: EngineSpec,
    *,
    task: Task | None = None,
    classes: tuple[str, ...] | None = None,
    input_size: tuple[int, int] | None = None,
) -> None:
    """Raise ModelError when the engine's spec is not what the caller needs (None = any)."""
    problems = []
    if task is not None and spec.task != task:
        problems.append(f"task is {spec.task!r}, need {task!r}")
    if classes is not None and spec.classes != classes:
        problems.append(f"classes are {list(spec.classes)}, need {list(classes)}")
    if input_size is not None and spec.input_size != input_size:
        problems.append(f"input size is {spec.input_size}, need {input_size}")
    if problems:
        raise ModelError(f"model {spec.name!r} cannot be used here: " + "; ".join(problems))


def check_batch(spec: EngineSpec, batch: torch.Tensor) -> None:
    """ModelError unless `batch` is (B, 3, H, W) float32, 1 <= B <= max_batch, (H, W) = input_size."""
    height, width = spec.input_size
    shape = tuple(batch.shape)
    if (
        batch.ndim != 4
        or shape[1:] != (3, height, width)
        or not 1 <= shape[0] <= spec.max_batch
        or batch.dtype != torch.float32
    ):
        raise ModelError(
            f"engine {spec.name!r} takes (1..{spec.max_batch}, 3, {height}, {width}) float32 batches, "
            f"got {shape} {batch.dtype}"
        )


def check_outputs(spec: EngineSpec, outputs: dict[str, torch.Tensor], batch_size: int) -> None:
    """Raise ModelError unless `outputs` follow the engine output contract of `spec.task` (see base.py)."""
    names = output_names(spec.task)
    if sorted(outputs) != sorted(names):
        raise ModelError(f"model {spec.name!r} returns outputs {list(outputs)}, expected {list(names)}")
    if spec.task == "classifier":
        expected_shapes = {"p_bad": (batch_size,), "causes": (batch_size, len(QUALITY_CAUSES))}
    else:
        anchors = outputs["boxes"].shape[1] if outputs["boxes"].ndim == 3 else -1
        expected_shapes = {
            "boxes": (batch_size, anchors, 4),
            "scores": (batch_size, anchors, len(spec.classes)),
        }
    for name, shape in expected_shapes.items():
        if tuple(outputs[name].shape) != shape:
            found = tuple(outputs[name].shape)
            raise ModelError(f"model {spec.name!r} output {name!r} has shape {found}, expected {shape}")


def with_precision(spec: EngineSpec, precision: str, max_batch: int) -> EngineSpec:
    """A copy of `spec` for an engine built at `precision` for batches up to `max_batch`."""
    if precision not in PRECISIONS:
        raise ConfigError(f"unknown precision {precision!r}; expected {spoken(PRECISIONS)}")
    if max_batch < 1:
        raise ConfigError(f"max_batch must be >= 1, got {max_batch}")
    return dataclasses.replace(spec, precision=precision, max_batch=max_batch)  # type: ignore[arg-type]


def engine_spec(manifest: ModelManifest, *, max_batch: int = 8) -> EngineSpec:
    """The EngineSpec of a manifest (source_sha256 is the weights' hash)."""
    return EngineSpec(
        name=manifest.name,
        task=manifest.task,  # type: ignore[arg-type]
        classes=manifest.classes,
        input_size=manifest.input_size,
        max_batch=max_batch,
        mean=manifest.mean,  # type: ignore[arg-type]
        std=manifest.std,  # type: ignore[arg-type]
        source_sha256=manifest.sha256,
        level_sizes=manifest.level_sizes or (),
        score_thresholds=manifest.score_thresholds,
    )
