"""Test helpers: small frames and videos made on the fly, and running the CLI in a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import av
import cv2
import numpy as np

REPO = Path(__file__).resolve().parents[1]


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


def decoded_frame_count(path: Path) -> tuple[int, float]:
    """(frames decoded, average frame rate) of a video file."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        count = sum(1 for _ in container.decode(stream))
        return count, float(stream.average_rate or 0)


def audio_only_copy(video: Path, target: Path) -> Path:
    """Copy only the audio stream of `video` into `target` (a file with no video stream)."""
    with av.open(str(video)) as source, av.open(str(target), "w") as output:
        audio = source.streams.audio[0]
        stream = output.add_stream_from_template(audio)
        for packet in source.demux(audio):
            if packet.dts is not None:
                packet.stream = stream
                output.mux(packet)
    return target


def streamer_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "streamer", *args]


def run_streamer(*args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """Run `streamer ARGS` from the repository root; returns the finished process (text output)."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.run(
        streamer_command(*args),
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def read_jsonl(path: Path) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(frame records, event records) of a frames.jsonl."""
    records = [json.loads(line) for line in path.read_text().splitlines()]
    return [r for r in records if "index" in r], [r for r in records if "event" in r]


class ServingRun:
    """`streamer run ... --serve HOST:PORT` in the background; `url` is the address it printed."""

    def __init__(self, *args: str, timeout: float = 60) -> None:
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self.process = subprocess.Popen(
            streamer_command("run", *args),
            cwd=REPO,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.stderr_lines: list[str] = []
        deadline = time.monotonic() + timeout
        assert self.process.stderr is not None
        while time.monotonic() < deadline:
            line = self.process.stderr.readline()
            if not line:
                break
            self.stderr_lines.append(line)
            if line.startswith("streamer: monitor at "):
                self.url = line.removeprefix("streamer: monitor at ").strip()
                return
        self.process.kill()
        raise AssertionError(f"no monitor address printed: {''.join(self.stderr_lines)}")

    def finish(self, timeout: float = 120) -> tuple[int, str, str]:
        """(exit code, stdout, rest of stderr) once the run has ended."""
        stdout, stderr = self.process.communicate(timeout=timeout)
        return self.process.returncode, stdout, "".join(self.stderr_lines) + stderr


def short_clip(target: Path, frames: int, size: tuple[int, int] = (320, 180), start: int = 0) -> Path:
    """The bundled clip's frames start..start+frames, scaled to `size` (W, H), as an H.264 MP4 at 25 fps."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with (
        av.open(str(REPO / "data" / "video" / "laparoscopy-720p25.mp4")) as source,
        av.open(str(target), "w") as out,
    ):
        stream = out.add_stream("libx264", rate=25)
        stream.width, stream.height, stream.pix_fmt = size[0], size[1], "yuv420p"
        for index, frame in enumerate(source.decode(video=0)):
            if index < start:
                continue
            if index >= start + frames:
                break
            image = cv2.resize(frame.to_ndarray(format="rgb24"), size, interpolation=cv2.INTER_AREA)
            out.mux(stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")))
        out.mux(stream.encode())
    return target
