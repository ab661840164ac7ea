"""A live OpenCV window, when a display and an OpenCV build with GUI support are available."""

from __future__ import annotations

import os

import cv2
import numpy as np

from streamer.errors import warn

WINDOW_NAME = "streamer"


class WindowSink:
    """Shows frames; `closed` turns true when the user presses q or Esc. Without a display it does nothing."""

    def __init__(self) -> None:
        self.available = bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
        self.closed = False
        if not self.available:
            warn("no display found; --show ignored")

    def show(self, image: np.ndarray) -> None:
        """image: H×W×3 uint8 RGB."""
        if not self.available or self.closed:
            return
        try:
            cv2.imshow(WINDOW_NAME, cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
            key = cv2.waitKey(1) & 0xFF
        except cv2.error:
            warn("this OpenCV build cannot open windows; --show ignored")
            self.available = False
            return
        if key in (ord("q"), 27):
            self.closed = True

    def close(self) -> None:
        if self.available:
            cv2.destroyAllWindows()

    def __enter__(self) -> WindowSink:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
