"""Shared fixtures: the bundled real clip and small videos made on the fly."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import av
import numpy as np
import pytest
import torch

from streamer.paths import DEMO_CLIP


@pytest.fixture(scope="session")
def real_clip() -> Path:
    assert DEMO_CLIP.is_file(), "the bundled clip is missing"
    return DEMO_CLIP


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


@pytest.fixture
def one_torch_thread() -> Iterator[None]:
    """torch on one CPU thread for the test (small models train faster so), restored after."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
