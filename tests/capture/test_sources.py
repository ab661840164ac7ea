"""Sources: the real clip through PyAV and OpenCV, stills in name order, and one clear error per bad input."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from streamer.capture.image_source import ImageSource
from streamer.capture.open_source import open_source
from streamer.config import CaptureBackend, CaptureConfig
from streamer.errors import SourceError
from tests.support import audio_only_copy


def test_pyav_reads_the_real_clip_with_timestamps(real_clip: Path) -> None:
    source, _ = open_source(str(real_clip), CaptureConfig())
    with source:
        assert source.info.fps == pytest.approx(25.0)
        assert not source.info.is_live
        assert source.info.frame_count == 250
        frames = [frame for _, frame in zip(range(30), source.read(), strict=False)]
    assert frames[0].image.shape == (720, 1280, 3)
    seconds = [frame.pts * frame.time_base for frame in frames]
    assert np.allclose(np.diff(seconds), 0.04, atol=1e-6)


def test_opencv_backend_reads_the_same_clip(real_clip: Path) -> None:
    source, _ = open_source(str(real_clip), CaptureConfig(backend=CaptureBackend.OPENCV))
    with source:
        first = next(iter(source.read()))
    assert first.image.shape == (720, 1280, 3)
    pyav_source, _ = open_source(str(real_clip), CaptureConfig())
    with pyav_source:
        reference = next(iter(pyav_source.read()))
    assert np.abs(first.image.astype(int) - reference.image.astype(int)).mean() < 4


def test_images_are_read_in_file_name_order(tmp_path: Path) -> None:
    for name, value in (("b.png", 20), ("a.png", 10), ("c.jpg", 30)):
        cv2.imwrite(str(tmp_path / name), np.full((16, 24, 3), value, np.uint8))
    (tmp_path / "notes.txt").write_text("not an image")
    source = ImageSource(str(tmp_path))
    means = [round(float(frame.image.mean())) for frame in source.read()]
    assert means == [10, 20, 30]
    glob_source = ImageSource(str(tmp_path / "*.png"))
    assert [p.name for p in glob_source.paths] == ["a.png", "b.png"]


def _truncated(real_clip: Path, tmp_path: Path) -> str:
    path = tmp_path / "truncated.mp4"
    data = real_clip.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return str(path)


def _random_bytes(tmp_path: Path) -> str:
    path = tmp_path / "corrupt.mp4"
    path.write_bytes(np.random.default_rng(0).integers(0, 256, 50_000, dtype=np.uint8).tobytes())
    return str(path)


@pytest.mark.parametrize(
    ("make_spec", "message"),
    [
        (lambda clip, tmp: str(tmp / "missing.mp4"), "no such file"),
        (lambda clip, tmp: _random_bytes(tmp), "not a video, or corrupt"),
        (lambda clip, tmp: str(audio_only_copy(clip, tmp / "audio.m4a")), "no video stream"),
        (lambda clip, tmp: "/dev/video99", "no such file or device"),
        (lambda clip, tmp: "rtsp://127.0.0.1:9/stream", "cannot reach"),
        (lambda clip, tmp: str(tmp / "empty_folder"), "no images found"),
    ],
    ids=["missing", "corrupt", "no-video-stream", "no-device", "unreachable-url", "empty-folder"],
)
def test_bad_sources_fail_at_open_with_a_clear_message(
    make_spec, message: str, real_clip: Path, tmp_path: Path
) -> None:
    (tmp_path / "empty_folder").mkdir()
    with pytest.raises(SourceError, match=message):
        open_source(make_spec(real_clip, tmp_path), CaptureConfig(open_timeout_s=2, read_timeout_s=2))


def test_truncated_file_fails_after_its_frames(real_clip: Path, tmp_path: Path) -> None:
    source, _ = open_source(_truncated(real_clip, tmp_path), CaptureConfig())
    read = 0
    with pytest.raises(SourceError, match="truncated"), source:
        for _ in source.read():
            read += 1
    assert 0 < read < 250


def test_corrupt_image_is_reported(tmp_path: Path) -> None:
    (tmp_path / "a.png").write_bytes(b"not a png")
    with pytest.raises(SourceError, match="cannot read image"):
        ImageSource(str(tmp_path))


def test_silent_stream_times_out_with_a_clear_message() -> None:
    # a server that accepts the connection and never sends a byte
    with socket.create_server(("127.0.0.1", 0)) as listener:
        url = f"tcp://127.0.0.1:{listener.getsockname()[1]}"
        started = time.monotonic()
        with pytest.raises(SourceError, match=r"cannot reach .*: no answer within 0.5 s"):
            open_source(url, CaptureConfig(open_timeout_s=0.5, read_timeout_s=0.5))
        assert time.monotonic() - started < 5
