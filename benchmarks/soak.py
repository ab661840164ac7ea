"""Memory over a long live run: RSS every 10 s while the lite profile processes a paced synthetic stream.

A procedure lasts tens of minutes to hours, so the pipeline must not keep anything per frame. Runs the
profile on the synthetic scene delivered at 25 fps (capture-card pacing) with the annotated video and JSON
Lines written, samples the process's resident memory every --interval seconds, and records the samples and
the growth after the first --settle seconds in benchmarks/results/soak.json.

Usage: python benchmarks/soak.py [--minutes 30] [--interval 10] [--settle 60] [--profile lite] [--out FILE]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import psutil

from streamer.config import load_profile
from streamer.paths import BENCHMARKS_DIR
from streamer.pipeline.runner import Pipeline
from streamer.types import FrameResult

FPS = 25


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=30.0)
    parser.add_argument("--interval", type=float, default=10.0)
    parser.add_argument("--settle", type=float, default=60.0)
    parser.add_argument("--profile", default="lite")
    parser.add_argument("--out", type=Path, default=BENCHMARKS_DIR / "results" / "soak.json")
    args = parser.parse_args()
    process = psutil.Process()
    samples: list[dict[str, float]] = []
    started = time.monotonic()
    frames_done = 0

    def on_result(result: FrameResult) -> None:
        nonlocal frames_done
        frames_done += 1
        elapsed = time.monotonic() - started
        if not samples or elapsed - samples[-1]["t_s"] >= args.interval:
            samples.append({"t_s": round(elapsed, 1), "rss_mb": round(process.memory_info().rss / 2**20, 1),
                            "frames": frames_done})  # fmt: skip

    with tempfile.TemporaryDirectory(prefix="streamer-soak-") as scratch:
        base = load_profile(args.profile)
        config = replace(
            base,
            capture=replace(base.capture, realtime=True, max_frames=int(args.minutes * 60 * FPS)),
            output=replace(base.output, out_dir=Path(scratch), outputs=("annotated", "jsonl")),
        )
        summary = Pipeline(config, "synthetic").run(on_result=on_result).summary
    settled = [s for s in samples if s["t_s"] >= args.settle]
    growth = settled[-1]["rss_mb"] - settled[0]["rss_mb"] if len(settled) > 1 else None
    result = {
        "what": f"RSS of a {args.minutes:g}-minute paced synthetic live run, profile {args.profile}",
        "frames": summary["frames"],
        "fps": summary["fps"],
        "rss_growth_after_settle_mb": None if growth is None else round(growth, 1),
        "settle_s": args.settle,
        "samples": samples,
    }
    out = args.out
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps({k: v for k, v in result.items() if k != "samples"}, indent=2))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
