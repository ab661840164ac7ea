"""Run configuration: one frozen dataclass per stage, loaded from a TOML profile and overridden by CLI flags.

Profiles live in `streamer/profiles/NAME.toml`; each top-level table names a stage
(`capture`, `preprocess`, `quality`, `detector`, `fusion`, `output`); `fusion` takes every field of
streamer.fusion.FusionConfig.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field, fields, replace
from enum import Enum, StrEnum
from pathlib import Path
from types import UnionType
from typing import Any, Literal, Union, get_args, get_origin, get_type_hints

from streamer.engine_registry import BACKEND_CHOICES, PRECISIONS, spoken
from streamer.errors import ConfigError
from streamer.fusion import FusionConfig
from streamer.preprocessing import FOV_THRESHOLD
from streamer.sinks.registry import check_output_names

PROFILES_DIR = Path(__file__).resolve().parent / "profiles"

BackendName = Literal["auto", "torch", "onnxruntime", "tensorrt"]
PrecisionName = Literal["fp32", "fp16", "bf16", "int8"]
DeviceName = Literal["cpu", "cuda"]


class BadFramePolicy(StrEnum):
    """What the live window shows for a bad frame: `mark` it with a red badge, or `drop` it."""

    MARK = "mark"
    DROP = "drop"


class CaptureBackend(StrEnum):
    PYAV = "pyav"
    OPENCV = "opencv"


@dataclass(frozen=True)
class CaptureConfig:
    """Source reading. Timeouts in seconds; `reconnect` = attempts after a live stream fails."""

    backend: CaptureBackend = CaptureBackend.PYAV
    open_timeout_s: float = 10.0
    read_timeout_s: float = 5.0
    reconnect: int = 3
    reconnect_backoff_s: float = 0.5
    queue_size: int = 8  # frames waiting for inference, files (lossless)
    live_queue_size: int = 2  # live sources: older frames are dropped, so latency stays within ~2 frames
    max_frames: int | None = None
    realtime: bool = False  # pace a file at its frame rate, as a capture card would deliver it

    def __post_init__(self) -> None:
        _at_least("capture open_timeout_s", self.open_timeout_s, 0.0, strict=True)
        _at_least("capture read_timeout_s", self.read_timeout_s, 0.0, strict=True)
        _at_least("--reconnect (capture reconnect)", self.reconnect, 0)
        _at_least("capture reconnect_backoff_s", self.reconnect_backoff_s, 0.0)
        _at_least("capture queue_size", self.queue_size, 1)
        _at_least("capture live_queue_size", self.live_queue_size, 1)
        if self.max_frames is not None:
            _at_least("--max-frames", self.max_frames, 1)


@dataclass(frozen=True)
class PreprocessConfig:
    """Field-of-view crop and resize. `fov_threshold`: max RGB value (0–255) under which a pixel is border."""

    crop_fov: bool = True
    fov_threshold: int = FOV_THRESHOLD
    fov_refresh_frames: int = 25

    def __post_init__(self) -> None:
        if not 0 <= self.fov_threshold <= 255:
            raise ConfigError(f"preprocess fov_threshold must be in 0..255, got {self.fov_threshold}")
        _at_least("preprocess fov_refresh_frames", self.fov_refresh_frames, 1)


@dataclass(frozen=True)
class QualityConfig:
    """Quality gate. `model`: engine folder or file, or "none" (every frame good) or "noop" or "classical".

    threshold: bad when p_bad >= this (None: the model's own, from its manifest); on video, with
    `hysteresis`, a good sequence turns bad after `bad_after` bad frames in a row and good again after
    `good_after` good ones (image folders are judged frame by frame).
    """

    model: str = "quality-lite"
    threshold: float | None = None
    hysteresis: bool = True
    bad_after: int = 3
    good_after: int = 5

    def __post_init__(self) -> None:
        if self.threshold is not None and not 0.0 < self.threshold < 1.0:
            raise ConfigError(f"quality threshold must be in (0, 1), got {self.threshold}")
        if self.bad_after < 1 or self.good_after < 1:
            raise ConfigError(
                f"quality bad_after and good_after must be >= 1, got {self.bad_after}, {self.good_after}"
            )


@dataclass(frozen=True)
class DetectorConfig:
    """Artefact detector(s). `models`: one or several engine folders/files ("noop" for a do-nothing engine);
    `mirrors`: test-time views, each learned model also runs on the frame flipped "horizontal" and/or
    "vertical" and every view is one more ensemble member (fused like the others)."""

    models: tuple[str, ...] = ("detector-lite-e",)
    mirrors: tuple[Literal["horizontal", "vertical"], ...] = ()
    score_threshold: float | None = None  # None: each model's per-class thresholds from its manifest
    iou_threshold: float = 0.5
    max_detections: int = 100
    top_k_per_level: int = 1000

    def __post_init__(self) -> None:
        if self.score_threshold is not None and not 0.0 <= self.score_threshold <= 1.0:
            raise ConfigError(f"detector score_threshold must be in [0, 1], got {self.score_threshold}")
        if not 0.0 < self.iou_threshold <= 1.0:
            raise ConfigError(f"detector iou_threshold must be in (0, 1], got {self.iou_threshold}")
        _at_least("detector max_detections", self.max_detections, 1)
        _at_least("detector top_k_per_level", self.top_k_per_level, 1)
        if len(set(self.mirrors)) != len(self.mirrors):
            raise ConfigError(f"detector mirrors are listed twice: {list(self.mirrors)}")


@dataclass(frozen=True)
class OutputConfig:
    """What is written. `outputs`: names of `streamer.sinks.registry.SINKS` (summary.json always).

    coco: detections.coco.json (COCO, one image per processed good frame); scorer: predictions/NNNNNN.txt
    per good frame in the EAD2019 scorer's format (`class confidence x1 y1 x2 y2`)."""

    out_dir: Path = Path("out")
    outputs: tuple[str, ...] = ("annotated", "filtered", "jsonl")
    bad_frames: BadFramePolicy = BadFramePolicy.MARK
    show: bool = False
    video_preset: str = "ultrafast"
    video_crf: int = 23
    overwrite: bool = False  # replace an earlier run's outputs in out_dir instead of refusing to start

    def __post_init__(self) -> None:
        if not 0 <= self.video_crf <= 51:
            raise ConfigError(f"output video_crf must be in 0..51, got {self.video_crf}")


@dataclass(frozen=True)
class MonitorConfig:
    """The live monitor (`--serve [HOST:]PORT`): where it listens (port 0: any free port), the token that
    requests must carry (required off loopback: generated when not given) and how long the page stays up
    after a file source ends (s)."""

    host: str = "127.0.0.1"
    port: int = 8080
    token: str | None = None
    linger_s: float = 0.0

    def __post_init__(self) -> None:
        if not 0 <= self.port <= 65535:
            raise ConfigError(f"--serve port must be in 0..65535, got {self.port}")
        _at_least("--linger", self.linger_s, 0.0)


def parse_serve_address(text: str) -> tuple[str, int]:
    """(host, port) of `--serve [HOST:]PORT` ("8080", "0.0.0.0:8080", "[::1]:8080"); host 127.0.0.1 by
    default."""
    host, _, port = text.rpartition(":")
    host = host.strip("[]") or "127.0.0.1"
    try:
        return host, int(port)
    except ValueError:
        raise ConfigError(f"--serve expects [HOST:]PORT, got {text!r}") from None


MAX_BATCH = 64  # frames per inference batch; more only adds latency and memory (a 720p batch of 64: 180 MB)


def _at_least(name: str, value: float, low: float, *, strict: bool = False) -> None:
    """ConfigError unless value >= low (value > low when `strict`)."""
    if value < low or (strict and value == low):
        raise ConfigError(f"{name} must be {'>' if strict else '>='} {low}, got {value}")


@dataclass(frozen=True)
class RunConfig:
    """Everything one run needs.

    engine_threads: 1 by default because the pipeline already runs decoding, inference and two encoders
    at once; an engine with a thread pool of its own waits for cores the other stages hold, which
    doubled p99 latency live on a 2-core machine (58 ms against 29 ms: benchmarks/results/engine_threads.md).
    """

    profile: str = "lite"
    backend: BackendName = "auto"
    device: DeviceName = "cpu"
    precision: PrecisionName = "fp32"
    engine_threads: int | None = 1  # CPU threads per ONNX Runtime engine; None = one per physical core
    batch: int = 4
    batch_deadline_ms: float = 20.0
    capture: CaptureConfig = field(default_factory=CaptureConfig)
    preprocess: PreprocessConfig = field(default_factory=PreprocessConfig)
    quality: QualityConfig = field(default_factory=QualityConfig)
    detector: DetectorConfig = field(default_factory=DetectorConfig)
    fusion: FusionConfig = field(default_factory=FusionConfig)
    output: OutputConfig = field(default_factory=OutputConfig)
    monitor: MonitorConfig | None = None  # serve the live page while the run lasts

    def __post_init__(self) -> None:
        if self.engine_threads is not None and self.engine_threads < 1:
            raise ConfigError(f"engine_threads must be >= 1, got {self.engine_threads}")
        if not 1 <= self.batch <= MAX_BATCH:
            raise ConfigError(f"--batch must be in 1..{MAX_BATCH}, got {self.batch}")
        _at_least("batch_deadline_ms", self.batch_deadline_ms, 0.0)
        check_output_names(self.output.outputs)
        if self.device not in ("cpu", "cuda"):
            raise ConfigError(f"unknown device {self.device!r}; choose cpu or cuda")
        if self.precision not in PRECISIONS:
            raise ConfigError(f"unknown precision {self.precision!r}; choose {spoken(PRECISIONS)}")
        if self.backend not in BACKEND_CHOICES:
            raise ConfigError(f"unknown backend {self.backend!r}; choose {spoken(BACKEND_CHOICES)}")


_SECTIONS: dict[str, type] = {
    "capture": CaptureConfig,
    "preprocess": PreprocessConfig,
    "quality": QualityConfig,
    "detector": DetectorConfig,
    "output": OutputConfig,
}


def available_profiles() -> list[str]:
    """Names of the bundled profiles."""
    return sorted(path.stem for path in PROFILES_DIR.glob("*.toml"))


def _typed(value: Any, annotation: Any, where: str) -> Any:
    """`value` from a TOML profile checked against a field's type and converted (a list to a tuple, a
    string to a Path or an enum member); ConfigError naming `where` when it does not fit."""
    options = [a for a in get_args(annotation) if a is not type(None)] if _is_optional(annotation) else []
    if options:
        return _typed(value, options[0], where)
    origin = get_origin(annotation)
    if origin is Literal:
        if value not in get_args(annotation):
            raise ConfigError(
                f"{where} must be one of {', '.join(map(str, get_args(annotation)))}, got {value!r}"
            )
        return value
    if origin is tuple:
        if not isinstance(value, list | tuple):
            raise ConfigError(f"{where} must be a list, got {value!r}")
        return tuple(_typed(item, get_args(annotation)[0], f"{where} item") for item in value)
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        try:
            return annotation(value)
        except ValueError:
            known = ", ".join(str(member.value) for member in annotation)
            raise ConfigError(f"{where} must be one of {known}, got {value!r}") from None
    expected = {
        bool: "true or false",
        int: "a whole number",
        float: "a number",
        str: "a string",
        Path: "a path",
    }
    fits = {
        bool: isinstance(value, bool),
        int: isinstance(value, int) and not isinstance(value, bool),
        float: isinstance(value, int | float) and not isinstance(value, bool),
        str: isinstance(value, str),
        Path: isinstance(value, str),
    }
    if annotation not in fits:
        return value
    if not fits[annotation]:
        raise ConfigError(f"{where} must be {expected[annotation]}, got {value!r}")
    return Path(value) if annotation is Path else float(value) if annotation is float else value


def _is_optional(annotation: Any) -> bool:
    return get_origin(annotation) in (Union, UnionType) and type(None) in get_args(annotation)


def _coerce(section: type, values: dict[str, Any], origin: str) -> Any:
    known = {f.name for f in fields(section)}
    unknown = set(values) - known
    if unknown:
        raise ConfigError(f"{origin}: unknown key(s) {sorted(unknown)} in [{section.__name__}]")
    hints = get_type_hints(section)
    table = next(name for name, cls in _SECTIONS.items() if cls is section)
    coerced = {
        name: _typed(value, hints[name], f"{origin}: [{table}] {name}") for name, value in values.items()
    }
    return replace(section(), **coerced)


def load_profile(name_or_path: str) -> RunConfig:
    """Load a bundled profile by name (`lite`, `r50`, `ensemble`, `noop`) or a TOML file by path."""
    path = Path(name_or_path)
    if path.suffix != ".toml":
        path = PROFILES_DIR / f"{name_or_path}.toml"
        if not path.is_file():
            raise ConfigError(
                f"unknown profile {name_or_path!r}; available: {', '.join(available_profiles())}"
            )
    elif not path.is_file():
        raise ConfigError(f"profile file not found: {path}")
    try:
        data = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"invalid profile {path}: {error}") from error
    top_level = {key: value for key, value in data.items() if not isinstance(value, dict)}
    sections = {key: value for key, value in data.items() if isinstance(value, dict)}
    unknown = set(sections) - {*_SECTIONS, "fusion"}
    if unknown:
        raise ConfigError(f"{path}: unknown section(s) {sorted(unknown)}")
    allowed_top = {"backend", "device", "precision", "engine_threads", "batch", "batch_deadline_ms"}
    if set(top_level) - allowed_top:
        raise ConfigError(f"{path}: unknown key(s) {sorted(set(top_level) - allowed_top)}")
    run_hints = get_type_hints(RunConfig)
    top_level = {key: _typed(value, run_hints[key], f"{path}: {key}") for key, value in top_level.items()}
    built: dict[str, Any] = {
        name: _coerce(_SECTIONS[name], values, str(path))
        for name, values in sections.items()
        if name != "fusion"
    }
    if "fusion" in sections:
        built["fusion"] = FusionConfig.from_mapping(sections["fusion"])
    return RunConfig(profile=path.stem, **top_level, **built)


