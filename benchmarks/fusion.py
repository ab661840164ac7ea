"""Fusion speed on this machine: stack vote and WBF of 7 models x 100 boxes against ensemble-boxes WBF
(one image, and a batch of 8 images fused in one call), and class-aware NMS of 10,000 boxes.

Run: python benchmarks/fusion.py [--repeats N] [--threads T]
Writes benchmarks/results/fusion.json and prints it last. Timings are medians of repeated runs after a
warm-up, in milliseconds, with torch.inference_mode and the given number of torch threads. On CPU tensors
the fusion and NMS run as numba kernels, compiled (or loaded from their disk cache) by Fuser.warm_up()
before any timing.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import numba
import numpy as np
import psutil
import torch
from ensemble_boxes import weighted_boxes_fusion

from streamer.fusion import Fuser, FusionConfig, nms
from streamer.types import EAD2019_CLASSES, Detections

RESULTS = Path(__file__).resolve().parent / "results" / "fusion.json"
MODELS = 7
BOXES_PER_MODEL = 100
CLASSES = len(EAD2019_CLASSES)
BATCH = 8  # images fused in one call in the batch scenario


def realistic_ensemble(rng: np.random.Generator, objects: int) -> list[Detections]:
    """Top-100 outputs of 7 detectors on one frame, normalised x1 y1 x2 y2.

    `objects` artefacts, each found by a model with probability 0.85 (score ~ Beta(5, 2), box jitter 2% of
    its size, sometimes a second, weaker box), the rest of the 100 are background boxes with scores
    ~ Beta(1, 8) at random places and classes, as a RetinaNet top-k list looks.
    """
    centers = rng.uniform(0.1, 0.9, (objects, 2))
    sizes = rng.uniform(0.03, 0.25, (objects, 2))
    labels = rng.integers(0, CLASSES, objects)
    per_model = []
    for _ in range(MODELS):
        found = np.flatnonzero(rng.random(objects) < 0.85)
        found = np.concatenate([found, found[rng.random(found.size) < 0.3]])
        size = sizes[found] * rng.normal(1.0, 0.05, (found.size, 2))
        center = centers[found] + rng.normal(0.0, 0.02, (found.size, 2)) * sizes[found]
        scores = rng.beta(5, 2, found.size)
        background = BOXES_PER_MODEL - found.size
        bg_center = rng.uniform(0.05, 0.95, (background, 2))
        bg_size = rng.uniform(0.02, 0.2, (background, 2))
        boxes = np.concatenate(
            [
                np.concatenate([center - size / 2, center + size / 2], axis=1),
                np.concatenate([bg_center - bg_size / 2, bg_center + bg_size / 2], axis=1),
            ]
        ).clip(0.0, 1.0)
        per_model.append(
            Detections(
                boxes=torch.tensor(boxes, dtype=torch.float32),
                scores=torch.tensor(
                    np.concatenate([scores, rng.beta(1, 8, background)]), dtype=torch.float32
                ),
                labels=torch.tensor(
                    np.concatenate([labels[found], rng.integers(0, CLASSES, background)]), dtype=torch.int64
                ),
                classes=EAD2019_CLASSES,
            )
        )
    return per_model


def random_nms_input(rng: np.random.Generator, count: int) -> tuple[torch.Tensor, ...]:
    """`count` boxes in a 1280x720 frame around 300 places, uniform scores, 7 classes."""
    places = rng.uniform(0, 1, (300, 2)) * [1280, 720]
    pick = rng.integers(0, 300, count)
    center = places[pick] + rng.normal(0, 15, (count, 2))
    half = rng.uniform(10, 80, (count, 2))
    boxes = torch.tensor(np.concatenate([center - half, center + half], axis=1), dtype=torch.float32)
    scores = torch.tensor(rng.uniform(0, 1, count), dtype=torch.float32)
    labels = torch.tensor(rng.integers(0, CLASSES, count), dtype=torch.int64)
    return boxes, scores, labels


def median_ms(functions: dict[str, Callable[[], object]], repeats: int, run: int = 10) -> dict[str, dict]:
    """Median wall time and median CPU time of this thread (ms) of each function.

    The functions take turns in runs of `run` timed calls, each run after one warm-up call, so changes in
    the machine's load hit all of them alike while every call still finds its own data in cache. The CPU
    time leaves out time spent waiting for a core.
    """
    wall: dict[str, list[float]] = {name: [] for name in functions}
    cpu: dict[str, list[float]] = {name: [] for name in functions}
    for _ in range(max(1, repeats // run)):
        for name, function in functions.items():
            function()
            for _ in range(run):
                start, start_cpu = time.perf_counter(), time.thread_time()
                function()
                cpu[name].append(time.thread_time() - start_cpu)
                wall[name].append(time.perf_counter() - start)
    return {
        name: {"wall_ms": statistics.median(wall[name]) * 1e3, "cpu_ms": statistics.median(cpu[name]) * 1e3}
        for name in functions
    }


def ensemble_boxes_call(per_model: list[Detections], threshold: float) -> Callable[[], object]:
    boxes = [d.boxes.double().numpy() for d in per_model]
    scores = [d.scores.double().numpy() for d in per_model]
    labels = [d.labels.numpy() for d in per_model]

    def call() -> object:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return weighted_boxes_fusion(boxes, scores, labels, iou_thr=0.55, skip_box_thr=threshold)

    return call


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=50)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    rng = np.random.default_rng(args.seed)
    for mode in ("stack_vote", "wbf"):
        Fuser(FusionConfig(mode=mode)).warm_up()  # compiles the CPU kernels (NMS included) once

    scenarios = {
        # realistic top-100 lists, the paper's per-model threshold 0.2 for every method
        "realistic_thr0.2": (realistic_ensemble(rng, objects=12), 0.2),
        # every box fused (ensemble-boxes' default skip_box_thr = 0): 700 boxes, the worst case for WBF
        "all_boxes_thr0.0": (realistic_ensemble(rng, objects=12), 0.0),
    }
    results: dict[str, dict[str, object]] = {}
    for name, (per_model, threshold) in scenarios.items():
        stack = Fuser(FusionConfig(mode="stack_vote", per_model_threshold=threshold, post_filter=False))
        wbf = Fuser(FusionConfig(mode="wbf", per_model_threshold=threshold, post_filter=False))
        timings = median_ms(
            {
                "ensemble_boxes_wbf": ensemble_boxes_call(per_model, threshold),
                "stack_vote": lambda stack=stack, p=per_model: stack.fuse(p),
                "wbf": lambda wbf=wbf, p=per_model: wbf.fuse(p),
            },
            args.repeats,
        )
        results[name] = {"boxes_in": sum(int((d.scores >= threshold).sum()) for d in per_model), **timings}

    batch = [realistic_ensemble(rng, objects=12) for _ in range(BATCH)]  # [image][model]
    per_model = [list(models) for models in zip(*batch, strict=True)]  # [model][image]
    theirs_calls = [ensemble_boxes_call(models, 0.2) for models in batch]
    stack = Fuser(FusionConfig(mode="stack_vote", per_model_threshold=0.2, post_filter=False))
    wbf = Fuser(FusionConfig(mode="wbf", per_model_threshold=0.2, post_filter=False))
    timings = median_ms(
        {
            "ensemble_boxes_wbf": lambda: [call() for call in theirs_calls],  # one image at a time
            "stack_vote": lambda: stack.fuse_batch(per_model),
            "wbf": lambda: wbf.fuse_batch(per_model),
        },
        args.repeats,
    )
    results[f"realistic_thr0.2_batch{BATCH}"] = {"images": BATCH, **timings}
    for result in results.values():
        theirs = result["ensemble_boxes_wbf"]
        for mode in ("stack_vote", "wbf"):
            result[f"speedup_{mode}"] = {k: theirs[k] / result[mode][k] for k in theirs}

    boxes, scores, labels = random_nms_input(rng, 10_000)
    with torch.inference_mode():
        kept_count = int(nms(boxes, scores, 0.5, categories=labels).shape[0])
        nms_timing = median_ms(
            {"nms": lambda: nms(boxes, scores, 0.5, categories=labels)}, max(5, args.repeats // 5)
        )["nms"]

    report = {
        "machine": {
            "platform": platform.platform(),
            "processor": platform.processor() or platform.machine(),
            "logical_cpus": os.cpu_count(),
            "load_average_1min": os.getloadavg()[0],
            "cpu_percent_during_run": psutil.cpu_percent(interval=0.2),
            "torch": torch.__version__,
            "torch_threads": args.threads,
            "numba": numba.__version__,
        },
        "setup": {
            "models": MODELS,
            "boxes_per_model": BOXES_PER_MODEL,
            "classes": CLASSES,
            "wbf_iou_threshold": 0.55,
            "repeats": args.repeats,
            "statistic": "median of all timed calls; methods take turns in runs of 10 calls, each run after "
            "one warm-up call: wall_ms (perf_counter), cpu_ms (thread CPU time)",
        },
        "fusion": results,
        "nms_10000_boxes": {**nms_timing, "kept": kept_count, "iou_threshold": 0.5, "classes": CLASSES},
        # ensemble-boxes time / our time per scenario and mode, from wall-clock and from thread-CPU medians
        # (on a shared machine the CPU-time ratio is the steadier one)
        "speedup_vs_ensemble_boxes": {
            name: {
                mode: {"wall": r[f"speedup_{mode}"]["wall_ms"], "cpu": r[f"speedup_{mode}"]["cpu_ms"]}
                for mode in ("stack_vote", "wbf")
            }
            for name, r in results.items()
        },
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
