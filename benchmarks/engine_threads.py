"""Why the pipeline gives each ONNX Runtime engine one thread: lite profile, live mode, on the bundled clip,
with engine_threads 1 against one thread per physical core.

Run: python benchmarks/engine_threads.py   (writes benchmarks/results/engine_threads.json and .md)
"""

from __future__ import annotations

import json
import os
from dataclasses import replace
from pathlib import Path

from streamer.bench.run_bench import run_bench
from streamer.config import load_profile
from streamer.paths import DEMO_CLIP

RESULTS = Path(__file__).resolve().parent / "results"


def main() -> None:
    rows = []
    for threads in (1, None):
        config = replace(load_profile("lite"), engine_threads=threads)
        report = run_bench(str(DEMO_CLIP), config, frames=200, warmup=25, mode="live", naive=False)
        e2e = report["latency_ms"]["e2e"]
        rows.append(
            {
                "engine_threads": threads or f"{os.cpu_count()} (one per core)",
                "fps": report["fps"],
                "dropped": sum(report["drops"].values()),
                "frames": report["frames"],
                "e2e_p50_ms": e2e["p50"],
                "e2e_p99_ms": e2e["p99"],
                "detector_p50_ms": report["latency_ms"]["detector"]["p50"],
                "load_average": os.getloadavg(),
            }
        )
        print(rows[-1], flush=True)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "engine_threads.json").write_text(json.dumps(rows, indent=2) + "\n")
    lines = [
        "# ONNX Runtime threads per engine in the pipeline (lite profile, live mode, bundled clip)\n",
        "Command: `python benchmarks/engine_threads.py`\n",
        "| engine threads | fps | dropped | e2e p50 ms | e2e p99 ms | detector p50 ms |",
        "|---|---|---|---|---|---|",
    ]
    lines += [
        f"| {r['engine_threads']} | {r['fps']} | {r['dropped']} of {r['frames']} | {r['e2e_p50_ms']} | "
        f"{r['e2e_p99_ms']} | {r['detector_p50_ms']} |"
        for r in rows
    ]
    (RESULTS / "engine_threads.md").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
