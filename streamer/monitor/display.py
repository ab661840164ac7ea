"""The display path: every captured frame is drawn with the newest model results and shown at once.

The capture thread hands each frame to a small drop-oldest queue; the display thread draws it with the
results of the most recent processed frame (whatever its age), encodes it as JPEG for the viewers and/or
shows it in the window, and records the capture-to-display latency. It never waits for inference.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

import cv2

from streamer.capture.frame_queue import FrameQueue
from streamer.config import BadFramePolicy
from streamer.latency import LatencySketches
from streamer.monitor.hub import FrameBroadcast
from streamer.monitor.state import DisplayStamps, MonitorState
from streamer.overlay import Overlay, StatusLine
from streamer.sinks.base import OutputFrame, Sink
from streamer.sinks.window import WindowSink
from streamer.types import Frame, FrameResult

DISPLAY_QUEUE_SIZE = 2  # frames waiting for the display; older ones are skipped, never waited for
JPEG_QUALITY = 80
STATUS_WINDOW = 50  # frames over which the drawn fps and display latency are averaged


class LatestResult:
    """The most recent processed frame's results, set by the output thread, read by the display."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._result: FrameResult | None = None

    def set(self, result: FrameResult) -> None:
        with self._lock:
            self._result = result

    def get(self) -> FrameResult | None:
        with self._lock:
            return self._result


@dataclass
class DisplayTargets:
    """Where displayed frames go: the viewers' broadcast and/or a window (either may be None)."""

    broadcast: FrameBroadcast | None
    window: WindowSink | None
    state: MonitorState | None


class DisplayWorker(threading.Thread):
    """Consumes every captured frame (via `frames`) and shows it with the newest results.

    bad_frames: DROP keeps a frame out of the display while the newest verdict is bad; frame_interval_ms:
    the source's frame interval, above which the results' age is drawn on the frame; dropped: frames the
    run has dropped so far (drawn on the frame).
    """

    def __init__(
        self,
        frames: FrameQueue[Frame],
        latest: LatestResult,
        targets: DisplayTargets,
        stamps: DisplayStamps,
        *,
        bad_frames: BadFramePolicy,
        frame_interval_ms: float,
        dropped: Callable[[], int],
    ) -> None:
        super().__init__(name="display", daemon=True)
        self._frames = frames
        self._latest = latest
        self._targets = targets
        self._stamps = stamps
        self._overlay = Overlay()
        self._bad_frames = bad_frames
        self._frame_interval_ms = frame_interval_ms
        self._dropped = dropped
        self.latencies = LatencySketches()
        self.displayed = 0
        self.withheld = 0  # frames kept off the display because the newest verdict was bad
        self.error: BaseException | None = None
        self._recent_shown: deque[int] = deque(maxlen=STATUS_WINDOW)
        self._recent_ms: deque[float] = deque(maxlen=STATUS_WINDOW)

    @property
    def window_closed(self) -> bool:
        return self._targets.window is not None and self._targets.window.closed

    def run(self) -> None:
        try:
            while True:
                batch = self._frames.get_batch(1)  # [] when none arrived in time
                if batch is None:
                    return
                for frame in batch:
                    self.show(frame)
        except BaseException as error:  # reported by the main thread after the outputs are finalized
            self.error = error

    def show(self, frame: Frame) -> None:
        """Draw `frame` with the newest results and hand it to every target."""
        result = self._latest.get()
        verdict = None if result is None else result.verdict
        if verdict is not None and not verdict.is_good and self._bad_frames is BadFramePolicy.DROP:
            self.withheld += 1
            return
        age_ms = None if result is None else (frame.captured_ns - result.frame.captured_ns) / 1e6
        status = StatusLine(
            fps=self._fps(),
            latency_ms=sum(self._recent_ms) / len(self._recent_ms) if self._recent_ms else 0.0,
            dropped=self._dropped(),
            latency_name="display",
            result_age_ms=age_ms if age_ms is not None and age_ms > self._frame_interval_ms else None,
        )
        detections = None if result is None else result.detections
        annotated = self._overlay.annotate(frame.image, verdict, detections, status)
        targets = self._targets
        if targets.broadcast is not None:
            ok, jpeg = cv2.imencode(
                ".jpg", cv2.cvtColor(annotated, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY]
            )
            if ok:
                targets.broadcast.publish(jpeg.tobytes())
        if targets.window is not None:
            targets.window.show(annotated)
        shown = time.monotonic_ns()
        latency_ms = (shown - frame.captured_ns) / 1e6
        self._stamps.mark(frame.index, shown)
        self.latencies.add({"display": latency_ms})
        self.displayed += 1
        self._recent_shown.append(shown)
        self._recent_ms.append(latency_ms)
        if targets.state is not None:
            targets.state.frame_displayed(latency_ms, age_ms)

    def _fps(self) -> float:
        recent = self._recent_shown
        if len(recent) < 2:
            return 0.0
        span_s = (recent[-1] - recent[0]) / 1e9
        return (len(recent) - 1) / span_s if span_s > 0 else 0.0


class DisplayFeed(Sink):
    """The output thread's sink for the display path: each written frame's results become the newest the
    display draws, and go to the page's state. Writes no file."""

    keeps_records = True

    def __init__(self, latest: LatestResult, state: MonitorState | None) -> None:
        self._latest = latest
        self._state = state

    def write(self, frame: OutputFrame) -> None:
        self._latest.set(frame.result)
        if self._state is not None:
            self._state.frame_processed(frame.result, frame.record["latency_ms"].get("e2e", 0.0))

    def close(self) -> None:
        """Nothing to finalize."""

    def paths(self) -> dict[str, str]:
        return {}
