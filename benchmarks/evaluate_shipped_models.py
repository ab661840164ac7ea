"""Held-out figures of the shipped models, recorded in benchmarks/results/shipped_models.json.

- detectors (engines/detector-lite*): EAD2019 score (0.6 mAP@IoU 0.25 + 0.4 IoU, streamer.evaluate) on a
  synthetic set written with a seed never used for training (424242, 160 frames in 10 sequences), and
  pictures of their boxes on real frames of the bundled clip (engines/<name>/examples/*.jpg);
- quality-lite: accuracy on the last 3 s of the bundled clip (frames 175–249) against degraded copies.

Usage: python benchmarks/evaluate_shipped_models.py [--frames 30 130 220] [--threshold 0.3]
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

import cv2
import numpy as np
import torch

from streamer.models.predict import detect
from streamer.models.store import load_model
from streamer.paths import BENCHMARKS_DIR, DEMO_CLIP, ENGINES_DIR
from streamer.synthetic import write_ead2019_dataset
from streamer.train.detector import evaluate_detector
from streamer.train.quality import evaluate_quality, read_video_frames

TEST_SEED = 424242
TEST_FRAMES = 160
TEST_SEQUENCES = 10
COLOURS = [
    (255, 255, 0),
    (255, 0, 255),
    (0, 255, 255),
    (255, 128, 0),
    (128, 255, 0),
    (0, 128, 255),
    (255, 0, 0),
]


def draw(image: np.ndarray, records: list[dict[str, object]], classes: tuple[str, ...]) -> np.ndarray:
    """A copy of the RGB image with each record's box and `label score` drawn."""
    canvas = image.copy()
    for record in records:
        x1, y1, x2, y2 = (round(v) for v in record["box"])
        colour = COLOURS[classes.index(record["label"]) % len(COLOURS)]
        cv2.rectangle(canvas, (x1, y1), (x2, y2), colour, 2)
        text = f"{record['label']} {record['score']:.2f}"
        cv2.putText(
            canvas, text, (x1, max(12, y1 - 4)), cv2.FONT_HERSHEY_SIMPLEX, 0.5, colour, 1, cv2.LINE_AA
        )
    return canvas


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, nargs="+", default=[30, 130, 220])
    parser.add_argument("--threshold", type=float, default=0.3, help="Score threshold of the pictures.")
    args = parser.parse_args()
    torch.set_num_threads(1)
    results: dict[str, object] = {}
    with tempfile.TemporaryDirectory() as scratch:
        test_dir = Path(scratch) / "synthetic-test"
        write_ead2019_dataset(test_dir, count=TEST_FRAMES, seed=TEST_SEED, size=512, sequences=TEST_SEQUENCES)
        clip_frames = read_video_frames(DEMO_CLIP, args.frames)
        for folder in sorted(ENGINES_DIR.glob("detector-lite*")):
            model, manifest = load_model(folder)
            score = evaluate_detector(model, manifest, test_dir).to_json()
            test_set = f"synthetic, seed {TEST_SEED}, {TEST_FRAMES} frames in {TEST_SEQUENCES} sequences"
            results[manifest.name] = {"test_set": test_set, **score}
            examples = folder / "examples"
            examples.mkdir(exist_ok=True)
            for index, frame in zip(args.frames, clip_frames, strict=True):
                records = detect(model, manifest, frame, score_threshold=args.threshold)
                picture = cv2.cvtColor(draw(frame, records, manifest.classes), cv2.COLOR_RGB2BGR)
                cv2.imwrite(
                    str(examples / f"clip-frame-{index:03d}.jpg"), picture, [cv2.IMWRITE_JPEG_QUALITY, 80]
                )
                results[manifest.name].setdefault("clip_examples", {})[str(index)] = records
    model, manifest = load_model(ENGINES_DIR / "quality-lite")
    results["quality-lite"] = evaluate_quality(model, manifest, DEMO_CLIP)
    print(json.dumps(results, indent=2))
    out = BENCHMARKS_DIR / "results" / "shipped_models.json"
    out.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
