"""The inference thread: batches waiting frames, preprocesses, gates quality, detects and fuses."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from streamer.capture.frame_queue import FrameQueue
from streamer.pipeline.detector_stage import DetectorStage
from streamer.pipeline.preprocess import Preprocessor
from streamer.pipeline.quality_gate import QualityGate
from streamer.types import Frame, FrameResult


class InferenceWorker(threading.Thread):
    """Consumer of frames, producer of FrameResults (in frame order).

    batch: most frames taken at once; fill_deadline_s: how long to wait for a batch to fill (0 for live
    sources, so a frame is never held back waiting for others); synchronize: waits for the device (CUDA)
    before each stage's stamp, so stamps measure finished work; on_lost(frame, "aborted") is told of every
    frame an abort leaves unprocessed, so each input frame is still accounted for. An exception is kept in
    `error`.
    """

    def __init__(
        self,
        frames: FrameQueue[Frame],
        results: FrameQueue[FrameResult],
        preprocessor: Preprocessor,
        gate: QualityGate,
        detector: DetectorStage,
        abort: threading.Event,
        *,
        on_lost: Callable[[Frame, str], None],
        batch: int,
        fill_deadline_s: float,
        synchronize: Callable[[], None] | None = None,
    ) -> None:
        super().__init__(name="inference", daemon=True)
        self._frames = frames
        self._results = results
        self._preprocessor = preprocessor
        self._gate = gate
        self._detector = detector
        self._abort = abort
        self._on_lost = on_lost
        self._batch = batch
        self._fill_deadline_s = fill_deadline_s
        self._synchronize = synchronize
        engines = [gate.engine, *detector.engines]
        self._input_specs = [engine.spec for engine in engines if engine is not None]
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            while not self._abort.is_set():
                frames = self._frames.get_batch(self._batch, fill_deadline_s=self._fill_deadline_s)
                if frames is None:
                    break
                if not frames:
                    continue  # nothing arrived within the wait: look at the abort flag again
                results = self.process(frames)
                for position, result in enumerate(results):
                    if not self._results.put(result, self._abort):
                        self._lose([r.frame for r in results[position:]])
                        return
        except (
            BaseException
        ) as error:  # handed to the main thread, which re-raises it after finalizing outputs
            self.error = error
            self._abort.set()
        finally:
            if self._abort.is_set():
                self._lose(self._frames.take_all())
            self._results.close()

    def _lose(self, frames: list[Frame]) -> None:
        for frame in frames:
            self._on_lost(frame, "aborted")

    def process(self, frames: list[Frame]) -> list[FrameResult]:
        """Run the stages on one batch; every result gets a stamp per stage it went through."""
        taken = time.monotonic_ns()
        results = [FrameResult(frame=frame, stamps_ns={"queue": taken}) for frame in frames]
        prepared = self._preprocessor.prepare([frame.image for frame in frames])
        for spec in self._input_specs:  # resize and normalise here, so the time counts as preprocessing
            prepared.inputs_for(spec)
        self._stamp(results, "preprocess")
        verdicts = self._gate.judge(prepared)
        self._stamp(results, "quality")
        good = [i for i, verdict in enumerate(verdicts) if verdict.is_good]
        for result, verdict in zip(results, verdicts, strict=True):
            result.verdict = verdict
        per_model = self._detector.detect(prepared, good)
        good_results = [results[i] for i in good]
        self._stamp(good_results, "detector")
        for result, detections in zip(good_results, self._detector.fuse(per_model), strict=True):
            result.detections = detections
        self._stamp(good_results, "fusion")
        return results

    def _stamp(self, results: list[FrameResult], stage: str) -> None:
        if self._synchronize is not None:
            self._synchronize()
        now = time.monotonic_ns()
        for result in results:
            result.stamps_ns[stage] = now
