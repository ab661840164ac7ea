"""Dropped frames and stream events, recorded by any thread and written in frame order by the output thread."""

from __future__ import annotations

import threading
import time
from collections import Counter
from dataclasses import dataclass

from streamer.types import Frame


@dataclass(frozen=True)
class LedgerEntry:
    """A dropped frame (`dropped` = reason) or an event (`event` = name), placed before frame `index`;
    time_s: a dropped frame's stream time in seconds."""

    index: int
    pts: int | None
    dropped: str | None = None
    time_s: float | None = None
    event: str | None = None
    detail: str = ""
    time_ns: int = 0

    def to_record(self) -> dict[str, object]:
        if self.event is not None:
            return {"event": self.event, "before_index": self.index, "detail": self.detail}
        return {
            "index": self.index,
            "pts": self.pts,
            "time_s": None if self.time_s is None else round(self.time_s, 6),
            "quality": None,
            "detections": [],
            "latency_ms": {},
            "dropped": self.dropped,
        }


class Ledger:
    """Thread-safe list of drops and events, drained in index order."""

    def __init__(self) -> None:
        self._entries: list[LedgerEntry] = []
        self._lock = threading.Lock()
        self.drops: Counter[str] = Counter()
        self.events: Counter[str] = Counter()

    def drop(self, frame: Frame, reason: str) -> None:
        """Record that `frame` was not processed, for `reason` (e.g. "queue_full")."""
        with self._lock:
            entry = LedgerEntry(index=frame.index, pts=frame.pts, dropped=reason, time_s=frame.seconds)
            self._entries.append(entry)
            self.drops[reason] += 1

    def event(self, name: str, detail: str, before_index: int) -> None:
        """Record a stream event (e.g. "signal_lost") that happened before frame `before_index`."""
        with self._lock:
            self._entries.append(
                LedgerEntry(
                    index=before_index, pts=None, event=name, detail=detail, time_ns=time.monotonic_ns()
                )
            )
            self.events[name] += 1

    def drop_counts(self) -> dict[str, int]:
        """Frames dropped so far, by reason (a copy, safe to read from any thread)."""
        with self._lock:
            return dict(self.drops)

    def drain_before(self, index: int | None) -> list[LedgerEntry]:
        """Remove and return the entries placed before frame `index` (all of them if None), in order."""
        with self._lock:
            ready = [e for e in self._entries if index is None or e.index < index]
            self._entries = [e for e in self._entries if not (index is None or e.index < index)]
        return sorted(ready, key=lambda e: (e.index, e.event is None))
