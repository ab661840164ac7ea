"""Hand-off points between the pipeline and the viewers: the newest JPEG frame and a stream of events.

Publishing never blocks and never waits for a viewer: a slow viewer misses frames (it always gets the
newest one) and, when its event backlog is full, its oldest events.
"""

from __future__ import annotations

import json
import threading
from collections import deque
from typing import Any

EVENT_BACKLOG = 256  # events kept per viewer that has not read them yet


class FrameBroadcast:
    """The newest encoded frame, numbered; viewers wait for a newer one than they last sent."""

    def __init__(self) -> None:
        self._condition = threading.Condition()
        self._jpeg: bytes | None = None
        self._sequence = 0
        self.closed = False

    def publish(self, jpeg: bytes) -> None:
        """jpeg: one complete JPEG image."""
        with self._condition:
            self._jpeg = jpeg
            self._sequence += 1
            self._condition.notify_all()

    def newer_than(self, sequence: int, timeout_s: float) -> tuple[int, bytes] | None:
        """(sequence, jpeg) of a frame newer than `sequence`, waiting up to `timeout_s`; None on timeout or
        once closed."""
        with self._condition:
            self._condition.wait_for(lambda: self.closed or self._sequence > sequence, timeout_s)
            if self.closed or self._sequence <= sequence or self._jpeg is None:
                return None
            return self._sequence, self._jpeg

    def close(self) -> None:
        with self._condition:
            self.closed = True
            self._condition.notify_all()


class Subscription:
    """One viewer's backlog of server-sent-event messages."""

    def __init__(self, hub: EventHub) -> None:
        self._hub = hub
        self.backlog: deque[str] = deque(maxlen=EVENT_BACKLOG)

    def next(self, timeout_s: float) -> list[str]:
        """The messages waiting (after up to `timeout_s` for one); empty on timeout or once closed."""
        with self._hub.condition:
            self._hub.condition.wait_for(lambda: self._hub.closed or bool(self.backlog), timeout_s)
            messages = list(self.backlog)
            self.backlog.clear()
            return messages

    def close(self) -> None:
        self._hub.unsubscribe(self)


class EventHub:
    """Fans named JSON events out to every subscribed viewer as server-sent-event messages."""

    def __init__(self) -> None:
        self.condition = threading.Condition()
        self._subscribers: list[Subscription] = []
        self.closed = False

    def subscribe(self) -> Subscription:
        subscription = Subscription(self)
        with self.condition:
            self._subscribers.append(subscription)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        with self.condition:
            if subscription in self._subscribers:
                self._subscribers.remove(subscription)

    @property
    def viewers(self) -> int:
        with self.condition:
            return len(self._subscribers)

    def publish(self, name: str, data: dict[str, Any]) -> None:
        """Queue event `name` with JSON `data` for every viewer."""
        message = sse_message(name, data)
        with self.condition:
            for subscription in self._subscribers:
                subscription.backlog.append(message)
            self.condition.notify_all()

    def close(self) -> None:
        with self.condition:
            self.closed = True
            self.condition.notify_all()


def sse_message(name: str, data: dict[str, Any]) -> str:
    """One server-sent event: `event:` and a single-line JSON `data:` field."""
    return f"event: {name}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n"
