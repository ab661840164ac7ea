"""Shared fixtures: the bundled real clip and small videos made on the fly."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import av
import cv2
import numpy as np
import pytest

from streamer.paths import DEMO_CLIP


@pytest.fixture(scope="session")
def real_clip() -> Path:
    assert DEMO_CLIP.is_file(), "the bundled clip is missing"
    return DEMO_CLIP


def tissue_frame(index: int, size: tuple[int, int] = (240, 320)) -> np.ndarray:
    """A sharp, textured H×W×3 uint8 RGB frame on a circular field of view; content moves with `index`."""
    height, width = size
    rng = np.random.default_rng(index)
    base = rng.integers(60, 200, size=(height // 8, width // 8, 3), dtype=np.uint8)
    image = cv2.resize(base, (width, height), interpolation=cv2.INTER_NEAREST)
    image[..., 0] = np.maximum(image[..., 0], 150)  # reddish tissue
    mask = np.zeros((height, width), np.uint8)
    cv2.circle(mask, (width // 2, height // 2), int(min(height, width) * 0.48), 1, -1)
    return image * mask[..., None]


def degraded(image: np.ndarray, kind: str) -> np.ndarray:
    """A clearly unusable copy: strong defocus, or under-exposure."""
    if kind == "blur":
        return cv2.GaussianBlur(image, (0, 0), 8)
    if kind == "dark":
        return (image * 0.1).astype(np.uint8)
    raise ValueError(kind)


@pytest.fixture
def make_video(tmp_path: Path) -> Callable[..., Path]:
    """Write frames to an H.264 MP4: make_video(name, frames, fps=25) -> path."""

    def write(name: str, frames: Sequence[np.ndarray], fps: int = 25) -> Path:
        path = tmp_path / name
        with av.open(str(path), "w") as container:
            stream = container.add_stream("libx264", rate=fps, options={"preset": "ultrafast"})
            stream.height, stream.width = frames[0].shape[:2]
            stream.pix_fmt = "yuv420p"
            for image in frames:
                for packet in stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")):
                    container.mux(packet)
            for packet in stream.encode():
                container.mux(packet)
        return path

    return write


def decoded_frame_count(path: Path) -> tuple[int, float]:
    """(frames decoded, average frame rate) of a video file."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        count = sum(1 for _ in container.decode(stream))
        return count, float(stream.average_rate or 0)
