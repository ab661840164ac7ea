"""JSON Lines writer: one record per line, flushed as it goes so a crash loses nothing written."""

from __future__ import annotations

import json
from pathlib import Path
from typing import IO, Any

from streamer.errors import SinkError
from streamer.sinks.base import OutputFrame, Sink, SinkContext


class JsonlSink:
    """Append JSON records to `path` (created or truncated)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            self._file: IO[str] | None = path.open("w", encoding="utf-8")
        except OSError as error:
            raise SinkError(f"cannot write {path}: {error.strerror}") from error

    def write(self, record: dict[str, Any]) -> None:
        if self._file is None:
            raise SinkError(f"{self.path} is closed")
        self._file.write(json.dumps(record, separators=(",", ":")) + "\n")
        self._file.flush()

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    def __enter__(self) -> JsonlSink:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class FrameLog(Sink):
    """`jsonl`: frames.jsonl, one record per input frame (processed or dropped) and per event, in order."""

    keeps_records = True

    def __init__(self, context: SinkContext) -> None:
        self._file = JsonlSink(context.out_dir / "frames.jsonl")

    def write(self, frame: OutputFrame) -> None:
        self._file.write(frame.record)

    def write_entry(self, record: dict[str, Any]) -> None:
        self._file.write(record)

    def close(self) -> None:
        self._file.close()

    def paths(self) -> dict[str, str]:
        return {"jsonl": str(self._file.path)}
