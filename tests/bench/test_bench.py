"""streamer bench: statistics on known timings, the report's schema, and drops in live mode only."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pytest
import torch

import streamer.pipeline.runner as runner_module
from streamer.backends.base import EngineSpec
from streamer.bench.measure import is_realtime, read_run
from streamer.bench.report import format_report
from streamer.bench.run_bench import run_bench
from streamer.config import load_profile
from streamer.latency import summarize_latencies
from tests.support import tissue_frame


def test_percentiles_of_known_timings() -> None:
    values = list(np.arange(1.0, 101.0))  # 1..100 ms
    summary = summarize_latencies(values)
    assert summary["p50"] == pytest.approx(50.5)
    assert summary["p95"] == pytest.approx(95.05)
    assert summary["p99"] == pytest.approx(99.01)
    assert summary["max"] == 100.0
    assert summarize_latencies([])["p99"] == 0.0


def test_read_run_leaves_out_warmup_and_counts_drops(tmp_path: Path) -> None:
    jsonl = tmp_path / "frames.jsonl"
    records = [{"event": "run_started"}]
    for index in range(10):
        dropped = "queue_full" if index in (1, 6, 7) else None
        latency = {} if dropped else {"decode": 1.0, "e2e": float(index)}
        records.append({"index": index, "dropped": dropped, "latency_ms": latency})
    jsonl.write_text("\n".join(json.dumps(r) for r in records) + "\n")
    figures = read_run(jsonl, warmup=3)
    assert figures.indices == [3, 4, 5, 8, 9]
    assert figures.latencies.samples["e2e"] == [3.0, 4.0, 5.0, 8.0, 9.0]
    assert dict(figures.drops) == {"queue_full": 2}
    assert figures.frames == 7


@pytest.mark.parametrize(
    ("fps", "frames", "dropped", "live", "expected"),
    [
        (25.0, 100, 1, True, True),
        (25.0, 100, 2, True, False),
        (24.0, 100, 0, True, False),
        (30.0, 100, 50, False, True),
        (20.0, 100, 0, False, False),
    ],
)
def test_realtime_rule(fps: float, frames: int, dropped: int, live: bool, expected: bool) -> None:
    assert is_realtime(fps=fps, source_fps=25.0, frames=frames, dropped=dropped, live=live) is expected


class SlowClassifier:
    """Takes 30 ms per frame: slower than a 100 fps source, whatever the batch size."""

    backend = "test"
    device = torch.device("cpu")
    spec = EngineSpec(name="slow", task="classifier", classes=("good", "bad"), input_size=(32, 32))

    def infer(self, batch: torch.Tensor) -> dict[str, torch.Tensor]:
        time.sleep(0.03 * batch.shape[0])
        return {"p_bad": torch.zeros(batch.shape[0]), "causes": torch.zeros((batch.shape[0], 3))}

    def close(self) -> None: ...


@pytest.fixture
def fast_video(make_video) -> Path:
    return make_video("fast.mp4", [tissue_frame(i, (120, 160)) for i in range(80)], fps=100)


@pytest.mark.parametrize(("mode", "drops_expected"), [("live", True), ("file", False)])
def test_live_mode_drops_when_the_source_is_faster_file_mode_never(
    monkeypatch: pytest.MonkeyPatch, fast_video: Path, tmp_path: Path, mode: str, drops_expected: bool
) -> None:
    monkeypatch.setattr(runner_module, "load_classifier", lambda config: SlowClassifier())
    config = load_profile("noop")
    report = run_bench(
        str(fast_video), config, frames=70, warmup=10, mode=mode, plots=tmp_path / "plots", naive=False
    )  # type: ignore[arg-type]
    dropped = sum(report["drops"].values())
    assert (dropped > 0) is drops_expected
    assert report["processed"] + dropped == report["frames"] == 70
    if mode == "live":
        assert report["realtime"] is False
    assert all(Path(p).stat().st_size > 0 for p in report["plots"])


def test_report_schema_and_table(fast_video: Path) -> None:
    report = run_bench(str(fast_video), load_profile("noop"), frames=20, warmup=5, mode="file", naive=True)
    assert set(report) >= {
        "fps",
        "latency_ms",
        "drops",
        "frames",
        "targets_s",
        "realtime",
        "machine",
        "backend",
        "precision",
        "models",
    }
    assert report["targets_s"] == [0.17, 0.31]
    assert isinstance(report["realtime"], bool)
    for stage in ("e2e", "decode", "preprocess", "quality", "detector", "fusion", "overlay", "sink"):
        assert set(report["latency_ms"][stage]) == {"p50", "p95", "p99", "max"}
    assert report["naive_loop"]["frames"] == 20
    json.dumps(report)  # serialisable as written by --json
    table = format_report(report)
    assert "e2e" in table and "170 ms" in table and "naive" in table


def test_the_naive_loop_draws_every_class_of_the_shipped_detector(real_clip: Path) -> None:
    """The default detector has 8 classes (blood too): the naive loop's overlay must know all of them."""
    report = run_bench(str(real_clip), load_profile("lite"), frames=8, warmup=2, mode="file", naive=True)
    assert report["naive_loop"]["frames"] == 8
