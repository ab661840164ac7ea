"""The sink registry: names to sinks in write order, and a new sink is one class plus one entry."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from streamer.config import load_profile, with_overrides
from streamer.errors import ConfigError
from streamer.pipeline.runner import Pipeline
from streamer.sinks import registry
from streamer.sinks.base import OutputFrame, Sink, SinkContext
from streamer.sinks.registry import SINKS, check_output_names, open_sinks
from tests.support import tissue_frame


class FrameIndexes(Sink):
    """A sink written only for this test: the indexes of the good frames, one a line."""

    keeps_records = True

    def __init__(self, context: SinkContext) -> None:
        self.path = context.out_dir / "indexes.txt"
        self._file = self.path.open("w")

    def write(self, frame: OutputFrame) -> None:
        if frame.good:
            self._file.write(f"{frame.record['index']} {len(frame.detections)}\n")

    def close(self) -> None:
        self._file.close()

    def paths(self) -> dict[str, str]:
        return {"indexes": str(self.path)}


def test_sinks_open_in_registry_order_and_unknown_names_are_refused(tmp_path: Path) -> None:
    sinks = open_sinks(("jsonl", "scorer", "coco"), SinkContext(tmp_path, 25.0, ("a", "b")))
    try:
        assert [type(s).__name__ for s in sinks] == ["CocoDetections", "ScorerText", "FrameLog"]
        assert [s.keeps_records for s in sinks] == [False, False, True]
    finally:
        for sink in sinks:
            sink.close()
    with pytest.raises(ConfigError, match=r"unknown output\(s\) \['gif'\]"):
        check_output_names(("annotated", "gif"))
    assert tuple(SINKS) == registry.OUTPUT_NAMES


def test_a_registered_sink_gets_every_frame_of_a_run(tmp_path, make_video, monkeypatch) -> None:
    monkeypatch.setitem(SINKS, "indexes", f"{__name__}:FrameIndexes")
    video = make_video("clip.mp4", [tissue_frame(i) for i in range(12)])
    config = with_overrides(load_profile("noop"), out_dir=tmp_path / "out", outputs=("jsonl", "indexes"))
    config = replace(config, batch=1)
    summary = Pipeline(config, str(video)).run().summary
    lines = (tmp_path / "out" / "indexes.txt").read_text().splitlines()
    assert [int(line.split()[0]) for line in lines] == list(range(12))
    assert summary["outputs"]["indexes"] == str(tmp_path / "out" / "indexes.txt")
