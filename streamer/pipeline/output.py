"""The output thread: overlay, then every sink, then the frame's JSON record; drops and events in order."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from typing import Any

from streamer.capture.frame_queue import FrameQueue
from streamer.config import OutputConfig
from streamer.latency import LatencySketches
from streamer.ledger import Ledger
from streamer.monitor.state import DisplayStamps
from streamer.overlay import Overlay, StatusLine
from streamer.pipeline.hysteresis import RunCounter
from streamer.sinks.base import OutputFrame, Sink, SinkContext
from streamer.sinks.registry import open_sinks
from streamer.types import FrameResult, QualityLabel, Verdict

STATUS_WINDOW = 50  # frames over which the status line's fps and latency are averaged


def frame_record(
    result: FrameResult, latency_ms: dict[str, float], detections: list[dict[str, object]]
) -> dict[str, Any]:
    """The JSON Lines record of a processed frame; detections: its `Detections.to_records()` records."""
    verdict = result.verdict
    return {
        "index": result.frame.index,
        "pts": result.frame.pts,
        "time_s": round(result.frame.seconds, 6),
        "quality": None if verdict is None else quality_record(verdict),
        "detections": detections,
        "latency_ms": {stage: round(value, 3) for stage, value in latency_ms.items()},
        "dropped": result.dropped,
    }


def quality_record(verdict: Verdict) -> dict[str, Any]:
    """The `quality` object of a frame record: label, p_bad, reasons {cause: share of the frame} and, under
    hysteresis, the frame's own label."""
    record: dict[str, Any] = {
        "label": verdict.label.value,
        "p_bad": round(verdict.p_bad, 4),
        "reasons": {cause: round(share, 4) for cause, share in verdict.causes.items()},
    }
    if verdict.frame_label is not None:
        record["frame_label"] = verdict.frame_label.value
    return record


class OutputSinks:
    """The sinks of one run (`config.outputs`, opened in registry order, then `extra`), closed together.

    media: the sinks written first; logs: those that keep records, written once a frame's latency is final.
    """

    def __init__(
        self, config: OutputConfig, *, fps: float, class_names: tuple[str, ...], extra: Sequence[Sink] = ()
    ) -> None:
        context = SinkContext(config.out_dir, fps, class_names, config.video_preset, config.video_crf)
        self.sinks = [*open_sinks(config.outputs, context), *extra]
        self.media = [sink for sink in self.sinks if not sink.keeps_records]
        self.logs = [sink for sink in self.sinks if sink.keeps_records]
        self.needs_picture = any(sink.needs_picture for sink in self.sinks)

    def write_entry(self, record: dict[str, Any]) -> None:
        """A record that is not a processed frame (the run header, a drop, an event)."""
        for sink in self.logs:
            sink.write_entry(record)

    def paths(self) -> dict[str, str]:
        return {name: path for sink in self.sinks for name, path in sink.paths().items()}

    def close(self) -> None:
        """Close every sink (the last first); the first failure is raised once all are closed."""
        with ExitStack() as stack:
            for sink in self.sinks:
                stack.callback(sink.close)


