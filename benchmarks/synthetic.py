"""Speed of synthetic data generation and of the classical detector on one CPU core.

Run: python benchmarks/synthetic.py [--frames N]
Writes benchmarks/results/synthetic.json and prints it last. OpenCV and torch run single-threaded.
Generation figures: frames per second (median over scenes of N frames each); scene set-up (tissue canvas,
artefacts) is timed separately. Detector figures: median milliseconds per frame after a warm-up. Wall-clock
figures depend on what else runs (the 1-minute load average at the start is recorded); CPU-time figures
count only this process's work.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path

import av
import cv2
import numpy as np
import torch

from streamer.classical import ClassicalDetector
from streamer.paths import DEMO_CLIP, EAD2019_SAMPLES
from streamer.synthetic import SyntheticVideo, generate_frame, write_ead2019_dataset

RESULTS = Path(__file__).resolve().parent / "results" / "synthetic.json"
SCENE_SEEDS = range(6)


def video_speed(size: tuple[int, int], frames: int) -> dict[str, float]:
    """Scene set-up seconds and rendering frames/s (wall clock and CPU time) of SyntheticVideo at `size`
    (width, height), over several scenes."""
    setups, rates, cpu_rates = [], [], []
    for seed in SCENE_SEEDS:
        start = time.perf_counter()
        video = SyntheticVideo(seed, size, fps=25)
        setups.append(time.perf_counter() - start)
        start, start_cpu = time.perf_counter(), time.process_time()
        for index in range(frames):
            video.frame(index)
        rates.append(frames / (time.perf_counter() - start))
        cpu_rates.append(frames / max(time.process_time() - start_cpu, 1e-9))
    return {
        "scene_setup_s_median": round(statistics.median(setups), 4),
        "render_fps_median": round(statistics.median(rates), 1),
        "render_fps_min": round(min(rates), 1),
        "render_fps_cpu_median": round(statistics.median(cpu_rates), 1),
        "render_fps_cpu_min": round(min(cpu_rates), 1),
    }


def still_speed(count: int) -> float:
    """generate_frame frames/s at 512x512 (each frame is a new scene)."""
    start = time.perf_counter()
    for seed in range(count):
        generate_frame(seed, (512, 512))
    return count / (time.perf_counter() - start)


def dataset_speed(count: int) -> float:
    """write_ead2019_dataset frames/s at 512x512, JPEG encoding and label files included."""
    with tempfile.TemporaryDirectory() as folder:
        start = time.perf_counter()
        write_ead2019_dataset(folder, count=count, seed=0, size=512)
        return count / (time.perf_counter() - start)


def detector_ms(images: list[np.ndarray], repeats: int = 5) -> dict[str, float]:
    """Median wall and CPU ms per frame of ClassicalDetector.detect over `images`, repeated.
    CPU time is the process's own, so it stays meaningful when other programs share the cores."""
    detector = ClassicalDetector()
    detector.detect(images[0])
    wall, cpu = [], []
    for _ in range(repeats):
        for image in images:
            start, start_cpu = time.perf_counter(), time.process_time()
            detector.detect(image)
            wall.append((time.perf_counter() - start) * 1000.0)
            cpu.append((time.process_time() - start_cpu) * 1000.0)
    return {
        "wall_ms_median": round(statistics.median(wall), 2),
        "cpu_ms_median": round(statistics.median(cpu), 2),
    }


def clip_frames(count: int) -> list[np.ndarray]:
    """The first `count` frames of the bundled 1280x720 clip, RGB."""
    with av.open(str(DEMO_CLIP)) as container:
        return [
            frame.to_ndarray(format="rgb24")
            for _, frame in zip(range(count), container.decode(video=0), strict=False)
        ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=100, help="frames rendered per scene")
    args = parser.parse_args()
    cv2.setNumThreads(1)
    torch.set_num_threads(1)

    synthetic_512 = [generate_frame(seed, (512, 512)).image for seed in range(20)]
    real_512 = [
        cv2.cvtColor(cv2.imread(str(p)), cv2.COLOR_BGR2RGB) for p in sorted(EAD2019_SAMPLES.glob("*.jpg"))
    ]
    results = {
        "machine": {
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "threads": 1,
            "load_average_1min_at_start": round(os.getloadavg()[0], 2),
        },
        "generation": {
            "video_640x480": video_speed((640, 480), args.frames),
            "video_1280x720": video_speed((1280, 720), args.frames),
            "video_512x512": video_speed((512, 512), args.frames),
            "generate_frame_512x512_fps": round(still_speed(40), 1),
            "dataset_512x512_fps": round(dataset_speed(96), 1),
        },
        "classical_detector_ms_per_frame": {
            "synthetic_512x512": detector_ms(synthetic_512),
            "ead2019_real_512x512": detector_ms(real_512),
            "clip_real_1280x720": detector_ms(clip_frames(20)),
        },
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
