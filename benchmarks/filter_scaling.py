"""`streamer filter` against hand-started `streamer run` processes on the same archive.

The archive is `--copies` copies of the bundled clip. Scenarios, each on a fresh output folder:

- `filter-N`: `streamer filter ARCHIVE --workers N` on a local Ray instance (the default);
- `runs-N`: one `streamer run` per video, N of them at a time side by side (what `xargs -P N` does);
- `filter-2-nodes`: `streamer filter --ray HOST:PORT --workers 2` on a two-node Ray cluster started on
  this machine (`ray start --head --num-cpus 1` plus a second `ray start --address ... --num-cpus 1`).

Each records wall time, videos per minute, frames per second and CPU use (busy core-seconds of the
whole machine over the run, from psutil, and that as a share of all cores). The ratio filter / runs
for each N is the figure of merit. Results: `benchmarks/results/filter_scaling.json`.

    .venv/bin/python benchmarks/filter_scaling.py [--copies 8] [--workers 1 2]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any

import psutil

ROOT = Path(__file__).resolve().parents[1]
CLIP = ROOT / "data" / "video" / "laparoscopy-720p25.mp4"
RESULTS = ROOT / "benchmarks" / "results" / "filter_scaling.json"
STREAMER = str(Path(sys.executable).with_name("streamer"))
OUTPUTS = "filtered,jsonl"
CLUSTER_PORT = 6391


def make_archive(folder: Path, copies: int) -> list[Path]:
    """`copies` copies of the bundled clip under folder/site-<k>/clip.mp4 (nested, as archives are)."""
    videos = []
    for k in range(copies):
        target = folder / f"site-{k % 2}" / f"procedure-{k:02d}.mp4"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(CLIP, target)
        videos.append(target)
    return videos


def measure(name: str, videos: int, run: Callable[[], int]) -> dict[str, Any]:
    """Run `run` (returns frames processed) and time it; CPU use is the whole machine's."""
    cores = psutil.cpu_count() or 1
    before = psutil.cpu_times()
    load_before = os.getloadavg()[0]
    start = time.perf_counter()
    frames = run()
    wall = time.perf_counter() - start
    after = psutil.cpu_times()
    busy = sum(getattr(after, f) - getattr(before, f) for f in ("user", "nice", "system", "irq", "softirq"))
    record = {
        "scenario": name,
        "videos": videos,
        "frames": frames,
        "wall_s": round(wall, 2),
        "videos_per_min": round(videos * 60 / wall, 2),
        "fps": round(frames / wall, 1),
        "cpu_core_s": round(busy, 1),
        "cpu_use": round(busy / (wall * cores), 3),
        "load_before": round(load_before, 2),
    }
    print(
        f"{name:<16} {wall:7.1f} s  {record['videos_per_min']:6.2f} videos/min  {record['fps']:6.1f} fps  "
        f"CPU {record['cpu_use']:.0%} of {cores} cores",
        flush=True,
    )
    return record


def index_frames(out: Path, expected: int) -> int:
    """Frames of the `done` rows of out/index.csv; fails unless all `expected` videos are done."""
    with (out / "index.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    done = [row for row in rows if row["status"] == "done"]
    if len(done) != expected:
        raise SystemExit(f"{out}: {len(done)} of {expected} videos done")
    return sum(int(row["frames_in"]) for row in done)


def run_filter(archive: Path, out: Path, workers: int, extra: Sequence[str] = (), env=None) -> int:
    command = [STREAMER, "filter", str(archive), "--out", str(out), "--workers", str(workers)]
    command += ["--outputs", OUTPUTS, "--no-progress", *extra]
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, env=env)
    return index_frames(out, len(list(archive.rglob("*.mp4"))))


def run_side_by_side(videos: Sequence[Path], out: Path, parallel: int) -> int:
    """One `streamer run` per video, `parallel` processes at a time; returns the frames written."""

    def one(video: Path) -> int:
        folder = out / video.parent.name / video.stem
        command = [STREAMER, "run", str(video), "--out", str(folder), "--outputs", OUTPUTS, "--no-progress"]
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
        with (folder / "frames.jsonl").open() as handle:
            return sum(1 for line in handle if line.strip() and "event" not in json.loads(line))

    with ThreadPoolExecutor(max_workers=parallel) as pool:
        return sum(pool.map(one, videos))


@contextmanager
def two_node_cluster(port: int) -> Iterator[tuple[str, dict[str, str]]]:
    """A head node and a second node on this machine, one CPU each; yields (address, environment)."""
    ray = str(Path(sys.executable).with_name("ray"))
    env = dict(os.environ, RAY_AUTH_MODE="token")  # the second node must present the head's token too
    address = f"127.0.0.1:{port}"
    common = ["--num-cpus", "1", "--object-store-memory", str(200 * 1024 * 1024), "--disable-usage-stats"]
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL, "env": env, "check": True}
    try:
        subprocess.run(
            [ray, "start", "--head", "--port", str(port), "--include-dashboard", "false", *common], **quiet
        )
        subprocess.run([ray, "start", "--address", address, *common], **quiet)
        yield address, env
    finally:
        subprocess.run(
            [ray, "stop", "--force"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=8, help="Copies of the bundled clip in the archive.")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2], help="Worker counts N to compare.")
    parser.add_argument("--no-cluster", action="store_true", help="Skip the two-node cluster scenario.")
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args()

    records: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="filter-scaling-") as tmp:
        scratch = Path(tmp)
        archive = scratch / "archive"
        videos = make_archive(archive, args.copies)
        for n in args.workers:
            records.append(
                measure(f"runs-{n}", len(videos), partial(run_side_by_side, videos, scratch / f"runs-{n}", n))
            )
            records.append(
                measure(f"filter-{n}", len(videos), partial(run_filter, archive, scratch / f"filter-{n}", n))
            )
        if not args.no_cluster:
            with two_node_cluster(CLUSTER_PORT) as (address, env):
                out = scratch / "filter-2-nodes"
                records.append(
                    measure(
                        "filter-2-nodes",
                        len(videos),
                        lambda: run_filter(archive, out, 2, ["--ray", address], env),
                    )
                )

    by_name = {record["scenario"]: record for record in records}
    ratios = {
        f"filter-{n}/runs-{n}": round(
            by_name[f"filter-{n}"]["videos_per_min"] / by_name[f"runs-{n}"]["videos_per_min"], 3
        )
        for n in args.workers
    }
    for name, ratio in ratios.items():
        print(f"{name}: {ratio:.2f}x")
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT)
    result = {
        "archive": f"{args.copies} copies of {CLIP.relative_to(ROOT)}",
        "outputs": OUTPUTS,
        "profile": "lite",
        "cores": psutil.cpu_count(),
        "commit": commit.stdout.strip(),
        "date": time.strftime("%Y-%m-%d %H:%M"),
        "scenarios": records,
        "throughput_ratio": ratios,
    }
    args.output.write_text(json.dumps(result, indent=2) + "\n")
    print(f"recorded: {args.output}")


if __name__ == "__main__":
    main()
