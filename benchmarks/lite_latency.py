"""Single-frame latency of the shipped lite models on one CPU core: detector-lite-d + quality-lite.

Runs each model with batch 1 in torch (1 thread) and ONNX Runtime (1 intra-op thread), prints the
median and 90th percentile per model and for detector + classifier together, and records them in
benchmarks/results/lite_latency.json. Usage: python benchmarks/lite_latency.py [--runs 50]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time

import numpy as np
import onnxruntime as ort
import torch

from streamer.models.store import load_model
from streamer.paths import BENCHMARKS_DIR, ENGINES_DIR

MODELS = ("detector-lite-d", "quality-lite")


def _time_ms(run, runs: int) -> list[float]:
    for _ in range(5):
        run()
    timings = []
    for _ in range(runs):
        start = time.perf_counter()
        run()
        timings.append((time.perf_counter() - start) * 1000)
    return timings


def _summary(timings: list[float]) -> dict[str, float]:
    return {
        "median_ms": round(statistics.median(timings), 2),
        "p90_ms": round(float(np.percentile(timings, 90)), 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=50)
    args = parser.parse_args()
    torch.set_num_threads(1)
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    results: dict[str, dict[str, dict[str, float]]] = {"torch": {}, "onnxruntime": {}}
    per_backend_timings: dict[str, list[list[float]]] = {"torch": [], "onnxruntime": []}
    for name in MODELS:
        model, manifest = load_model(ENGINES_DIR / name)
        height, width = manifest.input_size
        batch = torch.randn(1, 3, height, width)
        with torch.no_grad():
            torch_timings = _time_ms(lambda model=model, batch=batch: model(batch), args.runs)
        session = ort.InferenceSession(str(manifest.onnx_path), options, providers=["CPUExecutionProvider"])
        feed = {session.get_inputs()[0].name: batch.numpy()}
        ort_timings = _time_ms(lambda session=session, feed=feed: session.run(None, feed), args.runs)
        for backend, timings in (("torch", torch_timings), ("onnxruntime", ort_timings)):
            results[backend][f"{name} {height}x{width}"] = _summary(timings)
            per_backend_timings[backend].append(timings)
    for backend, timings in per_backend_timings.items():
        results[backend]["detector + classifier"] = _summary([a + b for a, b in zip(*timings, strict=True)])
    record = {
        "what": "batch-1 latency, one CPU thread, shipped lite models",
        "runs": args.runs,
        "machine": {"cpu": platform.processor() or platform.machine(), "cores": os.cpu_count()},
        "load_average_1min": round(os.getloadavg()[0], 2),
        "results": results,
    }
    print(json.dumps(record, indent=2))
    out = BENCHMARKS_DIR / "results" / "lite_latency.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(record, indent=2) + "\n")


if __name__ == "__main__":
    main()
