"""How well the classical detector finds the artefacts it covers on synthetic frames, whose boxes are exact.

Run: python benchmarks/classical_accuracy.py [--frames N] [--seed S]
Writes benchmarks/results/classical_accuracy.json and prints it last. Per class (specularity, saturation,
blur, contrast): recall (share of true boxes overlapped by a detection of the class at IoU >= 0.3) and
precision (share of detections overlapping a true box of the class at IoU >= 0.3), on N random 512x512
frames from seeds S..S+N-1. A loose IoU fits a baseline whose blur and contrast boxes are tile-aligned.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import cv2
import numpy as np

from streamer.classical import ClassicalDetector
from streamer.synthetic import generate_frame
from streamer.types import EAD2019_CLASSES

RESULTS = Path(__file__).resolve().parent / "results" / "classical_accuracy.json"
CLASSES = (0, 1, 3, 4)
IOU = 0.3


def pairwise_iou(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """IoU of (N, 4) against (M, 4) x1 y1 x2 y2 boxes: (N, M)."""
    top_left = np.maximum(first[:, None, :2], second[None, :, :2])  # (N, M, 2)
    bottom_right = np.minimum(first[:, None, 2:], second[None, :, 2:])  # (N, M, 2)
    inter = np.clip(bottom_right - top_left, 0, None).prod(axis=2)
    area_first = (first[:, 2:] - first[:, :2]).prod(axis=1)
    area_second = (second[:, 2:] - second[:, :2]).prod(axis=1)
    return inter / (area_first[:, None] + area_second[None, :] - inter)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=100)
    parser.add_argument("--seed", type=int, default=50_000)
    args = parser.parse_args()
    cv2.setNumThreads(1)
    detector = ClassicalDetector()
    counts = {c: {"true": 0, "found": 0, "detections": 0, "correct": 0} for c in CLASSES}
    for seed in range(args.seed, args.seed + args.frames):
        sample = generate_frame(seed, (512, 512))
        detections = detector.detect(sample.image)
        predicted, predicted_labels = detections.boxes.numpy(), detections.labels.numpy()
        for label in CLASSES:
            truth = sample.boxes[sample.labels == label]
            found = predicted[predicted_labels == label]
            tally = counts[label]
            tally["true"] += len(truth)
            tally["detections"] += len(found)
            if len(truth) and len(found):
                overlap = pairwise_iou(truth, found) >= IOU
                tally["found"] += int(overlap.any(axis=1).sum())
                tally["correct"] += int(overlap.any(axis=0).sum())
    results = {
        "frames": args.frames,
        "seeds": [args.seed, args.seed + args.frames - 1],
        "size": [512, 512],
        "iou": IOU,
        "per_class": {
            EAD2019_CLASSES[c]: {
                **t,
                "recall": round(t["found"] / max(t["true"], 1), 3),
                "precision": round(t["correct"] / max(t["detections"], 1), 3),
            }
            for c, t in counts.items()
        },
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
