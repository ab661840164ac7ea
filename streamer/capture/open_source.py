"""Turn a SOURCE argument into an open Source: file, folder, glob, URL, V4L2 device, camera index, synthetic."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from streamer.capture.image_source import ImageSource, is_image_path
from streamer.capture.opencv_source import OpenCVSource
from streamer.capture.pyav_source import PyAVSource, is_network_url, is_v4l2_device
from streamer.capture.source import Source, check_frame_size
from streamer.capture.synthetic_source import SyntheticSource
from streamer.config import CaptureBackend, CaptureConfig
from streamer.errors import SourceError

VIDEO_SUFFIXES = (".mp4", ".mkv", ".avi", ".mov", ".m4v", ".webm", ".ts", ".mpg", ".mpeg")


def source_opener(spec: str, config: CaptureConfig) -> Callable[[], Source]:
    """A function that opens `spec` (called once at start, again on each reconnect)."""
    if spec == "synthetic" or spec.startswith("synthetic:"):
        return lambda: SyntheticSource(spec, frames=config.max_frames)
    if spec.isdigit():
        return lambda: OpenCVSource(int(spec), live=True, open_timeout_s=config.open_timeout_s)
    live = is_network_url(spec) or is_v4l2_device(spec)
    path = Path(spec)
    if not live:
        is_glob = any(char in spec for char in "*?[")
        if path.is_dir() or is_glob or is_image_path(spec):
            return lambda: ImageSource(spec)
        if not path.exists():
            raise SourceError(f"no such file: {spec}")
        if not path.is_file():
            raise SourceError(f"not a regular file: {spec}")
    if config.backend is CaptureBackend.OPENCV:
        return lambda: OpenCVSource(spec, live=live, open_timeout_s=config.open_timeout_s)
    return lambda: PyAVSource(
        spec, open_timeout_s=config.open_timeout_s, read_timeout_s=config.read_timeout_s
    )


def is_live_spec(spec: str) -> bool:
    """Whether `spec` names a live source (network stream, V4L2 device, camera index), whose frames come
    whether or not they are read."""
    return spec.isdigit() or is_network_url(spec) or is_v4l2_device(spec)


def open_source(spec: str, config: CaptureConfig) -> tuple[Source, Callable[[], Source]]:
    """Open `spec` now (errors surface before any output is created); also return how to reopen it."""
    opener = source_opener(spec, config)
    source = opener()
    try:
        check_frame_size(source.info.width, source.info.height, source.info.id)
    except SourceError:
        source.close()
        raise
    return source, opener
