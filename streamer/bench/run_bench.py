"""Run the real pipeline under a benchmark scenario and turn its output into the bench report."""

from __future__ import annotations

import os
import platform
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any, Literal

import torch

from streamer.bench.measure import TARGETS_S, is_realtime, read_run
from streamer.bench.naive import run_naive_loop
from streamer.bench.plots import plot_histogram, plot_timeline
from streamer.config import RunConfig
from streamer.errors import ConfigError
from streamer.pipeline.runner import Pipeline
from streamer.types import FrameResult

Mode = Literal["live", "file"]


def machine_info(device: str) -> dict[str, Any]:
    info: dict[str, Any] = {
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpus": os.cpu_count(),
        "torch": torch.__version__,
    }
    if device == "cuda" and torch.cuda.is_available():
        info["gpu"] = torch.cuda.get_device_name()
    return info


def run_bench(
    source: str,
    config: RunConfig,
    *,
    frames: int,
    warmup: int,
    mode: Mode,
    plots: Path | None = None,
    naive: bool = True,
) -> dict[str, Any]:
    """Benchmark report (see `streamer bench --help`) of `frames` frames after `warmup` frames."""
    if frames < 1 or warmup < 0:
        raise ConfigError(f"--frames must be >= 1 and --warmup >= 0, got {frames} and {warmup}")
    if mode not in ("live", "file"):
        raise ConfigError(f"--mode must be live or file, got {mode!r}")
    done_at: list[float] = []

    def on_result(result: FrameResult) -> None:
        if result.frame.index >= warmup:
            done_at.append(time.monotonic())

    with tempfile.TemporaryDirectory(prefix="streamer-bench-") as scratch:
        out = Path(scratch)
        run_config = replace(
            config,
            capture=replace(config.capture, realtime=mode == "live", max_frames=warmup + frames),
            output=replace(config.output, out_dir=out, outputs=("annotated", "jsonl"), show=False),
        )
        summary = Pipeline(run_config, source).run(on_result=on_result).summary
        figures = read_run(out / "frames.jsonl", warmup)
        naive_result = (
            run_naive_loop(
                source,
                replace(run_config, capture=replace(run_config.capture, realtime=False)),
                out,
                frames=frames,
                warmup=warmup,
            )
            if naive
            else None
        )
    source_fps = summary["source"]["fps"] or 25.0
    fps = (len(done_at) - 1) / (done_at[-1] - done_at[0]) if len(done_at) > 1 else 0.0
    dropped = sum(figures.drops.values())
    latency = figures.latencies.summary()
    report: dict[str, Any] = {
        "source": summary["source"]["id"],
        "mode": mode,
        "profile": config.profile,
        "frames": figures.frames,
        "processed": figures.processed,
        "warmup": warmup,
        "fps": round(fps, 2),
        "source_fps": source_fps,
        "latency_ms": {
            stage: {k: v for k, v in stats.items() if k in ("p50", "p95", "p99", "max")}
            for stage, stats in latency.items()
        },
        "drops": dict(figures.drops),
        "targets_s": list(TARGETS_S),
        "realtime": is_realtime(
            fps=fps, source_fps=source_fps, frames=figures.frames, dropped=dropped, live=mode == "live"
        ),
        "machine": machine_info(config.device),
        "backend": summary["backend"],
        "device": config.device,
        "batch": config.batch,
        "precision": sorted(
            {
                str(d["precision"])
                for d in [summary["models"]["quality"], *summary["models"]["detectors"]]
                if d
            }
        ),
        "models": summary["models"],
        "outputs": "annotated.mp4 and frames.jsonl written",
    }
    if naive_result is not None:
        report["naive_loop"] = {
            "frames": naive_result.frames,
            "fps": naive_result.fps,
            "latency_ms": {
                k: v for k, v in naive_result.latency_ms.items() if k in ("p50", "p95", "p99", "max")
            },
        }
    if plots is not None:
        plots.mkdir(parents=True, exist_ok=True)
        report["plots"] = [
            str(plot_timeline(figures, plots / "latency_timeline.png", frame_interval_ms=1000 / source_fps)),
            str(plot_histogram(figures, plots / "latency_histogram.png")),
        ]
    return report
