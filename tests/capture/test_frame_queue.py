"""The bounded queue: BLOCK is lossless, DROP_OLDEST keeps the newest and counts every drop."""

from __future__ import annotations

import threading
import time

import pytest

from streamer.capture.frame_queue import FrameQueue, QueueClosed, QueuePolicy


def test_drop_oldest_keeps_newest_and_reports_each_drop() -> None:
    dropped: list[tuple[int, str]] = []
    queue: FrameQueue[int] = FrameQueue(
        3, QueuePolicy.DROP_OLDEST, on_drop=lambda item, why: dropped.append((item, why))
    )
    for item in range(10):
        queue.put(item)
    assert len(queue) == 3
    assert queue.get_batch(10) == [7, 8, 9]
    assert dropped == [(i, "queue_full") for i in range(7)]
    assert queue.dropped == 7


def test_block_waits_for_room_and_loses_nothing() -> None:
    queue: FrameQueue[int] = FrameQueue(2, QueuePolicy.BLOCK)
    received: list[int] = []

    def consume() -> None:
        while (batch := queue.get_batch(1)) is not None:
            received.extend(batch)
            time.sleep(0.002)

    consumer = threading.Thread(target=consume)
    consumer.start()
    for item in range(50):
        queue.put(item)
    queue.close()
    consumer.join(5)
    assert received == list(range(50))
    assert queue.dropped == 0
    assert queue.high_water == 2  # the producer ran ahead, filled the queue and waited


def test_blocked_put_gives_up_when_stopped() -> None:
    queue: FrameQueue[int] = FrameQueue(1, QueuePolicy.BLOCK)
    queue.put(0)
    stop = threading.Event()
    threading.Timer(0.05, stop.set).start()
    assert queue.put(1, stop) is False
    assert queue.get_batch(5) == [0]


def test_get_batch_returns_what_is_waiting_without_waiting_to_fill() -> None:
    queue: FrameQueue[int] = FrameQueue(8, QueuePolicy.BLOCK)
    queue.put(1)
    late = threading.Timer(0.3, lambda: queue.put(2))
    late.start()
    assert queue.get_batch(4, fill_deadline_s=0.0) == [1]  # the item due later is not waited for
    late.join()
    assert queue.get_batch(4, fill_deadline_s=0.0) == [2]


def test_get_batch_fill_deadline_collects_late_items() -> None:
    queue: FrameQueue[int] = FrameQueue(8, QueuePolicy.BLOCK)
    queue.put(1)
    threading.Timer(0.02, lambda: queue.put(2)).start()
    assert queue.get_batch(2, fill_deadline_s=1.0) == [1, 2]


def test_close_drains_then_signals_end() -> None:
    queue: FrameQueue[int] = FrameQueue(4, QueuePolicy.BLOCK)
    queue.put(1)
    queue.close()
    assert queue.get_batch(4) == [1]
    assert queue.get_batch(4) is None
    with pytest.raises(QueueClosed):
        queue.put(2)
