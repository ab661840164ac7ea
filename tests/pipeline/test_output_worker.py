"""The output thread: a file that cannot be finalized is reported to the main thread, not raised in its own."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from streamer.capture.frame_queue import FrameQueue, QueuePolicy
from streamer.config import OutputConfig
from streamer.errors import SinkError
from streamer.ledger import Ledger
from streamer.pipeline.output import OutputSinks, OutputWorker
from streamer.sinks.jsonl import JsonlSink
from streamer.types import EAD2019_CLASSES


def test_a_sink_failing_to_close_becomes_the_workers_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def fail_to_close(sink: JsonlSink) -> None:
        raise SinkError(f"cannot write {sink.path}: disk full")

    monkeypatch.setattr(JsonlSink, "close", fail_to_close)
    uncaught: list[threading.ExceptHookArgs] = []
    monkeypatch.setattr(threading, "excepthook", uncaught.append)
    config = OutputConfig(out_dir=tmp_path, outputs=("jsonl",))
    results: FrameQueue = FrameQueue(4, QueuePolicy.BLOCK)
    results.close()
    worker = OutputWorker(
        results,
        OutputSinks(config, fps=25.0, class_names=EAD2019_CLASSES),
        Ledger(),
        config,
    )
    worker.start()
    worker.join(10)
    assert not worker.is_alive()
    assert uncaught == [], "nothing escapes the thread (no traceback on stderr)"
    assert isinstance(worker.error, SinkError) and "disk full" in str(worker.error)
