"""A live source opens after the models are ready (its first frames are fresh); a file opens first (a bad
file is refused before the models load)."""

from __future__ import annotations

from pathlib import Path

import pytest

from streamer.config import load_profile, with_overrides
from streamer.pipeline import runner


class _Stop(Exception):
    pass


@pytest.mark.parametrize(
    ("spec", "order"),
    [
        ("rtsp://127.0.0.1:8554/scope", ["models", "warm_up", "open"]),
        ("/dev/video0", ["models", "warm_up", "open"]),
        ("data/video/laparoscopy-720p25.mp4", ["open", "models", "warm_up"]),
    ],
)
def test_live_sources_open_after_warm_up(monkeypatch, tmp_path: Path, spec: str, order: list[str]) -> None:
    calls: list[str] = []

    class FakeSource:
        def close(self) -> None:
            calls.append("close")

    def fake_open(source_spec, capture):
        calls.append("open")
        return FakeSource(), FakeSource

    monkeypatch.setattr(runner, "open_source", fake_open)
    monkeypatch.setattr(runner, "load_classifier", lambda config: calls.append("models"))
    monkeypatch.setattr(runner, "load_detectors", lambda config: [])
    monkeypatch.setattr(runner, "warm_up", lambda *args: calls.append("warm_up"))

    def stop_here(self, *args):
        raise _Stop

    monkeypatch.setattr(runner.Pipeline, "_run_threads", stop_here)
    config = with_overrides(load_profile("noop"), out_dir=tmp_path / "out")
    with pytest.raises(_Stop):
        runner.Pipeline(config, spec).run()
    assert calls[:3] == order
