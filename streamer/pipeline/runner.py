"""Compose and run the pipeline: capture thread → inference thread → output thread, bounded queues between.

Shutdown is driven by events: end of stream drains every queue; the first Ctrl-C or SIGTERM stops the
capture and drains what is queued; a second one aborts inference. The sinks are always finalized.
"""

from __future__ import annotations

import json
import platform
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import torch

from streamer.backends.base import Engine
from streamer.capture.capture_thread import CaptureThread
from streamer.capture.frame_queue import FrameQueue, QueuePolicy
from streamer.capture.open_source import is_live_spec, open_source
from streamer.capture.source import Source
from streamer.config import BadFramePolicy, RunConfig
from streamer.errors import SinkError, StreamerError
from streamer.fusion import Fuser
from streamer.fusion.fuser import warm_up_nms
from streamer.ledger import Ledger
from streamer.monitor.display import (
    DISPLAY_QUEUE_SIZE,
    DisplayFeed,
    DisplayTargets,
    DisplayWorker,
    LatestResult,
)
from streamer.monitor.live import LiveMonitor
from streamer.monitor.state import DisplayStamps
from streamer.pipeline.engine_loading import describe_engine, load_classifier, load_detectors
from streamer.pipeline.inference import InferenceWorker
from streamer.pipeline.output import OutputSinks, OutputWorker
from streamer.pipeline.quality_gate import make_quality_gate
from streamer.pipeline.stage_setup import make_detector_stage, make_preprocessor
from streamer.sinks.folder import OutputFolder
from streamer.sinks.window import WindowSink
from streamer.types import Frame, FrameResult

JOIN_POLL_S = 0.2
RESULT_QUEUE_SIZE = 32
DEFAULT_FPS = 25.0


@dataclass
class RunOutcome:
    """The summary written to summary.json, and the source error (if any) to report after finalizing."""

    summary: dict[str, Any]
    error: StreamerError | None = None


