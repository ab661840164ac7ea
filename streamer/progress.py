"""Terminal feedback while a run goes: a progress bar for files, a status line for live sources."""

from __future__ import annotations

import sys

from tqdm import tqdm

from streamer.capture.source import Source
from streamer.types import FrameResult

REFRESH_EVERY = 10  # frames between updates of the live figures


class RunProgress:
    """Feeds a tqdm bar from the output thread; for live sources shows latency instead of a total."""

    def __init__(self, *, enabled: bool = True) -> None:
        self._enabled = enabled and sys.stderr.isatty()
        self._bar: tqdm | None = None
        self._count = 0

    def start(self, source: Source) -> None:
        if not self._enabled:
            return
        info = source.info
        total = None if info.is_live else info.frame_count
        self._bar = tqdm(
            total=total, unit="frame", desc="live" if info.is_live else "frames", file=sys.stderr
        )

    def update(self, result: FrameResult) -> None:
        if self._bar is None:
            return
        self._bar.update(1)
        self._count += 1
        if self._count % REFRESH_EVERY == 0:
            latency = result.latency_ms().get("e2e", 0.0)
            label = result.verdict.label.value if result.verdict else "-"
            self._bar.set_postfix_str(f"e2e {latency:.0f} ms, last {label}", refresh=False)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
