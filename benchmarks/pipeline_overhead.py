"""How much does the pipeline itself cost? `streamer run` with models that do nothing, against PyAV decoding
the same clip alone.

PyAV decode-only rate: decode every frame of the clip and convert it to an RGB array (what any consumer
of the frames needs), with FFmpeg's frame threading on, as `streamer run` uses it. The pipeline rate is
frames processed / seconds from start to the last frame written, read from summary.json, for the noop
profile with (a) only frames.jsonl written and (b) all outputs (two H.264 encodes at source resolution).

Run: python benchmarks/pipeline_overhead.py [--clip PATH] [--repeats 3]
Writes benchmarks/results/pipeline_overhead.json and .md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import av

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "benchmarks" / "results"
DEFAULT_CLIP = REPO / "data" / "video" / "laparoscopy-720p25.mp4"


def decode_rate(clip: Path, *, to_rgb: bool) -> float:
    """Frames per second of PyAV decoding the whole clip (threaded), optionally converting to RGB arrays."""
    with av.open(str(clip)) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        started = time.perf_counter()
        frames = 0
        for frame in container.decode(stream):
            if to_rgb:
                frame.to_ndarray(format="rgb24")
            frames += 1
        return frames / (time.perf_counter() - started)


def pipeline_rate(clip: Path, outputs: str) -> dict[str, float]:
    """fps and e2e p50/p99 (ms) of `streamer run CLIP --profile noop --outputs OUTPUTS`."""
    with tempfile.TemporaryDirectory() as out:
        command = [
            sys.executable,
            "-m",
            "streamer",
            "run",
            str(clip),
            "--profile",
            "noop",
            "--outputs",
            outputs,
        ]
        command += ["--out", out, "--no-progress"]
        subprocess.run(command, cwd=REPO, check=True, capture_output=True)
        summary = json.loads((Path(out) / "summary.json").read_text())
    e2e = summary["latency_ms"]["e2e"]
    return {"fps": summary["fps"], "e2e_p50_ms": e2e["p50"], "e2e_p99_ms": e2e["p99"]}


def median_of(runs: list[dict[str, float]]) -> dict[str, float]:
    return {key: round(statistics.median(run[key] for run in runs), 2) for key in runs[0]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clip", type=Path, default=DEFAULT_CLIP)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    decode_rates = [decode_rate(args.clip, to_rgb=True) for _ in range(args.repeats)]
    raw_rates = [decode_rate(args.clip, to_rgb=False) for _ in range(args.repeats)]
    jsonl_only = median_of([pipeline_rate(args.clip, "jsonl") for _ in range(args.repeats)])
    all_outputs = median_of(
        [pipeline_rate(args.clip, "annotated,filtered,jsonl") for _ in range(args.repeats)]
    )
    decode_fps = statistics.median(decode_rates)
    result = {
        "clip": args.clip.name,
        "machine": {
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "python": sys.version.split()[0],
        },
        "load_average_at_start": os.getloadavg(),
        "repeats": args.repeats,
        "pyav_decode_rgb_fps": round(decode_fps, 2),
        "pyav_decode_only_fps_no_conversion": round(statistics.median(raw_rates), 2),
        "noop_pipeline_jsonl_only": jsonl_only,
        "noop_pipeline_all_outputs": all_outputs,
        "ratio_jsonl_only_vs_decode": round(jsonl_only["fps"] / decode_fps, 3),
        "ratio_all_outputs_vs_decode": round(all_outputs["fps"] / decode_fps, 3),
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "pipeline_overhead.json").write_text(json.dumps(result, indent=2) + "\n")
    (RESULTS / "pipeline_overhead.md").write_text(
        "# Pipeline overhead (noop models) on the bundled clip\n\n"
        f"Machine: {result['machine']['platform']}, {result['machine']['cpus']} CPUs; "
        f"median of {args.repeats} runs; command: `python benchmarks/pipeline_overhead.py`\n\n"
        "| what | fps | ratio to decode | e2e p50 ms | e2e p99 ms |\n|---|---|---|---|---|\n"
        f"| PyAV decode to RGB (threaded) | {result['pyav_decode_rgb_fps']} | 1.0 | | |\n"
        f"| PyAV decode only, no conversion | {result['pyav_decode_only_fps_no_conversion']} | | | |\n"
        f"| `streamer run --profile noop --outputs jsonl` | {jsonl_only['fps']} | "
        f"{result['ratio_jsonl_only_vs_decode']} | {jsonl_only['e2e_p50_ms']} | {jsonl_only['e2e_p99_ms']} |\n"
        f"| `streamer run --profile noop` (all outputs) | {all_outputs['fps']} | "
        f"{result['ratio_all_outputs_vs_decode']} | {all_outputs['e2e_p50_ms']} | {all_outputs['e2e_p99_ms']} |\n"
    )
    print(json.dumps(result, indent=2))
    print(f"ratio_jsonl_only_vs_decode {result['ratio_jsonl_only_vs_decode']}")


if __name__ == "__main__":
    main()
