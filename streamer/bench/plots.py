"""Benchmark plots (PNG): latency of each stage over the run, and the histogram of end-to-end latency."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from streamer.bench.measure import TARGETS_S, RunFigures


def plot_timeline(figures: RunFigures, path: Path, *, frame_interval_ms: float) -> Path:
    """Latency (ms) per stage against frame index, with the source frame interval as a dashed line."""
    fig, ax = plt.subplots(figsize=(10, 5), dpi=110)
    for stage, values in figures.latencies.samples.items():
        ax.plot(figures.indices, values, label=stage, linewidth=1.6 if stage == "e2e" else 0.9)
    ax.axhline(frame_interval_ms, color="black", linestyle="--", linewidth=0.8, label="frame interval")
    ax.set_xlabel("frame index")
    ax.set_ylabel("latency (ms)")
    ax.set_yscale("symlog", linthresh=1.0)
    ax.set_title("Latency per stage")
    ax.legend(loc="center left", bbox_to_anchor=(1.0, 0.5), fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def plot_histogram(figures: RunFigures, path: Path) -> Path:
    """Histogram of end-to-end latency (ms) with the papers' 170 ms and 310 ms per-image times."""
    fig, ax = plt.subplots(figsize=(7, 4.5), dpi=110)
    values = figures.latencies.samples.get("e2e", [])
    top = max(values, default=1.0) * 1.15
    ax.hist(values, bins=40, range=(0.0, top), color="#3a7ca5")
    beyond = []
    for target in TARGETS_S:
        if target * 1000 <= top:
            ax.axvline(target * 1000, color="#c0392b", linestyle="--", linewidth=1)
            ax.text(
                target * 1000, ax.get_ylim()[1] * 0.95, f" {target * 1000:.0f} ms", color="#c0392b", va="top"
            )
        else:
            beyond.append(f"{target * 1000:.0f} ms")
    if beyond:
        ax.set_title(f"End-to-end latency (the papers' {' and '.join(beyond)} per image are off this scale)")
    else:
        ax.set_title("End-to-end latency")
    ax.set_xlabel("end-to-end latency, capture to sink (ms)")
    ax.set_ylabel("frames")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path
