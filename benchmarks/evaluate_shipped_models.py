"""Validation figures of the shipped detectors and profiles on real EAD2020 frames, recorded in
benchmarks/results/shipped_models.json (and .md), with example pictures for the model cards.

Every detector is scored as `streamer eval model` scores it (the pipeline's crop, resize, engine, decoding
and fusion) on the validation videos of the split shipped with engines/detector-lite-d (`split.json`): with
the thresholds a user sees (the manifests', or the profile's fused ones) and at score >= 0.05 (full
precision-recall curve, mAP). The classical detector is scored the same way for comparison.
Pictures: engines/<model>/examples/ gets validation frames and frames of the bundled clip with the boxes
`streamer run` would draw. quality-lite: accuracy on the last 3 s of the clip against degraded copies
(its figures on the validation videos: benchmarks/quality_figures.py).

Usage: python benchmarks/evaluate_shipped_models.py [--data ../shared/data/ead2020] [--models ...]
       [--profiles lite ensemble] [--frames 00012 ...] [--no-classical]
Models and profiles not measured in a run keep their earlier figures in the record.
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import replace
from pathlib import Path

import cv2
import torch

from streamer.config import load_profile, with_overrides
from streamer.evaluate.detection_score import score_detections
from streamer.evaluate.detector_eval import predict_folder
from streamer.evaluate.folders import find_image
from streamer.evaluate.plots import plot_detection
from streamer.images import read_rgb
from streamer.models.store import load_manifest, load_model
from streamer.overlay import Overlay
from streamer.paths import BENCHMARKS_DIR, DEMO_CLIP, ENGINES_DIR, REPO_ROOT
from streamer.pipeline.image_detector import ImageDetector
from streamer.train.quality import evaluate_clip, read_video_frames
from streamer.train.video_split import validation_stems

DEFAULT_DATA = REPO_ROOT.parent / "shared" / "data" / "ead2020"
SPLIT = ENGINES_DIR / "detector-lite-d" / "split.json"
CLIP_FRAMES = (30, 130, 220)


def score_report(ground_truth: dict, predictions: dict) -> dict[str, object]:
    """EAD2019 and EndoCV2020 figures (fractions) with per-class AP and IoU."""
    ead = score_detections(ground_truth, predictions)
    endocv = score_detections(ground_truth, predictions, metric="endocv2020")
    return {
        "ead2019_score": round(ead.score, 4),
        "mAP": round(ead.mean_ap, 4),
        "IoU": round(ead.mean_iou, 4),
        "iou_within_1.3_mAP": ead.iou_within_limit,
        "endocv2020_score": round(endocv.score, 4),
        "endocv2020_mAP": round(endocv.mean_ap, 4),
        "per_class": {
            name: {
                "AP": round(r.ap, 4),
                "IoU": round(r.iou, 4),
                "gt": r.n_ground_truth,
                "pred": r.n_predictions,
            }
            for name, r in ead.per_class.items()
        },
    }


def evaluate(config, data: Path, only: set[str], plots: Path | None) -> dict[str, object]:
    """Score one configuration at its own thresholds and at 0.05; write PR plots of the latter."""
    started = time.perf_counter()
    with ImageDetector(config) as detect:
        ground_truth, shown = predict_folder(detect, data, only=only)
    seconds = time.perf_counter() - started
    low = with_overrides(config, score_threshold=0.05)
    low = replace(low, fusion=replace(low.fusion, output_thresholds=None))
    with ImageDetector(low) as detect:
        _, every = predict_folder(detect, data, only=only)
    if plots is not None:
        plot_detection(score_detections(ground_truth, every), plots)
    return {
        "frames": len(ground_truth),
        "seconds_per_frame": round(seconds / max(1, len(ground_truth)), 4),
        "shipped_thresholds": score_report(ground_truth, shown),
        "all_scores": score_report(ground_truth, every),
    }


def draw_examples(config, stems: list[str], data: Path, folder: Path) -> dict[str, float]:
    """Validation frames and clip frames with the boxes the overlay of `streamer run` draws; returns the
    mean number of boxes per clip frame by class (classes with none left out)."""
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.jpg"):
        old.unlink()
    with ImageDetector(config) as detect:
        overlay = Overlay()
        frames = [
            (f"validation-{stem}", read_rgb(find_image(data / "labels" / f"{stem}.txt"))) for stem in stems
        ]
        frames += [
            (f"clip-frame-{index:03d}", image)
            for index, image in zip(CLIP_FRAMES, read_video_frames(DEMO_CLIP, CLIP_FRAMES), strict=True)
        ]
        clip_boxes: dict[str, int] = {}
        for name, image in frames:
            detections = detect(image)
            if name.startswith("clip-"):
                for label in detections.names:
                    clip_boxes[label] = clip_boxes.get(label, 0) + 1
            picture = overlay.annotate(image, None, detections)
            cv2.imwrite(
                str(folder / f"{name}.jpg"),
                cv2.cvtColor(picture, cv2.COLOR_RGB2BGR),
                [cv2.IMWRITE_JPEG_QUALITY, 80],
            )
    return {label: round(count / len(CLIP_FRAMES), 1) for label, count in sorted(clip_boxes.items())}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument(
        "--models", nargs="*", default=None, help="Detector folders in engines/ (default: all)."
    )
    parser.add_argument("--profiles", nargs="*", default=["lite", "ensemble"])
    parser.add_argument("--frames", nargs="*", default=None, help="Validation frames for the pictures.")
    parser.add_argument("--no-classical", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(2)
    only = validation_stems(SPLIT, args.data)
    stems = args.frames or sorted(only)[:: max(1, len(only) // 3)][:3]
    names = (
        args.models
        if args.models is not None
        else sorted(
            p.name
            for p in ENGINES_DIR.iterdir()
            if (p / "manifest.json").is_file() and load_manifest(p).task == "detector"
        )
    )
    base = load_profile("lite")
    out = BENCHMARKS_DIR / "results" / "shipped_models.json"
    earlier = json.loads(out.read_text()) if out.is_file() else {}
    kept = {
        k: v for k, v in earlier.get("models", {}).items() if k == "classical" or (ENGINES_DIR / k).is_dir()
    }
    results: dict[str, object] = {
        "data": str(args.data),
        "split": str(SPLIT.relative_to(REPO_ROOT)),
        "validation_frames": len(only),
        "models": kept,
        "profiles": dict(earlier.get("profiles", {})),
    }
    for name in [*names, *([] if args.no_classical else ["classical"])]:
        config = with_overrides(base, detectors=(name,), classifier="none")
        folder = ENGINES_DIR / name if name != "classical" else None
        results["models"][name] = evaluate(config, args.data, only, folder / "plots" if folder else None)
        if folder is not None:
            clip = draw_examples(config, stems, args.data, folder / "examples")
            results["models"][name]["clip_boxes_per_frame"] = clip
        print(name, json.dumps(results["models"][name]["shipped_thresholds"]))
    for profile in args.profiles:
        config = with_overrides(load_profile(profile), classifier="none")
        results["profiles"][profile] = evaluate(config, args.data, only, None)
        print(profile, json.dumps(results["profiles"][profile]["shipped_thresholds"]))
    model, manifest = load_model(ENGINES_DIR / "quality-lite")
    threshold = manifest.score_thresholds[0] if manifest.score_thresholds else 0.5
    results["quality-lite"] = evaluate_clip(model, manifest, DEMO_CLIP, threshold=threshold)
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