class OutputWorker(threading.Thread):
    """Consumes FrameResults; writes them and keeps the counts and latency statistics of the run."""

    def __init__(
        self,
        results: FrameQueue[FrameResult],
        sinks: OutputSinks,
        ledger: Ledger,
        config: OutputConfig,
        *,
        header: dict[str, Any] | None = None,
        on_result: Callable[[FrameResult], None] | None = None,
        display_stamps: DisplayStamps | None = None,
    ) -> None:
        super().__init__(name="output", daemon=True)
        self._header = header
        self._results = results
        self._sinks = sinks
        self._ledger = ledger
        self._config = config
        self._overlay = Overlay()
        self._on_result = on_result
        self._display_stamps = display_stamps
        self.latencies = LatencySketches()
        self.good = 0
        self.bad = 0
        self.processed = 0
        self.detections = 0
        self.detections_by_class: dict[str, int] = {}  # boxes written per class name
        self.runs = RunCounter()  # runs of good and bad frames in output order: the filtered video's pieces
        self.error: BaseException | None = None
        self.first_done_ns: int | None = None
        self.last_done_ns: int | None = None
        self._recent_done: deque[int] = deque(maxlen=STATUS_WINDOW)
        self._recent_e2e: deque[float] = deque(maxlen=STATUS_WINDOW)

    def run(self) -> None:
        try:
            if self._header is not None:
                self._sinks.write_entry(self._header)
            while True:
                batch = self._results.get_batch(16)
                if batch is None:
                    break
                taken = time.monotonic_ns()
                for result in batch:
                    result.stamps_ns["output_queue"] = taken
                    self._write_ledger(result.frame.index)
                    self.write(result)
            self._write_ledger(None)
        except BaseException as error:  # re-raised by the main thread after the sinks are closed
            self.error = error
        finally:
            try:
                self._sinks.close()
            except BaseException as error:  # a file that cannot be finalized: the main thread reports it
                self.error = self.error or error

    def _write_ledger(self, before_index: int | None) -> None:
        for entry in self._ledger.drain_before(before_index):
            self._sinks.write_entry(entry.to_record())

    def _status(self) -> StatusLine:
        fps = 0.0
        if len(self._recent_done) > 1:
            span_s = (self._recent_done[-1] - self._recent_done[0]) / 1e9
            fps = (len(self._recent_done) - 1) / span_s if span_s > 0 else 0.0
        latency = sum(self._recent_e2e) / len(self._recent_e2e) if self._recent_e2e else 0.0
        return StatusLine(fps=fps, latency_ms=latency, dropped=sum(self._ledger.drops.values()))

    def write(self, result: FrameResult) -> None:
        """Overlay (when a sink needs it) and write one result to every sink, then record its latencies."""
        frame, verdict = result.frame, result.verdict
        picture = None
        if self._sinks.needs_picture:
            picture = self._overlay.annotate(frame.image, verdict, result.detections, self._status())
        result.stamps_ns["overlay"] = time.monotonic_ns()
        records = [] if result.detections is None else result.detections.to_records()
        output = OutputFrame(result, picture, good=verdict is None or verdict.is_good)
        for sink in self._sinks.media:
            sink.write(output)
        done = time.monotonic_ns()
        result.stamps_ns["sink"] = done
        latency_ms = result.latency_ms()
        output.record = frame_record(result, self._with_display(result, latency_ms), records)
        for sink in self._sinks.logs:
            sink.write(output)
        self._count(result, latency_ms, done, records)
        if self._on_result is not None:
            self._on_result(result)

    def _with_display(self, result: FrameResult, latency_ms: dict[str, float]) -> dict[str, float]:
        """latency_ms plus `display` (capture to display) when the display showed the frame already."""
        if self._display_stamps is None:
            return latency_ms
        shown_ns = self._display_stamps.take(result.frame.index)
        if shown_ns is None:
            return latency_ms
        return {**latency_ms, "display": (shown_ns - result.frame.captured_ns) / 1e6}

    def _count(
        self, result: FrameResult, latency_ms: dict[str, float], done_ns: int, records: list[dict[str, Any]]
    ) -> None:
        self.latencies.add(latency_ms)
        self.processed += 1
        if result.verdict is None or result.verdict.is_good:
            self.good += 1
            self.runs.add(QualityLabel.GOOD)
        else:
            self.bad += 1
            self.runs.add(QualityLabel.BAD)
        self.detections += len(records)
        for record in records:
            self.detections_by_class[record["label"]] = self.detections_by_class.get(record["label"], 0) + 1
        self.first_done_ns = self.first_done_ns or done_ns
        self.last_done_ns = done_ns
        self._recent_done.append(done_ns)
        self._recent_e2e.append(latency_ms.get("e2e", 0.0))

    def paths(self) -> dict[str, str]:
        """Files written by the sinks, by output name."""
        return self._sinks.paths()
