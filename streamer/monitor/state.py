"""What the live page shows, kept up to date by the pipeline threads and read by the server.

Figures over "the last seconds" use a sliding window of WINDOW_S; the quality timeline keeps the last
TIMELINE_FRAMES processed frames and the last RUNS runs of good and bad frames.
"""

from __future__ import annotations

import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from streamer.monitor.hub import EventHub
from streamer.types import FrameResult, QualityLabel

WINDOW_S = 5.0
TIMELINE_FRAMES = 1500  # one minute at 25 fps
RUNS = 50


class DisplayStamps:
    """When each frame reached the display (monotonic ns), for its JSON Lines record.

    The display thread marks frames; the output thread takes a frame's stamp when it writes the frame's
    record (frames the display skipped have none). Older stamps are forgotten as frames are taken.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._stamps: dict[int, int] = {}

    def mark(self, index: int, displayed_ns: int) -> None:
        with self._lock:
            self._stamps[index] = displayed_ns

    def take(self, index: int) -> int | None:
        """The display stamp of frame `index` (None if not displayed yet); forgets every older one."""
        with self._lock:
            stamp = self._stamps.pop(index, None)
            for older in [i for i in self._stamps if i < index]:
                del self._stamps[older]
            return stamp


class _Window:
    """(time, value) samples of the last WINDOW_S seconds."""

    def __init__(self) -> None:
        self.samples: deque[tuple[float, Any]] = deque()

    def add(self, now_s: float, value: Any) -> None:
        self.samples.append((now_s, value))
        self.trim(now_s)

    def trim(self, now_s: float) -> None:
        while self.samples and self.samples[0][0] < now_s - WINDOW_S:
            self.samples.popleft()

    def values(self) -> list[Any]:
        return [value for _, value in self.samples]

    def rate(self) -> float:
        """Samples per second over the window's span."""
        if len(self.samples) < 2:
            return 0.0
        span = self.samples[-1][0] - self.samples[0][0]
        return (len(self.samples) - 1) / span if span > 0 else 0.0


def _percentiles(values: list[float]) -> dict[str, float]:
    if not values:
        return {"p50": 0.0, "p99": 0.0}
    p50, p99 = np.percentile(np.asarray(values, dtype=np.float64), [50, 99])
    return {"p50": round(float(p50), 2), "p99": round(float(p99), 2)}


class MonitorState:
    """The run as the page sees it. Thread-safe; `status()` is the `/status` JSON.

    drops: returns the frames dropped so far by reason (the run's ledger); events are published to `hub`:
    `frame` for each processed frame (the timeline), `end` with the summary.
    """

    def __init__(self, source: str, hub: EventHub, clock: Callable[[], float] = time.monotonic) -> None:
        self._lock = threading.Lock()
        self._clock = clock
        self.hub = hub
        self.source = source
        self.phase = "starting"
        self.drops: Callable[[], Mapping[str, int]] = dict
        self.displayed = 0
        self.processed = 0
        self._display_times = _Window()
        self._display_ms = _Window()
        self._result_ms = _Window()
        self._detections = _Window()
        self._result_age_ms: float | None = None
        self._verdict: dict[str, Any] | None = None
        self._timeline: deque[dict[str, Any]] = deque(maxlen=TIMELINE_FRAMES)
        self._runs: deque[dict[str, Any]] = deque(maxlen=RUNS)
        self.summary: dict[str, Any] | None = None

    def running(self, source: str, drops: Callable[[], Mapping[str, int]]) -> None:
        """The models are loaded and frames flow from `source`."""
        with self._lock:
            self.phase, self.source, self.drops = "running", source, drops

    def frame_displayed(self, latency_ms: float, result_age_ms: float | None) -> None:
        """A frame reached the display `latency_ms` after capture, drawn with results `result_age_ms` older
        than it (None: no result yet)."""
        now = self._clock()
        with self._lock:
            self.displayed += 1
            self._display_times.add(now, 1)
            self._display_ms.add(now, latency_ms)
            self._result_age_ms = result_age_ms

    def frame_processed(self, result: FrameResult, e2e_ms: float) -> None:
        """A frame's model results were written, `e2e_ms` after its capture."""
        now = self._clock()
        verdict, detections = result.verdict, result.detections
        counts: Counter[str] = Counter()
        if detections is not None:
            counts.update(detections.names)
        label = QualityLabel.GOOD if verdict is None or verdict.is_good else QualityLabel.BAD
        entry = {"index": result.frame.index, "time_s": round(result.frame.seconds, 3), "label": label.value}
        with self._lock:
            self.processed += 1
            self._result_ms.add(now, e2e_ms)
            self._detections.add(now, counts)
            if verdict is not None:
                self._verdict = {
                    "label": verdict.label.value,
                    "p_bad": round(verdict.p_bad, 4),
                    "reasons": {cause: round(share, 4) for cause, share in verdict.causes.items()},
                    "index": result.frame.index,
                }
            self._timeline.append(entry)
            if self._runs and self._runs[-1]["label"] == label.value:
                self._runs[-1]["end_s"] = entry["time_s"]
                self._runs[-1]["frames"] += 1
            else:
                self._runs.append(
                    {"label": label.value, "start_s": entry["time_s"], "end_s": entry["time_s"], "frames": 1}
                )
        self.hub.publish("frame", {**entry, "detections": dict(counts)})

    def ended(self, summary: dict[str, Any]) -> None:
        with self._lock:
            self.phase, self.summary = "ended", summary
        self.hub.publish("end", summary)

    def status(self) -> dict[str, Any]:
        """frames (processed), frames_displayed, fps and display_fps (last seconds), latency_ms {display,
        e2e: p50/p99 ms over the last seconds; result_age: how much older the shown results are than the
        shown frame}, dropped (total) and dropped_by_reason, verdict, detections {class: boxes in the last
        seconds}, source, phase (starting, running, ended), runs, timeline, viewers, summary (once ended)."""
        now = self._clock()
        with self._lock:
            for window in (self._display_times, self._display_ms, self._result_ms, self._detections):
                window.trim(now)
            detections: Counter[str] = Counter()
            for counts in self._detections.values():
                detections.update(counts)
            drops = dict(self.drops())
            return {
                "phase": self.phase,
                "source": self.source,
                "frames": self.processed,
                "frames_displayed": self.displayed,
                "fps": round(self._detections.rate(), 2),
                "display_fps": round(self._display_times.rate(), 2),
                "latency_ms": {
                    "display": _percentiles(self._display_ms.values()),
                    "e2e": _percentiles(self._result_ms.values()),
                    "result_age": None if self._result_age_ms is None else round(self._result_age_ms, 1),
                },
                "dropped": sum(drops.values()),
                "dropped_by_reason": drops,
                "verdict": self._verdict,
                "detections": dict(detections.most_common()),
                "window_s": WINDOW_S,
                "runs": list(self._runs),
                "timeline": list(self._timeline)[-250:],
                "viewers": self.hub.viewers,
                "summary": self.summary,
            }