def with_overrides(
    config: RunConfig,
    *,
    out_dir: Path | None = None,
    backend: str | None = None,
    device: str | None = None,
    precision: str | None = None,
    batch: int | None = None,
    bad_frames: str | None = None,
    show: bool | None = None,
    overwrite: bool | None = None,
    max_frames: int | None = None,
    capture: str | None = None,
    reconnect: int | None = None,
    realtime: bool | None = None,
    outputs: tuple[str, ...] | None = None,
    classifier: str | None = None,
    detectors: tuple[str, ...] | None = None,
    quality_threshold: float | None = None,
    score_threshold: float | None = None,
    monitor: MonitorConfig | None = None,
) -> RunConfig:
    """`config` with the options given on the command line (None = keep the profile's value)."""
    capture_changes: dict[str, Any] = {}
    if capture is not None:
        try:
            capture_changes["backend"] = CaptureBackend(capture)
        except ValueError as error:
            raise ConfigError(f"unknown capture backend {capture!r}; choose pyav or opencv") from error
    if max_frames is not None:
        if max_frames < 1:
            raise ConfigError(f"--max-frames must be >= 1, got {max_frames}")
        capture_changes["max_frames"] = max_frames
    if reconnect is not None:
        capture_changes["reconnect"] = reconnect
    if realtime is not None:
        capture_changes["realtime"] = realtime
    output_changes: dict[str, Any] = {}
    if out_dir is not None:
        output_changes["out_dir"] = out_dir
    if bad_frames is not None:
        try:
            output_changes["bad_frames"] = BadFramePolicy(bad_frames)
        except ValueError as error:
            raise ConfigError(f"unknown --bad-frames {bad_frames!r}; choose drop or mark") from error
    if show is not None:
        output_changes["show"] = show
    if overwrite is not None:
        output_changes["overwrite"] = overwrite
    if outputs is not None:
        output_changes["outputs"] = outputs
    quality_changes: dict[str, Any] = {}
    if classifier is not None:
        quality_changes["model"] = classifier
    if quality_threshold is not None:
        quality_changes["threshold"] = quality_threshold
    detector_changes: dict[str, Any] = {}
    if detectors:
        detector_changes["models"] = detectors
    if score_threshold is not None:
        detector_changes["score_threshold"] = score_threshold
    top: dict[str, Any] = {}
    for name, value in (
        ("backend", backend),
        ("device", device),
        ("precision", precision),
        ("batch", batch),
        ("monitor", monitor),
    ):
        if value is not None:
            top[name] = value
    return replace(
        config,
        **top,
        capture=replace(config.capture, **capture_changes),
        output=replace(config.output, **output_changes),
        quality=replace(config.quality, **quality_changes),
        detector=replace(config.detector, **detector_changes),
    )
