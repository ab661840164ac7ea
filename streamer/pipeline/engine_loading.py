"""Resolve model names of a profile to engines: shipped folders in engines/, paths, or `noop`/`none`."""

from __future__ import annotations

from pathlib import Path

from streamer.backends.base import Engine, Task
from streamer.backends.mirrored import MirroredEngine
from streamer.backends.noop import NoopEngine
from streamer.classical.engine import ClassicalDetectorEngine
from streamer.config import RunConfig
from streamer.errors import ModelError
from streamer.models.untrained import is_untrained, materialize_untrained
from streamer.paths import ENGINES_DIR
from streamer.quality.classical_engine import ClassicalQualityEngine
from streamer.types import EAD2019_CLASSES

NO_MODEL = "none"
NOOP_MODEL = "noop"
CLASSICAL_MODEL = "classical"
BUILT_IN_MODELS = (NOOP_MODEL, CLASSICAL_MODEL)
DEFAULT_MAX_BATCH = 8


def engine_max_batch(batch: int) -> int:
    """The batch range engines are built for: at least DEFAULT_MAX_BATCH, so that `streamer build` and runs
    with any smaller --batch share one cached engine."""
    return max(DEFAULT_MAX_BATCH, batch)


def resolve_model_path(name: str) -> Path:
    """A shipped model name (folder under engines/), `untrained:NAME`, or a path to a model folder or file."""
    if is_untrained(name):
        return materialize_untrained(name)
    shipped = ENGINES_DIR / name
    if shipped.exists():
        return shipped
    path = Path(name)
    if path.exists():
        return path
    if path.name == name:
        raise ModelError(f"model not found: {name} (neither a shipped model in engines/ nor a path)")
    raise ModelError(f"model not found: {name}")


def load_one(name: str, task: Task, config: RunConfig, classes: tuple[str, ...] = EAD2019_CLASSES) -> Engine:
    """Load one engine for `task` on the configured backend and device; `classes`: the class list that
    the classical and noop detectors take (learned models bring their own)."""
    if name == NOOP_MODEL:
        return NoopEngine(task, config.device, classes)
    if name == CLASSICAL_MODEL:
        if task == "classifier":
            return ClassicalQualityEngine(config.device)
        return ClassicalDetectorEngine(config.device, classes)
    path = resolve_model_path(name)
    from streamer.backends.factory import load_engine

    engine = load_engine(
        path,
        backend=config.backend,
        device=config.device,
        precision=config.precision,
        max_batch=engine_max_batch(config.batch),
        threads=config.engine_threads,
    )
    if engine.spec.task != task:
        raise ModelError(f"{name} is a {engine.spec.task}, expected a {task}")
    return engine


def load_classifier(config: RunConfig) -> Engine | None:
    """The quality classifier engine, or None when the profile gates nothing (`none`)."""
    if config.quality.model == NO_MODEL:
        return None
    return load_one(config.quality.model, "classifier", config)


def load_detectors(config: RunConfig) -> list[Engine]:
    """The detector engines of the profile, in ensemble order (best first), each learned model followed by
    its mirrored views (`[detector] mirrors`). The learned models' class list (they must agree) is the
    run's; the classical and noop detectors follow it."""
    names = config.detector.models
    if not names:
        raise ModelError("the profile names no detector")
    learned = {name: load_one(name, "detector", config) for name in names if name not in BUILT_IN_MODELS}
    class_lists = {engine.spec.classes for engine in learned.values()}
    if len(class_lists) > 1:
        for engine in learned.values():
            engine.close()
        described = "; ".join(f"{name}: {', '.join(e.spec.classes)}" for name, e in learned.items())
        raise ModelError(f"the detectors of one run must share their classes ({described})")
    classes = class_lists.pop() if class_lists else EAD2019_CLASSES
    members: list[Engine] = []
    for name in names:
        if name not in learned:
            members.append(load_one(name, "detector", config, classes))
            continue
        members.append(learned[name])
        members.extend(MirroredEngine(learned[name], mirror) for mirror in config.detector.mirrors)
    return members


def profile_model_paths(config: RunConfig) -> list[Path]:
    """Files or folders of the learned models a profile runs (not noop, classical or none)."""
    names = [config.quality.model, *config.detector.models]
    return [resolve_model_path(n) for n in names if n not in (NO_MODEL, NOOP_MODEL, CLASSICAL_MODEL)]


def describe_engine(engine: Engine) -> dict[str, object]:
    """Name, backend, device, precision and source hash, for summaries and reports."""
    return {
        "name": engine.spec.name,
        "backend": engine.backend,
        "device": str(engine.device),
        "precision": engine.spec.precision,
        "input_size": list(engine.spec.input_size),
        "sha256": engine.spec.source_sha256,
    }
