"""Latency statistics: percentiles per stage and end to end, over a run."""

from __future__ import annotations

from collections import defaultdict

import numpy as np

PERCENTILES = (50, 95, 99)


def summarize_latencies(samples_ms: list[float]) -> dict[str, float]:
    """{p50, p95, p99, max, mean} in ms of `samples_ms` (linear interpolation); zeros when empty."""
    if not samples_ms:
        return {"p50": 0.0, "p95": 0.0, "p99": 0.0, "max": 0.0, "mean": 0.0, "count": 0}
    values = np.asarray(samples_ms, dtype=np.float64)
    summary = {f"p{p}": round(float(np.percentile(values, p)), 3) for p in PERCENTILES}
    summary["max"] = round(float(values.max()), 3)
    summary["mean"] = round(float(values.mean()), 3)
    summary["count"] = int(values.size)
    return summary


class LatencyRecorder:
    """Collects per-stage latencies (ms) of every processed frame, plus their order of arrival."""

    def __init__(self) -> None:
        self.samples: dict[str, list[float]] = defaultdict(list)

    def add(self, latencies_ms: dict[str, float]) -> None:
        for stage, value in latencies_ms.items():
            self.samples[stage].append(value)

    def summary(self) -> dict[str, dict[str, float]]:
        """{stage: {p50, p95, p99, max, mean, count}} with `e2e` last."""
        stages = [stage for stage in self.samples if stage != "e2e"]
        ordered = [*stages, "e2e"] if "e2e" in self.samples else stages
        return {stage: summarize_latencies(self.samples[stage]) for stage in ordered}
