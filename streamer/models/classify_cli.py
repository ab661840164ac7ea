"""`streamer classify PATH...`: quality verdicts of images or video frames as JSON Lines on stdout.

One line per image, or per sampled frame of a video: {"path", "frame" (videos only), "p_bad", "verdict"}.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

import av
import cv2
import numpy as np
import typer
from torch import nn

from streamer.errors import ConfigError, SourceError
from streamer.models.predict import quality_p_bad
from streamer.models.store import ModelManifest, load_model
from streamer.paths import ENGINES_DIR

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff")
BATCH = 16


def _frames(path: Path, every: int, limit: int | None) -> Iterator[tuple[int | None, np.ndarray]]:
    """(frame index, or None for an image; H×W×3 uint8 RGB) of an image or every `every`-th video frame."""
    if not path.is_file():
        raise SourceError(f"no such file: {path}")
    if path.suffix.lower() in IMAGE_SUFFIXES:
        bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if bgr is None:
            raise SourceError(f"{path}: cannot read image")
        yield None, cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
        return
    try:
        with av.open(str(path)) as container:
            taken = 0
            for index, frame in enumerate(container.decode(video=0)):
                if index % every:
                    continue
                yield index, frame.to_ndarray(format="rgb24")
                taken += 1
                if limit is not None and taken >= limit:
                    return
    except (av.FFmpegError, OSError) as error:
        raise SourceError(f"{path}: cannot decode as image or video ({error})") from error


def classify_command(
    paths: Annotated[list[Path], typer.Argument(help="Images or videos.")],
    classifier: Annotated[
        Path, typer.Option(help="Model folder, or a .pt/.onnx file with its manifest beside it.")
    ] = ENGINES_DIR / "quality-lite",
    threshold: Annotated[float, typer.Option(min=0.0, max=1.0, help="Bad when p_bad >= this.")] = 0.5,
    every: Annotated[int, typer.Option(min=1, help="Videos: classify every N-th frame.")] = 1,
    max_frames: Annotated[
        int | None, typer.Option(min=1, help="Videos: at most this many frames each.")
    ] = None,
) -> None:
    """Print the quality verdict (good/bad, p_bad) of images or video frames as JSON Lines."""
    model, manifest = load_model(classifier)
    if manifest.task != "classifier":
        raise ConfigError(f"{classifier} is a {manifest.task}, not a quality classifier")
    for path in paths:
        pending: list[tuple[int | None, np.ndarray]] = []
        for item in _frames(path, every, max_frames):
            pending.append(item)
            if len(pending) == BATCH:
                _emit(model, manifest, path, pending, threshold)
                pending = []
        if pending:
            _emit(model, manifest, path, pending, threshold)


def _emit(
    model: nn.Module,
    manifest: ModelManifest,
    path: Path,
    items: list[tuple[int | None, np.ndarray]],
    threshold: float,
) -> None:
    """Classify a batch of frames of `path` and print one JSON line per frame."""
    p_bad = quality_p_bad(model, manifest, [image for _, image in items])
    for (index, _), probability in zip(items, p_bad.tolist(), strict=True):
        record: dict[str, object] = {"path": str(path)}
        if index is not None:
            record["frame"] = index
        record["p_bad"] = round(probability, 4)
        record["verdict"] = "bad" if probability >= threshold else "good"
        typer.echo(json.dumps(record))
