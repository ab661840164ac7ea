"""`streamer classify PATH...`: quality verdicts of images, image folders or video frames as JSON Lines.

One line per image, or per sampled frame of a video: {"path", "frame" (videos only), "p_bad", "verdict",
"reasons" {cause: share of the frame}}. Images go through the same engine, field-of-view crop, resize and
threshold as `streamer run`; each frame is judged on its own (no hysteresis).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from streamer.engine_registry import BACKEND_CHOICES, spoken
from streamer.errors import SourceError

if TYPE_CHECKING:
    import numpy as np

    from streamer.pipeline.image_classifier import ImageClassifier

Item = tuple[str, "int | None", "np.ndarray"]  # path, video frame index (None for an image), RGB pixels


def _video_frames(path: Path, every: int, limit: int | None) -> Iterator[Item]:
    import av

    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                raise SourceError(f"{path}: has no video stream")
            taken = 0
            for index, frame in enumerate(container.decode(video=0)):
                if index % every:
                    continue
                yield str(path), index, frame.to_ndarray(format="rgb24")
                taken += 1
                if limit is not None and taken >= limit:
                    return
    except (av.FFmpegError, OSError) as error:
        raise SourceError(f"{path}: cannot decode as image or video ({error})") from error


def _items(spec: str, every: int, limit: int | None) -> Iterator[Item]:
    """The images of a file, folder or glob, or every `every`-th frame of a video."""
    from streamer.capture.image_source import is_image_path, list_images, read_image_file

    path = Path(spec)
    if path.is_dir() or is_image_path(spec) or any(char in spec for char in "*?["):
        for image_path in list_images(spec):
            yield str(image_path), None, read_image_file(image_path)
        return
    if not path.is_file():
        raise SourceError(f"no such file: {path}")
    yield from _video_frames(path, every, limit)


def classify_command(
    paths: Annotated[list[str], typer.Argument(help="Images, image folders or globs, or videos.")],
    profile: Annotated[str, typer.Option(help="Profile whose quality gate is used (name or TOML).")] = "lite",
    classifier: Annotated[
        str | None,
        typer.Option(help="Quality model instead of the profile's: folder, .pt/.onnx file, or classical."),
    ] = None,
    backend: Annotated[str | None, typer.Option(help=f"{spoken(BACKEND_CHOICES)}.")] = None,
    threshold: Annotated[
        float | None,
        typer.Option(min=0.0, max=1.0, help="Bad when p_bad >= this (default: the model's own)."),
    ] = None,
    every: Annotated[int, typer.Option(min=1, help="Videos: classify every N-th frame.")] = 1,
    max_frames: Annotated[
        int | None, typer.Option(min=1, help="Videos: at most this many frames each.")
    ] = None,
) -> None:
    """Print the quality verdict (good/bad, p_bad, reasons) of images or video frames as JSON Lines."""
    from streamer.config import load_profile, with_overrides
    from streamer.pipeline.image_classifier import ImageClassifier

    config = with_overrides(
        load_profile(profile), backend=backend, classifier=classifier, quality_threshold=threshold
    )
    with ImageClassifier(config) as judge:
        for spec in paths:
            pending: list[Item] = []
            try:
                for item in _items(spec, every, max_frames):
                    pending.append(item)
                    if len(pending) == config.batch:
                        _emit(judge, pending)
                        pending = []
            finally:  # a video that breaks off midway still gets the verdicts of the frames it gave
                if pending:
                    _emit(judge, pending)


def _emit(judge: ImageClassifier, items: list[Item]) -> None:
    """Judge a batch and print one JSON line per image or frame."""
    for (path, index, _), verdict in zip(items, judge([image for _, _, image in items]), strict=True):
        record: dict[str, object] = {"path": path}
        if index is not None:
            record["frame"] = index
        record["p_bad"] = round(verdict.p_bad, 4)
        record["verdict"] = verdict.label.value
        record["reasons"] = {cause: round(share, 4) for cause, share in verdict.causes.items()}
        typer.echo(json.dumps(record))
