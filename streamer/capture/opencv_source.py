"""Files and capture devices through OpenCV's VideoCapture (the alternative to PyAV)."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator

import cv2

from streamer.capture.source import RawFrame, SourceInfo
from streamer.errors import SourceError

TRUNCATED_SHARE = 0.98  # a file that decodes fewer than this share of its announced frames is truncated
# OpenCV's FFmpeg prints its own decoder complaints to stderr; streamer reports problems in one line itself
# (set OPENCV_FFMPEG_LOGLEVEL to see them: 16 errors, 24 warnings, 32 info)
os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")


class OpenCVSource:
    """Read an OpenCV device index (int) or a path/URL. Timestamps come from CAP_PROP_POS_MSEC (ms)."""

    def __init__(self, spec: str | int, *, live: bool, open_timeout_s: float = 10.0) -> None:
        self._spec = spec
        params = [
            cv2.CAP_PROP_OPEN_TIMEOUT_MSEC,
            int(open_timeout_s * 1000),
        ]
        self._capture = cv2.VideoCapture(spec, cv2.CAP_ANY, params)
        if not self._capture.isOpened():
            self._capture.release()
            what = f"capture device {spec}" if isinstance(spec, int) else str(spec)
            raise SourceError(f"cannot open {what} with OpenCV (missing, busy or not a video)")
        fps = self._capture.get(cv2.CAP_PROP_FPS) or None
        count = int(self._capture.get(cv2.CAP_PROP_FRAME_COUNT)) or None
        self.info = SourceInfo(
            id=str(spec),
            is_live=live,
            fps=fps,
            width=int(self._capture.get(cv2.CAP_PROP_FRAME_WIDTH)),
            height=int(self._capture.get(cv2.CAP_PROP_FRAME_HEIGHT)),
            frame_count=None if live else count,
        )

    def read(self) -> Iterator[RawFrame]:
        """Yield RGB frames until the capture returns no more; pts in milliseconds (time_base 1/1000).

        A file that ends well before the frame count its header gives raises SourceError (truncated)."""
        index = 0
        while True:
            started = time.monotonic_ns()
            ok, bgr = self._capture.read()
            if not ok:
                expected = self.info.frame_count
                if expected is not None and index < expected * TRUNCATED_SHARE - 1:
                    raise SourceError(f"{self._spec} is truncated: decoded {index} of {expected} frames")
                return
            image = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
            position_ms = self._capture.get(cv2.CAP_PROP_POS_MSEC)
            pts = (
                round(position_ms)
                if position_ms > 0 or index == 0
                else round(index * 1000 / (self.info.fps or 25))
            )
            yield RawFrame(image=image, pts=pts, time_base=1e-3, decode_ns=time.monotonic_ns() - started)
            index += 1

    def close(self) -> None:
        self._capture.release()

    def __enter__(self) -> OpenCVSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
