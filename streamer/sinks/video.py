"""H.264 MP4 writer through PyAV, encoding in its own thread.

The MP4 is fragmented (a keyframe and a fragment every second, the index up front), so that a run killed
or cut off by a power failure leaves a file that plays up to its last second or so; `close` flushes
the rest. Ordinary players (VLC, ffmpeg, browsers) play fragmented MP4.
"""

from __future__ import annotations

import queue
import threading
from fractions import Fraction
from pathlib import Path

import av
import av.error
import cv2
import numpy as np

from streamer.errors import SinkError

ENCODE_QUEUE_SIZE = 8  # frames waiting for the encoder thread before `write` blocks
FRAGMENTED_MP4 = {"movflags": "frag_keyframe+empty_moov+default_base_moof"}
KEYFRAME_INTERVAL_S = 1.0  # a keyframe, and so a fragment, at least this often


class H264Encoder:
    """Synchronous H.264 encoder of H×W×3 uint8 RGB frames into an MP4.

    Frames given with a pts keep it, in the time base of the first such frame (the source's); frames
    without one are numbered at `fps`. When the source's timestamps go back (a live stream that
    reconnected, a camera that restarted), the rest of the video is shifted to continue one frame
    interval after the last frame written. Frames of another size are resized to the first frame's size,
    cropped to even width and height as 4:2:0 needs.
    """

    def __init__(self, path: Path, *, fps: float, preset: str, crf: int) -> None:
        self.path = path
        self._fps = Fraction(fps).limit_denominator(1001)
        self._time_base: Fraction = 1 / self._fps
        self._options = {"preset": preset, "crf": str(crf)}
        self._container: av.container.OutputContainer | None = None
        self._stream: av.VideoStream | None = None
        self._size: tuple[int, int] | None = None  # (W, H)
        self._last_pts: int | None = None
        self._pts_offset = 0  # added to source pts after a timestamp discontinuity
        self._frame_step = 1  # one frame interval in time-base units, set when the file opens
        self.frames_written = 0

    def _open(self, width: int, height: int) -> None:
        try:
            self._container = av.open(str(self.path), mode="w", format="mp4", options=FRAGMENTED_MP4)
        except (av.error.FFmpegError, OSError) as error:
            raise SinkError(f"cannot write {self.path}: {error}") from error
        stream = self._container.add_stream("libx264", rate=self._fps, options=self._options)
        stream.width, stream.height = width - width % 2, height - height % 2
        stream.pix_fmt = "yuv420p"
        stream.time_base = self._time_base
        stream.codec_context.gop_size = max(1, round(float(self._fps) * KEYFRAME_INTERVAL_S))
        self._frame_step = max(1, round(1 / (self._fps * self._time_base)))
        self._stream = stream
        self._size = (stream.width, stream.height)

    def encode(self, image: np.ndarray, pts: int | None, time_base: float | None) -> None:
        """Encode one frame; pts in `time_base` units (seconds), None = next frame at the nominal rate."""
        if self._container is None:
            if pts is not None and time_base:
                self._time_base = Fraction(time_base).limit_denominator(1_000_000)
            self._open(image.shape[1], image.shape[0])
        assert self._stream is not None and self._size is not None and self._container is not None
        if (image.shape[1], image.shape[0]) != self._size:
            image = cv2.resize(image, self._size, interpolation=cv2.INTER_AREA)
        yuv = cv2.cvtColor(image, cv2.COLOR_RGB2YUV_I420)  # (H, W, 3) -> (H*3/2, W), faster than swscale
        frame = av.VideoFrame.from_ndarray(yuv, format="yuv420p")
        if pts is None:
            pts = self.frames_written * self._frame_step
        pts = int(pts) + self._pts_offset
        if self._last_pts is not None and pts <= self._last_pts:  # strictly increasing, as the muxer requires
            self._pts_offset += self._last_pts + self._frame_step - pts
            pts = self._last_pts + self._frame_step
        frame.pts = pts
        frame.time_base = self._time_base
        self._last_pts = pts
        for packet in self._stream.encode(frame):
            self._container.mux(packet)
        self.frames_written += 1

    def close(self) -> None:
        """Flush the encoder and write the last fragment; safe to call twice."""
        if self._container is None:
            return
        container, stream = self._container, self._stream
        self._container = None
        try:
            if stream is not None:
                for packet in stream.encode():
                    container.mux(packet)
        finally:
            container.close()


class VideoSink:
    """Queue frames to an H264Encoder running in its own thread, so encoding overlaps the other stages.

    Errors of the encoder thread are raised by the next `write` or by `close`.
    """

    def __init__(
        self,
        path: Path,
        *,
        fps: float,
        preset: str = "ultrafast",
        crf: int = 23,
    ) -> None:
        self.path = path
        self._encoder = H264Encoder(path, fps=fps, preset=preset, crf=crf)
        self._queue: queue.Queue[tuple[np.ndarray, int | None, float | None] | None] = queue.Queue(
            ENCODE_QUEUE_SIZE
        )
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._work, name=f"encode-{path.stem}", daemon=True)
        self._thread.start()
        self._closed = False

    def _work(self) -> None:
        while (item := self._queue.get()) is not None:
            if self._error is not None:
                continue
            try:
                self._encoder.encode(*item)
            except BaseException as error:  # kept and raised in the producer's thread
                self._error = error

    def write(self, image: np.ndarray, pts: int | None = None, time_base: float | None = None) -> None:
        """Queue one H×W×3 uint8 RGB frame (blocks while the encoder is ENCODE_QUEUE_SIZE frames behind).

        pts in `time_base` units keeps the source timestamps; None numbers frames at the sink's fps.
        """
        if self._error is not None:
            reason = getattr(self._error, "strerror", None) or self._error
            raise SinkError(f"cannot write {self.path}: {reason}") from self._error
        self._queue.put((image, pts, time_base))

    @property
    def frames_written(self) -> int:
        return self._encoder.frames_written

    def close(self) -> None:
        """Encode what is queued, then finalize the file; safe to call twice."""
        if self._closed:
            return
        self._closed = True
        self._queue.put(None)
        self._thread.join()
        try:
            self._encoder.close()
        except (av.error.FFmpegError, OSError) as error:
            self._error = self._error or error
        if self._error is not None:
            reason = getattr(self._error, "strerror", None) or self._error
            raise SinkError(f"cannot write {self.path}: {reason}") from self._error

    def __enter__(self) -> VideoSink:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
