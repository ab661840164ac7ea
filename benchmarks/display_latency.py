"""Capture-to-display against capture-to-result latency, live on the bundled clip, with a viewer watching.

For each profile, runs `streamer run CLIP --realtime --serve 127.0.0.1:0` with one viewer reading
`/stream.mjpg` throughout, and records from the run's summary the capture-to-display latency (the
annotated JPEG ready for viewers), the capture-to-result latency (`e2e`: the models' output written),
frames displayed, processed and dropped; and from the viewer, the gaps between the JPEG frames it
received (the display should keep the source's 40 ms). Results: benchmarks/results/display_latency.json.
Usage: python benchmarks/display_latency.py [--profiles lite ensemble] [--loops N]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np
from looped_clip import looped_clip

from streamer.paths import BENCHMARKS_DIR, DEMO_CLIP

FRAME_INTERVAL_MS = 40.0  # the clip is 25 fps


def _watch(url: str, arrivals: list[float], done: threading.Event) -> None:
    """Read the MJPEG stream like a viewer, noting when each frame's boundary arrives (perf_counter s)."""
    address = urlsplit(url)
    with socket.create_connection((address.hostname, address.port), timeout=30) as connection:
        connection.sendall(b"GET /stream.mjpg HTTP/1.1\r\nHost: bench\r\n\r\n")
        while not done.is_set():
            chunk = connection.recv(1 << 20)
            if not chunk:
                return
            arrivals.extend([time.perf_counter()] * chunk.count(b"--streamerframe"))


def measure(profile: str, source: Path, out: Path) -> dict[str, object]:
    command = [sys.executable, "-m", "streamer", "run", str(source), "--profile", profile, "--realtime"]
    command += ["--serve", "127.0.0.1:0", "--no-progress", "--overwrite", "--out", str(out)]
    process = subprocess.Popen(command, stderr=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert process.stderr is not None
    url = ""
    while not url:
        line = process.stderr.readline()
        if not line:
            raise SystemExit(f"streamer run exited without serving: {process.communicate()}")
        if line.startswith("streamer: monitor at "):
            url = line.split()[-1]
    arrivals: list[float] = []
    done = threading.Event()
    viewer = threading.Thread(target=_watch, args=(url, arrivals, done), daemon=True)
    viewer.start()
    _, stderr = process.communicate(timeout=1800)
    done.set()
    if process.returncode != 0:
        raise SystemExit(f"streamer run failed: {stderr}")
    summary = json.loads((out / "summary.json").read_text())
    gaps = np.diff(arrivals[5:]) * 1000 if len(arrivals) > 6 else np.zeros(1)
    latency = summary["latency_ms"]
    return {
        "profile": profile,
        "frames_in": summary["frames"]["in"],
        "frames_displayed": summary["frames"]["displayed"],
        "frames_processed": summary["frames"]["processed"],
        "dropped": summary["frames"]["dropped"],
        "fps": summary["fps"],
        "display_ms": {k: latency["display"][k] for k in ("p50", "p95", "p99", "max")},
        "e2e_ms": {k: latency["e2e"][k] for k in ("p50", "p95", "p99", "max")},
        "viewer_frames": len(arrivals),
        "viewer_gap_ms": {
            "p50": round(float(np.percentile(gaps, 50)), 1),
            "p99": round(float(np.percentile(gaps, 99)), 1),
        },
        "display_p99_within_frame_interval": latency["display"]["p99"] <= FRAME_INTERVAL_MS,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profiles", nargs="+", default=["lite", "ensemble"])
    parser.add_argument("--loops", type=int, default=1, help="Play the clip this many times in a row.")
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory() as scratch:
        source = DEMO_CLIP
        if args.loops > 1:
            source = looped_clip(DEMO_CLIP, args.loops, Path(scratch) / f"clip-x{args.loops}.mp4")
        for profile in args.profiles:
            result = measure(profile, source, Path(scratch) / profile)
            results.append(result)
            display, e2e = result["display_ms"], result["e2e_ms"]
            print(
                f"{profile:9s} displayed {result['frames_displayed']}/{result['frames_in']}, processed "
                f"{result['frames_processed']} ({result['fps']} fps), dropped {result['dropped']}; "
                f"capture->display p50/p99 {display['p50']:.1f}/{display['p99']:.1f} ms, "
                f"capture->result p50/p99 {e2e['p50']:.1f}/{e2e['p99']:.1f} ms; viewer gaps p50/p99 "
                f"{result['viewer_gap_ms']['p50']}/{result['viewer_gap_ms']['p99']} ms"
            )
    record = {
        "source": f"{DEMO_CLIP.name} x{args.loops} ({250 * args.loops} frames), paced at 25 fps (--realtime), "
        "one MJPEG viewer",
        "machine": {
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "python": sys.version.split()[0],
        },
        "results": results,
    }
    path = BENCHMARKS_DIR / "results" / "display_latency.json"
    path.write_text(json.dumps(record, indent=2) + "\n")
    print(f"recorded in {path}")


if __name__ == "__main__":
    main()
