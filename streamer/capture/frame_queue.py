"""A bounded queue between two threads, with a named policy for a full queue.

BLOCK waits for room (files: lossless). DROP_OLDEST discards the oldest waiting item so the newest
always wins (live sources: latency never accumulates); every discarded item is handed to `on_drop`.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from enum import StrEnum
from typing import Generic, TypeVar

Item = TypeVar("Item")


class QueuePolicy(StrEnum):
    BLOCK = "block"
    DROP_OLDEST = "drop_oldest"


class QueueClosed(Exception):
    """Raised by `put` after `close()`."""


class FrameQueue(Generic[Item]):
    """Bounded FIFO shared by one producer and one consumer; `close()` marks the end of the stream."""

    def __init__(
        self,
        maxsize: int,
        policy: QueuePolicy,
        on_drop: Callable[[Item, str], None] | None = None,
    ) -> None:
        if maxsize < 1:
            raise ValueError(f"maxsize must be >= 1, got {maxsize}")
        self.maxsize = maxsize
        self.policy = policy
        self._items: deque[Item] = deque()
        self._condition = threading.Condition()
        self._closed = False
        self._on_drop = on_drop
        self.dropped = 0
        self.high_water = 0

    def put(self, item: Item, stop: threading.Event | None = None) -> bool:
        """Add `item`; returns False if `stop` was set while waiting for room (BLOCK policy)."""
        dropped: Item | None = None
        with self._condition:
            if self._closed:
                raise QueueClosed
            if len(self._items) >= self.maxsize:
                if self.policy is QueuePolicy.DROP_OLDEST:
                    dropped = self._items.popleft()
                    self.dropped += 1
                else:
                    while len(self._items) >= self.maxsize:
                        if stop is not None and stop.is_set():
                            return False
                        self._condition.wait(timeout=0.1)
            self._items.append(item)
            self.high_water = max(self.high_water, len(self._items))
            self._condition.notify_all()
        if dropped is not None and self._on_drop is not None:
            self._on_drop(dropped, "queue_full")
        return True

    def get_batch(
        self, max_items: int, *, wait_s: float = 0.1, fill_deadline_s: float = 0.0
    ) -> list[Item] | None:
        """Up to `max_items` waiting items; [] if none arrived within `wait_s`; None once closed and empty.

        After the first item, waits up to `fill_deadline_s` for the batch to fill (0 = never wait).
        """
        with self._condition:
            if not self._items:
                if self._closed:
                    return None
                self._condition.wait(timeout=wait_s)
                if not self._items:
                    return None if self._closed else []
            if fill_deadline_s > 0 and len(self._items) < max_items:
                deadline = time.monotonic() + fill_deadline_s
                while len(self._items) < max_items and not self._closed:
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        break
                    self._condition.wait(timeout=remaining)
            batch = [self._items.popleft() for _ in range(min(max_items, len(self._items)))]
            self._condition.notify_all()
            return batch

    def take_all(self) -> list[Item]:
        """Every waiting item, at once and without waiting."""
        with self._condition:
            items = list(self._items)
            self._items.clear()
            self._condition.notify_all()
            return items

    def close(self) -> None:
        """No more items will be put; consumers drain what is left then get None."""
        with self._condition:
            self._closed = True
            self._condition.notify_all()

    def __len__(self) -> int:
        with self._condition:
            return len(self._items)
