"""Latency statistics: percentiles per stage and end to end, over a run.

A run keeps them in constant memory (LatencySketches: one DDSketch per stage, percentiles within 0.5 % of
the true value), so a whole procedure can stream without growing; LatencyRecorder keeps every sample, for
the plots of a benchmark of bounded length.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np
from ddsketch import DDSketch

SKETCH_RELATIVE_ACCURACY = 0.005

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


class LatencySketches:
    """Per-stage latencies (ms) of every processed frame as streaming sketches: memory does not grow with
    the number of frames."""

    def __init__(self) -> None:
        self._sketches: dict[str, DDSketch] = {}
        self._max: dict[str, float] = {}

    def add(self, latencies_ms: dict[str, float]) -> None:
        for stage, value in latencies_ms.items():
            if stage not in self._sketches:
                self._sketches[stage] = DDSketch(relative_accuracy=SKETCH_RELATIVE_ACCURACY)
                self._max[stage] = value
            self._sketches[stage].add(max(0.0, value))
            self._max[stage] = max(self._max[stage], value)

    def summary(self) -> dict[str, dict[str, float]]:
        """{stage: {p50, p95, p99, max, mean, count}} with `e2e` last (percentiles within 0.5 %)."""
        stages = [stage for stage in self._sketches if stage != "e2e"]
        ordered = [*stages, "e2e"] if "e2e" in self._sketches else stages
        return {stage: self._summary(stage) for stage in ordered}

    def _summary(self, stage: str) -> dict[str, float]:
        sketch = self._sketches[stage]
        figures = {f"p{p}": round(float(sketch.get_quantile_value(p / 100)), 3) for p in PERCENTILES}
        figures["max"] = round(self._max[stage], 3)
        figures["mean"] = round(sketch.sum / sketch.count, 3)
        figures["count"] = int(sketch.count)
        return figures
