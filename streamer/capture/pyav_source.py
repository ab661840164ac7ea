"""Files, network streams and V4L2 devices through PyAV (FFmpeg)."""

from __future__ import annotations

import time
from collections.abc import Iterator

import av
import av.error
import cv2
import numpy as np

from streamer.capture.source import RawFrame, SourceInfo
from streamer.errors import SourceError

NETWORK_SCHEMES = ("rtsp://", "rtmp://", "http://", "https://", "udp://", "srt://", "tcp://")


def is_network_url(spec: str) -> bool:
    return spec.lower().startswith(NETWORK_SCHEMES)


def is_v4l2_device(spec: str) -> bool:
    return spec.startswith("/dev/video")


def frame_to_rgb(video_frame: av.VideoFrame) -> np.ndarray:
    """H×W×3 uint8 RGB of a decoded frame. 4:2:0 frames go through OpenCV's SIMD conversion (several times
    faster than FFmpeg's swscale here); any other pixel format through swscale."""
    if video_frame.format.name == "yuv420p" and video_frame.width % 2 == 0 and video_frame.height % 2 == 0:
        return cv2.cvtColor(video_frame.to_ndarray(), cv2.COLOR_YUV2RGB_I420)  # (H*3/2, W) -> (H, W, 3)
    return video_frame.to_ndarray(format="rgb24")


class PyAVSource:
    """Decode the first video stream of a file, URL or V4L2 device.

    Open and read timeouts are in seconds. Corrupt data ends the stream with a SourceError naming the frame.
    """

    def __init__(self, spec: str, *, open_timeout_s: float = 10.0, read_timeout_s: float = 5.0) -> None:
        self._spec = spec
        options: dict[str, str] = {}
        container_format: str | None = None
        if is_v4l2_device(spec):
            container_format = "video4linux2"
        if spec.lower().startswith("rtsp://"):
            options["rtsp_transport"] = "tcp"
        try:
            self._container = av.open(
                spec,
                format=container_format,
                options=options,
                timeout=(open_timeout_s, read_timeout_s),
            )
        except av.error.FileNotFoundError as error:
            raise SourceError(f"no such file or device: {spec}") from error
        except av.error.PermissionError as error:
            raise SourceError(f"permission denied: {spec}") from error
        except av.error.FFmpegError as error:
            # PyAV interrupts a blocked open at the timeout; FFmpeg reports it as an "exit"
            timed_out = isinstance(error, av.error.ExitError)
            reason = f"no answer within {open_timeout_s:g} s" if timed_out else error.strerror or str(error)
            if is_v4l2_device(spec):
                raise SourceError(
                    f"cannot open capture device {spec}: {reason} (busy or not a capture device?)"
                ) from error
            if is_network_url(spec):
                raise SourceError(f"cannot reach {spec}: {reason}") from error
            raise SourceError(f"cannot read {spec}: {reason} (not a video, or corrupt)") from error
        if not self._container.streams.video:
            self._container.close()
            raise SourceError(f"no video stream in {spec}")
        self._stream = self._container.streams.video[0]
        rate = self._stream.average_rate or self._stream.guessed_rate
        fps = float(rate) if rate else None
        frames = self._stream.frames or None
        live = is_v4l2_device(spec) or (is_network_url(spec) and not self._has_duration())
        # Frame threading holds one frame back per decoder thread (40 ms each at 25 fps): live streams
        # decode with slice threads only, files with both.
        self._stream.thread_type = "SLICE" if live else "AUTO"
        if frames is None and fps and self._stream.duration and self._stream.time_base:
            frames = round(float(self._stream.duration * self._stream.time_base) * fps)
        self.info = SourceInfo(
            id=spec,
            is_live=live,
            fps=fps,
            width=self._stream.codec_context.width,
            height=self._stream.codec_context.height,
            frame_count=None if live else frames,
        )

    def _has_duration(self) -> bool:
        """True for seekable media with a known length (a file served over HTTP), false for live streams."""
        return bool(self._stream.duration or self._container.duration)

    def read(self) -> Iterator[RawFrame]:
        """Yield decoded RGB frames; raise SourceError on corrupt data or a truncated file."""
        time_base = float(self._stream.time_base) if self._stream.time_base else 1.0 / (self.info.fps or 25.0)
        decoded = 0
        started = time.monotonic_ns()
        try:
            for video_frame in self._container.decode(self._stream):
                image = frame_to_rgb(video_frame)
                now = time.monotonic_ns()
                pts = video_frame.pts if video_frame.pts is not None else decoded
                yield RawFrame(image=image, pts=int(pts), time_base=time_base, decode_ns=now - started)
                decoded += 1
                started = time.monotonic_ns()
        except av.error.FFmpegError as error:
            reason = "no data within the read timeout" if isinstance(error, av.error.ExitError) else None
            raise SourceError(
                f"{'stream' if self.info.is_live else 'file'} {self._spec} failed after {decoded} frames: "
                f"{reason or error.strerror or error}"
            ) from error
        expected = self.info.frame_count
        if expected is not None and decoded < expected * 0.98 - 1:
            raise SourceError(f"{self._spec} is truncated: decoded {decoded} of {expected} frames")

    def close(self) -> None:
        self._container.close()

    def __enter__(self) -> PyAVSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
