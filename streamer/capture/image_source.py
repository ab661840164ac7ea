"""Still images: one file, a folder, or a glob, read in sorted file-name order."""

from __future__ import annotations

import glob
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from streamer.capture.source import RawFrame, SourceInfo
from streamer.errors import SourceError
from streamer.images import is_image_file, read_rgb

STILLS_FPS = 25.0


def is_image_path(spec: str) -> bool:
    return is_image_file(spec)


def list_images(spec: str) -> list[Path]:
    """Image paths of a file, folder or glob pattern, sorted by name; SourceError when there are none."""
    path = Path(spec)
    if path.is_dir():
        paths = [p for p in path.iterdir() if is_image_file(p)]
    elif any(char in spec for char in "*?["):
        paths = [Path(p) for p in glob.glob(spec) if is_image_file(p)]
    else:
        paths = [path]
    if not paths:
        raise SourceError(f"no images found in {spec}")
    return sorted(paths, key=lambda p: p.name)


def read_image_file(path: Path) -> np.ndarray:
    """H×W×3 uint8 RGB pixels of an image file; SourceError when missing or undecodable."""
    return read_rgb(path, SourceError)


class ImageSource:
    """Images as a clip at 25 fps (pts = position, time_base = 1/25 s). Unreadable images raise SourceError."""

    def __init__(self, spec: str) -> None:
        self._paths = list_images(spec)
        first = read_image_file(self._paths[0])
        self.info = SourceInfo(
            id=spec,
            is_live=False,
            fps=STILLS_FPS,
            width=first.shape[1],
            height=first.shape[0],
            frame_count=len(self._paths),
            is_stills=True,
        )

    @property
    def paths(self) -> list[Path]:
        return list(self._paths)

    def read(self) -> Iterator[RawFrame]:
        for position, path in enumerate(self._paths):
            started = time.monotonic_ns()
            image = read_image_file(path)
            yield RawFrame(
                image=image, pts=position, time_base=1 / STILLS_FPS, decode_ns=time.monotonic_ns() - started
            )

    def close(self) -> None:
        """Nothing to release."""

    def __enter__(self) -> ImageSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