@contextmanager
def _stop_on_signals(stop: threading.Event, abort: threading.Event, enabled: bool = True) -> Iterator[None]:
    """First SIGINT/SIGTERM sets `stop`, the second `abort`. Only installed from the main thread, and only
    when `enabled` (a worker process that is told when to stop by its host leaves the signals alone)."""
    if not enabled or threading.current_thread() is not threading.main_thread():
        yield
        return

    def handle(signum: int, _frame: object) -> None:
        if stop.is_set():
            abort.set()
        stop.set()

    previous = {sig: signal.signal(sig, handle) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


@dataclass
class LoadedEngines:
    """A run's engines, loaded and warmed up once; several runs of one configuration can share them."""

    classifier: Engine | None
    detectors: list[Engine]

    @classmethod
    def load(cls, config: RunConfig) -> LoadedEngines:
        """Load the profile's quality gate and detectors and warm them up (closed again on failure)."""
        engines: list[Engine] = []
        try:
            classifier = load_classifier(config)
            engines.extend([classifier] if classifier is not None else [])
            detectors = load_detectors(config)
            engines.extend(detectors)
            warm_up(engines, config.batch, Fuser(config.fusion) if len(detectors) > 1 else None)
        except BaseException:
            for engine in engines:
                engine.close()
            raise
        return cls(classifier, detectors)

    def close(self) -> None:
        for engine in (self.classifier, *self.detectors):
            if engine is not None:
                engine.close()


def warm_up_batch_sizes(device: torch.device, batch: int) -> list[int]:
    """The batch sizes to warm an engine on `device` at: every size from 1 to `batch` on an accelerator (a
    CUDA graph or kernel choice is made per shape, and the stream sees every partial batch), 1 and `batch`
    on the CPU, where a new shape costs no more than the first call at a size."""
    return list(range(1, batch + 1)) if device.type != "cpu" else sorted({1, batch})


def warm_up(engines: list[Engine], batch: int, fuser: Fuser | None) -> None:
    """Run each engine on zeros at its warm-up batch sizes, and the fusion (an ensemble's `fuser`) and NMS
    kernels once, so the first frames pay no one-off costs (memory allocation, kernel selection, graph
    capture, compilation). A single detector (fuser None) warms only the NMS its decoding uses."""
    with torch.inference_mode():
        for engine in engines:
            height, width = engine.spec.input_size
            for size in warm_up_batch_sizes(engine.device, batch):
                engine.infer(torch.zeros((size, 3, height, width), device=engine.device))
    if fuser is None:
        warm_up_nms()
    else:
        fuser.warm_up()


class DisplayPath:
    """The display thread of a watched run, its input queue and what it shares with the output thread."""

    def __init__(
        self,
        fps: float,
        ledger: Ledger,
        bad_frames: BadFramePolicy,
        monitor: LiveMonitor | None,
        window: WindowSink | None,
    ) -> None:
        self.frames: FrameQueue[Frame] = FrameQueue(DISPLAY_QUEUE_SIZE, QueuePolicy.DROP_OLDEST)
        self.latest = LatestResult()
        self.stamps = DisplayStamps()
        self._window = window
        self._state = None if monitor is None else monitor.state
        targets = DisplayTargets(
            broadcast=None if monitor is None else monitor.broadcast, window=window, state=self._state
        )
        self.feed = DisplayFeed(self.latest, self._state)
        self.worker = DisplayWorker(
            self.frames,
            self.latest,
            targets,
            self.stamps,
            bad_frames=bad_frames,
            frame_interval_ms=1000.0 / fps,
            dropped=lambda: sum(ledger.drop_counts().values()),
        )

    def close(self) -> None:
        if self._window is not None:
            self._window.close()


class Pipeline:
    """One run of streamer over one source with one configuration.

    engines: already loaded engines of this configuration to use (and leave open), instead of loading
    them for this run; handle_signals: Ctrl-C / SIGTERM stop the run (else only `stop` / `abort` do).
    """

    def __init__(
        self,
        config: RunConfig,
        source_spec: str,
        *,
        engines: LoadedEngines | None = None,
        handle_signals: bool = True,
    ) -> None:
        self.config = config
        self.source_spec = source_spec
        self.shared_engines = engines
        self.handle_signals = handle_signals
        self.stop = threading.Event()
        self.abort = threading.Event()

    def run(
        self,
        *,
        on_result: Callable[[FrameResult], None] | None = None,
        on_start: Callable[[Source], None] | None = None,
        on_serving: Callable[[str], None] | None = None,
    ) -> RunOutcome:
        """Process the whole source. Raises StreamerError before any output exists if the source or a model
        cannot be opened; a failure mid-stream is returned in the outcome after the outputs are finalized.
        on_serving(url) is told where the live monitor listens (with `config.monitor`)."""
        config = self.config
        folder = OutputFolder(config.output.out_dir, overwrite=config.output.overwrite)
        folder.check()  # refuse an occupied folder before the slow start-up
        monitor = None if config.monitor is None else LiveMonitor(config.monitor, self.source_spec)
        try:
            if monitor is not None and on_serving is not None:
                on_serving(monitor.url)
            return self._run_with_models(folder, monitor, on_result, on_start)
        finally:
            if monitor is not None:
                monitor.close()

    def _run_with_models(
        self,
        folder: OutputFolder,
        monitor: LiveMonitor | None,
        on_result: Callable[[FrameResult], None] | None,
        on_start: Callable[[Source], None] | None,
    ) -> RunOutcome:
        config = self.config
        live = is_live_spec(self.source_spec)
        # a file is opened first, so a bad one is refused before the models load; a live source last,
        # so that its first frames are fresh ones rather than a backlog from the start-up
        opened = None if live else open_source(self.source_spec, config.capture)
        engines: LoadedEngines | None = self.shared_engines
        try:
            if engines is None:
                engines = LoadedEngines.load(config)
            if opened is None:
                opened = open_source(self.source_spec, config.capture)
        except BaseException:
            if opened is not None:
                opened[0].close()
            if engines is not None and engines is not self.shared_engines:
                engines.close()
            raise
        source, reopen = opened
        classifier, detectors = engines.classifier, engines.detectors
        try:
            try:
                folder.__enter__()  # locked until the outputs are finalized
            except BaseException:
                source.close()
                raise
            try:
                return self._run_threads(source, reopen, classifier, detectors, monitor, on_result, on_start)
            finally:
                folder.__exit__(None, None, None)
        finally:
            if engines is not self.shared_engines:
                engines.close()

    def _run_threads(
        self,
        source: Source,
        reopen: Callable[[], Source],
        classifier: Engine | None,
        detectors: list[Engine],
        monitor: LiveMonitor | None,
        on_result: Callable[[FrameResult], None] | None,
        on_start: Callable[[Source], None] | None,
    ) -> RunOutcome:
        config = self.config
        info = source.info
        live = info.is_live or config.capture.realtime
        ledger = Ledger()
        frames: FrameQueue[Frame] = FrameQueue(
            config.capture.live_queue_size if live else config.capture.queue_size,
            QueuePolicy.DROP_OLDEST if live else QueuePolicy.BLOCK,
            on_drop=ledger.drop,
        )
        results: FrameQueue[FrameResult] = FrameQueue(RESULT_QUEUE_SIZE, QueuePolicy.BLOCK)
        device = torch.device(config.device)
        detector_stage = make_detector_stage(detectors, config)
        display = self._display(info.fps or DEFAULT_FPS, ledger, monitor)
        try:
            sinks = OutputSinks(
                config.output,
                fps=info.fps or DEFAULT_FPS,
                class_names=detector_stage.classes,
                extra=[] if display is None else [display.feed],
            )
        except OSError as error:
            source.close()
            raise SinkError(f"cannot write to {config.output.out_dir}: {error.strerror or error}") from error
        capture = CaptureThread(
            source,
            frames,
            ledger,
            self.stop,
            reopen=reopen if info.is_live else None,
            reconnect_attempts=config.capture.reconnect,
            reconnect_backoff_s=config.capture.reconnect_backoff_s,
            max_frames=config.capture.max_frames,
            pace=config.capture.realtime and not info.is_live,
            tee=None if display is None else display.frames,
        )
        inference = InferenceWorker(
            frames,
            results,
            make_preprocessor(config, fov_refresh_frames=1 if info.is_stills else None),
            make_quality_gate(classifier, config, stills=info.is_stills),
            detector_stage,
            self.abort,
            on_lost=ledger.drop,
            batch=config.batch,
            fill_deadline_s=0.0 if live else config.batch_deadline_ms / 1000,
            synchronize=torch.cuda.synchronize if device.type == "cuda" else None,
        )
        header = {
            "event": "run_started",
            "source": info.id,
            "profile": config.profile,
            "models": self._models(classifier, detectors),
        }
        output = OutputWorker(
            results,
            sinks,
            ledger,
            config.output,
            header=header,
            on_result=on_result,
            display_stamps=None if display is None else display.stamps,
        )
        started = time.monotonic_ns()
        if on_start is not None:
            on_start(source)
        if monitor is not None:
            monitor.state.running(info.id, ledger.drop_counts)
        workers = [output, inference, *([] if display is None else [display.worker])]
        try:
            with _stop_on_signals(self.stop, self.abort, self.handle_signals):
                for thread in (*workers, capture):
                    thread.start()
                while output.is_alive():
                    output.join(JOIN_POLL_S)
                    if display is not None and (display.worker.window_closed or display.worker.error):
                        self.stop.set()
                    if inference.error is not None or output.error is not None:
                        self.stop.set()
                        self.abort.set()
                for thread in (inference, capture, *workers[2:]):
                    thread.join(JOIN_POLL_S * 10)
        finally:
            if display is not None:
                display.close()
        for worker in workers:
            if worker.error is not None:
                raise worker.error
        summary = self._summary(info, capture, output, ledger, classifier, detectors, started, live)
        if display is not None:
            summary["frames"]["displayed"] = display.worker.displayed
            summary["frames"]["display_skipped"] = display.frames.dropped
            summary["frames"]["display_withheld"] = display.worker.withheld
            summary["latency_ms"]["display"] = display.worker.latencies.summary().get("display", {})
        (config.output.out_dir / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
        if monitor is not None:
            monitor.state.ended(summary)
            if not info.is_live and not self.stop.is_set():
                self._linger(monitor.config.linger_s)
        return RunOutcome(summary=summary, error=capture.error)

    def _display(self, fps: float, ledger: Ledger, monitor: LiveMonitor | None) -> DisplayPath | None:
        """The display path when frames are watched live (the monitor and/or the window), else None."""
        if monitor is None and not self.config.output.show:
            return None
        return DisplayPath(
            fps,
            ledger,
            self.config.output.bad_frames,
            monitor,
            WindowSink() if self.config.output.show else None,
        )

    def _linger(self, seconds: float) -> None:
        """Keep the monitor's page up after a file ends, until `seconds` pass or Ctrl-C / SIGTERM."""
        if seconds <= 0:
            return
        done = threading.Event()
        with _stop_on_signals(done, done):
            done.wait(seconds)

    def _models(self, classifier: Engine | None, detectors: list[Engine]) -> dict[str, Any]:
        """Which engines ran: name, backend, device, precision, source hash; and the fusion mode."""
        return {
            "quality": None if classifier is None else describe_engine(classifier),
            "detectors": [describe_engine(engine) for engine in detectors],
            "fusion": self.config.fusion.mode if len(detectors) > 1 else None,
        }

    def _summary(
        self,
        info: Any,
        capture: CaptureThread,
        output: OutputWorker,
        ledger: Ledger,
        classifier: Engine | None,
        detectors: list[Engine],
        started_ns: int,
        live: bool,
    ) -> dict[str, Any]:
        wall_s = (time.monotonic_ns() - started_ns) / 1e9
        busy_s = ((output.last_done_ns or started_ns) - started_ns) / 1e9
        return {
            "source": {
                "id": info.id,
                "live": info.is_live,
                "paced": self.config.capture.realtime,
                "fps": info.fps,
                "width": info.width,
                "height": info.height,
            },
            "profile": self.config.profile,
            "queue_policy": "drop_oldest" if live else "block",
            "frames": {
                "in": capture.frames_read,
                "processed": output.processed,
                "good": output.good,
                "bad": output.bad,
                "good_runs": output.runs.runs["good"],
                "bad_runs": output.runs.runs["bad"],
                "dropped": dict(ledger.drops),
                "dropped_total": sum(ledger.drops.values()),
            },
            "detections": output.detections,
            "detections_by_class": dict(sorted(output.detections_by_class.items())),
            "events": dict(ledger.events),
            "interrupted": self.stop.is_set(),
            "error": None if capture.error is None else str(capture.error),
            "fps": round(output.processed / busy_s, 2) if busy_s > 0 else 0.0,
            "wall_s": round(wall_s, 3),
            "latency_ms": output.latencies.summary(),
            "models": self._models(classifier, detectors),
            "backend": sorted(
                {str(describe_engine(e)["backend"]) for e in (classifier, *detectors) if e is not None}
            ),
            "device": self.config.device,
            "batch": self.config.batch,
            "outputs": {**output.paths(), "summary": str(self.config.output.out_dir / "summary.json")},
            "machine": {
                "platform": platform.platform(),
                "python": sys.version.split()[0],
                "torch": torch.__version__,
            },
        }
