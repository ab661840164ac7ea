"""The Source protocol: something that yields decoded RGB images with their timestamps."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from streamer.errors import SourceError


@dataclass(frozen=True)
class RawFrame:
    """A decoded image before it is stamped into a Frame.

    image: H×W×3 uint8 RGB; pts: presentation timestamp in `time_base` units (seconds = pts * time_base);
    decode_ns: time spent producing this image (ns).
    """

    image: np.ndarray
    pts: int
    time_base: float
    decode_ns: int


@dataclass(frozen=True)
class SourceInfo:
    """What is known about a source once open. fps may be None (stills); frame_count None when unknown;
    is_stills: unrelated pictures (an image folder), not a video: each is judged on its own."""

    id: str
    is_live: bool
    fps: float | None
    width: int
    height: int
    frame_count: int | None = None
    is_stills: bool = False


class Source(Protocol):
    """An open video source. `read()` yields frames until end of stream; errors raise SourceError."""

    info: SourceInfo

    def read(self) -> Iterator[RawFrame]: ...

    def close(self) -> None: ...

    def __enter__(self) -> Source: ...

    def __exit__(self, *exc: object) -> None: ...


MIN_FRAME_SIDE = 16  # pixels; smaller frames cannot be cropped, resized and encoded meaningfully


def check_frame_size(width: int, height: int, source_id: str) -> None:
    """SourceError when a frame is smaller than MIN_FRAME_SIDE on either side."""
    if width < MIN_FRAME_SIDE or height < MIN_FRAME_SIDE:
        raise SourceError(
            f"{source_id}: a frame of {width}x{height} pixels is too small "
            f"(at least {MIN_FRAME_SIDE}x{MIN_FRAME_SIDE})"
        )
