"""The one contract every output follows, and what a sink is given.

The output thread draws the overlay once (when a sink needs the picture), hands each processed frame to
every sink in registry order, and then, with the frame's latency final, its JSON record to the sinks
that keep records. A sink is one class in one file plus one line in `streamer.sinks.registry`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from streamer.types import Detections, FrameResult


@dataclass(frozen=True)
class SinkContext:
    """What a sink opens with: its run's output folder, the source frame rate (frames/s), the detectors'
    class names and the H.264 settings of the videos (x264 preset, CRF 0-51)."""

    out_dir: Path
    fps: float
    class_names: tuple[str, ...]
    video_preset: str = "ultrafast"
    video_crf: int = 23


@dataclass
class OutputFrame:
    """One processed frame as the sinks get it.

    picture: the frame with the overlay (H×W×3 uint8 RGB), None unless a sink needs it; good: whether it
    passed the quality gate (or there is no gate); record: its JSON Lines record, set once its latency is
    final (for `keeps_records` sinks).
    """

    result: FrameResult
    picture: np.ndarray | None
    good: bool
    record: dict[str, Any] = field(default_factory=dict)

    @cached_property
    def detections(self) -> Detections:
        """The frame's detections as every output file holds them (`Detections.rounded()`: on the CPU,
        boxes to 0.01 source pixels, scores to 1e-4); empty when no detector ran on it (`result.detections`
        is None then). Made on first use: only the sinks that write boxes ask."""
        detections = self.result.detections
        return Detections.empty(classes=()) if detections is None else detections.rounded()


class Sink(ABC):
    """An output of a run.

    needs_picture: `write` reads `OutputFrame.picture`; keeps_records: the sink is written after the
    frame's latency is final (it reads `OutputFrame.record`) and also gets the run's other records
    (header, drops, events) through `write_entry`.
    """

    needs_picture: ClassVar[bool] = False
    keeps_records: ClassVar[bool] = False

    @abstractmethod
    def write(self, frame: OutputFrame) -> None:
        """Write one processed frame."""

    def write_entry(self, record: dict[str, Any]) -> None:  # noqa: B027 (most sinks keep no records)
        """Write a record that is not a processed frame; only sinks that keep records do."""

    @abstractmethod
    def close(self) -> None:
        """Finalize the output (playable, parseable); called once, also after a failure."""

    @abstractmethod
    def paths(self) -> dict[str, str]:
        """{output name: path} of what the sink writes."""
