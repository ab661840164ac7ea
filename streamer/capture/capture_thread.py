"""The capture thread: reads a source into a bounded queue, paces files like a live feed on request,
and reconnects live sources with exponential backoff."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from streamer.capture.frame_queue import FrameQueue
from streamer.capture.source import Source, check_frame_size
from streamer.errors import SourceError
from streamer.ledger import Ledger
from streamer.types import Frame


class CaptureThread(threading.Thread):
    """Producer thread. Closes `queue` when the stream ends, fails or `stop` is set.

    reopen: opens the same source again after a live stream fails (None = no reconnect);
    pace: sleep so frames leave at their presentation time (a file behaving like a capture card);
    tee: a drop-oldest queue that also gets every frame, first (the display path), closed with `queue`.
    A failure of a file is kept in `error` for the caller to report after the outputs are finalized.
    """

    def __init__(
        self,
        source: Source,
        queue: FrameQueue[Frame],
        ledger: Ledger,
        stop: threading.Event,
        *,
        reopen: Callable[[], Source] | None = None,
        reconnect_attempts: int = 3,
        reconnect_backoff_s: float = 0.5,
        max_frames: int | None = None,
        pace: bool = False,
        tee: FrameQueue[Frame] | None = None,
    ) -> None:
        super().__init__(name="capture", daemon=True)
        self._source = source
        self._queue = queue
        self._ledger = ledger
        self._stop_event = stop
        self._reopen = reopen
        self._reconnect_attempts = reconnect_attempts
        self._backoff_s = reconnect_backoff_s
        self._max_frames = max_frames
        self._pace = pace
        self._tee = tee
        self.error: SourceError | None = None
        self.frames_read = 0

    def run(self) -> None:
        try:
            while not self._stop_event.is_set():
                reason = self._read_until_end()
                if reason is None or self._reopen is None:
                    return
                self._ledger.event("signal_lost", reason, self.frames_read)
                if not self._reconnect():
                    return
        finally:
            self._source.close()
            self._queue.close()
            if self._tee is not None:
                self._tee.close()

    def _read_until_end(self) -> str | None:
        """Read frames; returns None when done (end of file, stop, max frames), else why the stream failed."""
        clock_start: float | None = None
        first_seconds = 0.0
        try:
            for raw in self._source.read():
                if self._stop_event.is_set() or (
                    self._max_frames is not None and self.frames_read >= self._max_frames
                ):
                    return None
                check_frame_size(raw.image.shape[1], raw.image.shape[0], self._source.info.id)
                if self._pace:
                    seconds = raw.pts * raw.time_base
                    if clock_start is None:
                        clock_start, first_seconds = time.monotonic(), seconds
                    delay = clock_start + (seconds - first_seconds) - time.monotonic()
                    if delay > 0 and self._stop_event.wait(delay):
                        return None
                frame = Frame(
                    index=self.frames_read,
                    pts=raw.pts,
                    time_base=raw.time_base,
                    captured_ns=time.monotonic_ns(),
                    source=self._source.info.id,
                    image=raw.image,
                    decode_ns=raw.decode_ns,
                )
                if self._tee is not None:
                    self._tee.put(frame)  # a drop-oldest queue: never waits for the display
                if not self._queue.put(frame, self._stop_event):
                    return None
                self.frames_read += 1
        except SourceError as error:
            if self._reopen is None:
                self.error = error
                return None
            return str(error)
        return "end of stream" if self._source.info.is_live else None

    def _reconnect(self) -> bool:
        """Reopen the source with exponential backoff; False when every attempt failed or stop was set."""
        self._source.close()
        for attempt in range(self._reconnect_attempts):
            if self._stop_event.wait(self._backoff_s * (2**attempt)):
                return False
            try:
                self._source = self._reopen()  # type: ignore[misc]
            except SourceError as error:
                self._ledger.event("reconnect_failed", str(error), self.frames_read)
                continue
            self._ledger.event("reconnected", f"attempt {attempt + 1}", self.frames_read)
            return True
        self._ledger.event(
            "stream_ended", f"gave up after {self._reconnect_attempts} attempts", self.frames_read
        )
        return False
