"""Streaming latency statistics: close to the exact percentiles, in memory that does not grow."""

import pickle

import numpy as np
import pytest

from streamer.latency import LatencySketches, summarize_latencies


def test_sketch_percentiles_match_the_exact_ones_within_half_a_percent():
    rng = np.random.default_rng(0)
    values = rng.lognormal(mean=3.0, sigma=0.5, size=20_000)
    sketches = LatencySketches()
    for value in values:
        sketches.add({"detector": float(value), "e2e": float(value) * 2})
    summary = sketches.summary()
    exact = summarize_latencies(values.tolist())
    assert list(summary) == ["detector", "e2e"]
    for key in ("p50", "p95", "p99"):
        assert summary["detector"][key] == pytest.approx(exact[key], rel=0.011)
    assert summary["detector"]["max"] == pytest.approx(exact["max"], abs=1e-3)
    assert summary["detector"]["mean"] == pytest.approx(exact["mean"], rel=1e-6)
    assert summary["e2e"]["count"] == 20_000


def test_sketch_memory_does_not_grow_with_frames():
    sketches = LatencySketches()
    rng = np.random.default_rng(1)
    for value in rng.uniform(5, 50, 5_000):
        sketches.add({"e2e": float(value)})
    size = len(pickle.dumps(sketches))
    for value in rng.uniform(5, 50, 50_000):
        sketches.add({"e2e": float(value)})
    assert len(pickle.dumps(sketches)) < size * 1.05  # 10x the frames, the same value range: same size
