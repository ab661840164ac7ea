"""Figures of a benchmark run, computed from the frames.jsonl the pipeline wrote (warm-up frames left out)."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from streamer.latency import LatencyRecorder

TARGETS_S = (0.17, 0.31)  # per-image times reported by the source papers
MAX_DROP_SHARE = 0.01  # a live run keeps up when it drops at most 1% of the frames


@dataclass
class RunFigures:
    """Per-frame figures of the measured part of a run.

    latencies: stage -> ms per processed frame, in frame order; drops: reason -> frames;
    done_s: seconds since the first measured frame was captured, at which each frame reached the sink.
    """

    latencies: LatencyRecorder = field(default_factory=LatencyRecorder)
    drops: Counter[str] = field(default_factory=Counter)
    indices: list[int] = field(default_factory=list)
    processed: int = 0

    @property
    def frames(self) -> int:
        return self.processed + sum(self.drops.values())


def read_run(jsonl: Path, warmup: int) -> RunFigures:
    """Latencies and drops of every frame record with index >= warmup."""
    figures = RunFigures()
    for line in jsonl.read_text().splitlines():
        record: dict[str, Any] = json.loads(line)
        if "index" not in record or record["index"] < warmup:
            continue
        if record["dropped"]:
            figures.drops[record["dropped"]] += 1
            continue
        figures.processed += 1
        figures.indices.append(record["index"])
        figures.latencies.add(record["latency_ms"])
    return figures


def is_realtime(*, fps: float, source_fps: float, frames: int, dropped: int, live: bool) -> bool:
    """Live: at most 1% dropped and output rate within 1% of the source rate. File: faster than the source."""
    if live:
        return frames > 0 and dropped <= MAX_DROP_SHARE * frames and fps >= 0.99 * source_fps
    return fps >= source_fps
