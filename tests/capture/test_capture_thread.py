"""The capture thread: live sources drop the oldest frames under load (bounded memory, every drop counted),
files lose nothing, and a failing live stream is reconnected with events in the ledger."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import numpy as np

from streamer.capture.capture_thread import CaptureThread
from streamer.capture.frame_queue import FrameQueue, QueuePolicy
from streamer.capture.source import RawFrame, SourceInfo
from streamer.errors import SourceError
from streamer.ledger import Ledger
from streamer.types import Frame

IMAGE = np.zeros((16, 16, 3), np.uint8)  # the smallest frame a source may give


class FakeSource:
    """Yields `frames` frames as fast as possible, then ends or fails (`fail_with`)."""

    def __init__(self, frames: int, *, live: bool, fail_with: str | None = None) -> None:
        self.info = SourceInfo(id="fake", is_live=live, fps=25.0, width=8, height=8)
        self._frames = frames
        self._fail_with = fail_with
        self.closed = False

    def read(self) -> Iterator[RawFrame]:
        for index in range(self._frames):
            yield RawFrame(image=IMAGE, pts=index, time_base=0.04, decode_ns=0)
        if self._fail_with:
            raise SourceError(self._fail_with)

    def close(self) -> None:
        self.closed = True

    def __enter__(self) -> FakeSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _slow_consumer(queue: FrameQueue[Frame], seen: list[int], high_water: list[int]) -> threading.Thread:
    def consume() -> None:
        while (batch := queue.get_batch(1)) is not None:
            high_water.append(len(queue))
            seen.extend(frame.index for frame in batch)
            time.sleep(0.001)

    thread = threading.Thread(target=consume)
    thread.start()
    return thread


def test_live_source_faster_than_consumer_drops_oldest_with_bounded_memory() -> None:
    ledger = Ledger()
    queue: FrameQueue[Frame] = FrameQueue(4, QueuePolicy.DROP_OLDEST, on_drop=ledger.drop)
    seen: list[int] = []
    depths: list[int] = []
    consumer = _slow_consumer(queue, seen, depths)
    capture = CaptureThread(FakeSource(2000, live=True), queue, ledger, threading.Event())
    capture.start()
    capture.join(10)
    consumer.join(10)
    dropped = ledger.drops["queue_full"]
    assert dropped > 0
    assert dropped + len(seen) == 2000  # every frame is either processed or counted as dropped
    assert queue.high_water <= 4 and max(depths) <= 4
    assert seen == sorted(seen) and seen[-1] == 1999  # the newest frame always reaches the consumer
    records = [entry.to_record() for entry in ledger.drain_before(None)]
    assert len(records) == dropped
    assert all(r["dropped"] == "queue_full" and isinstance(r["time_s"], float) for r in records)


def test_file_source_faster_than_consumer_drops_nothing() -> None:
    ledger = Ledger()
    queue: FrameQueue[Frame] = FrameQueue(4, QueuePolicy.BLOCK, on_drop=ledger.drop)
    seen: list[int] = []
    consumer = _slow_consumer(queue, seen, [])
    capture = CaptureThread(FakeSource(300, live=False), queue, ledger, threading.Event())
    capture.start()
    capture.join(10)
    consumer.join(10)
    assert seen == list(range(300))
    assert not ledger.drops
    assert queue.high_water <= 4


def test_failing_live_stream_reconnects_then_ends_cleanly() -> None:
    ledger = Ledger()
    queue: FrameQueue[Frame] = FrameQueue(1000, QueuePolicy.DROP_OLDEST, on_drop=ledger.drop)
    attempts: list[int] = []

    def reopen() -> FakeSource:
        attempts.append(1)
        if len(attempts) > 1:
            raise SourceError("connection refused")
        return FakeSource(5, live=True, fail_with="signal lost")

    capture = CaptureThread(
        FakeSource(5, live=True, fail_with="signal lost"),
        queue,
        ledger,
        threading.Event(),
        reopen=reopen,
        reconnect_attempts=2,
        reconnect_backoff_s=0.001,
    )
    capture.start()
    capture.join(10)
    assert not capture.is_alive()
    assert capture.error is None
    indices = [frame.index for frame in queue.get_batch(100) or []]
    assert indices == list(range(10))  # real frames only, numbered on; nothing made up for the gap
    assert ledger.events["signal_lost"] == 2
    assert ledger.events["reconnected"] == 1
    assert ledger.events["reconnect_failed"] == 2
    assert ledger.events["stream_ended"] == 1


def test_file_error_is_kept_for_the_caller_and_queue_closed() -> None:
    queue: FrameQueue[Frame] = FrameQueue(100, QueuePolicy.BLOCK)
    source = FakeSource(3, live=False, fail_with="corrupt data")
    capture = CaptureThread(source, queue, Ledger(), threading.Event())
    capture.start()
    capture.join(10)
    assert isinstance(capture.error, SourceError)
    assert len(queue.get_batch(10) or []) == 3
    assert queue.get_batch(10) is None
    assert source.closed


def test_pacing_delivers_frames_at_their_presentation_time() -> None:
    queue: FrameQueue[Frame] = FrameQueue(100, QueuePolicy.DROP_OLDEST)
    capture = CaptureThread(FakeSource(6, live=False), queue, Ledger(), threading.Event(), pace=True)
    started = time.monotonic()
    capture.start()
    capture.join(10)
    assert time.monotonic() - started >= 5 * 0.04 * 0.9
    frames = queue.get_batch(10) or []
    gaps_ms = np.diff([frame.captured_ns for frame in frames]) / 1e6
    assert np.all(gaps_ms > 25)
