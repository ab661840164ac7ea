"""How sure is it that one profile's detector beats another's? The EAD2019 score of two profiles on the
validation videos, and their difference over resampled videos.

Both profiles are scored as `streamer eval model` scores them (at the thresholds a user sees) on the
validation side of engines/detector-lite-d/split.json. The videos (the split's groups of frames) are then
drawn with replacement --resamples times and both scores recomputed on each draw: the record gives the
mean difference, its 95 % interval and the share of draws in which the second profile scores higher.
Written to benchmarks/results/profile_difference.json.

Usage: python benchmarks/profile_difference.py [--profiles lite ensemble] [--data ../shared/data/ead2020]
       [--resamples 200]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from streamer.config import load_profile
from streamer.evaluate.detection_score import score_detections
from streamer.evaluate.detector_eval import predict_folder
from streamer.paths import BENCHMARKS_DIR, ENGINES_DIR, REPO_ROOT
from streamer.pipeline.image_detector import ImageDetector
from streamer.train.detector import collect_items
from streamer.train.video_split import folder_video_groups, read_split
from streamer.types import Detections

DEFAULT_DATA = REPO_ROOT.parent / "shared" / "data" / "ead2020"
SPLIT = ENGINES_DIR / "detector-lite-d" / "split.json"


def validation_videos(data: Path) -> dict[str, int]:
    """The video group of each validation frame (by file stem), as the split drew them."""
    items = collect_items([data])
    split = read_split(SPLIT, items)
    groups = folder_video_groups([data], items)
    validation = {item.key for item in split.validation}
    return {
        item.image.image_path.stem: g for item, g in zip(items, groups, strict=True) if item.key in validation
    }


def score_of(truth: dict[str, Detections], predicted: dict[str, Detections], stems: list[str]) -> float:
    """EAD2019 score over `stems`, a frame drawn twice counting twice."""
    keys = [f"{n}:{stem}" for n, stem in enumerate(stems)]
    return score_detections(
        dict(zip(keys, (truth[s] for s in stems), strict=True)),
        dict(zip(keys, (predicted[s] for s in stems), strict=True)),
    ).score


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profiles", nargs=2, default=["lite", "ensemble"])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--resamples", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    video_of = validation_videos(args.data)
    predictions = []
    for profile in args.profiles:
        with ImageDetector(load_profile(profile)) as detect:
            truth, predicted = predict_folder(detect, args.data, only=set(video_of))
        predictions.append(predicted)
    frames_of: dict[int, list[str]] = {}
    for stem, video in sorted(video_of.items()):
        frames_of.setdefault(video, []).append(stem)
    videos = sorted(frames_of)
    every = sorted(video_of)
    scores = [score_of(truth, predicted, every) for predicted in predictions]
    rng = np.random.default_rng(args.seed)
    differences = []
    for _ in range(args.resamples):
        stems = [s for v in rng.choice(len(videos), len(videos)) for s in frames_of[videos[v]]]
        if not any(len(truth[s]) for s in stems):
            continue
        first, second = (score_of(truth, predicted, stems) for predicted in predictions)
        differences.append(second - first)
    drawn = np.array(differences)
    result = {
        "what": f"EAD2019 score of {args.profiles[1]} minus {args.profiles[0]} on the validation videos of "
        f"{SPLIT.relative_to(REPO_ROOT)}, videos resampled with replacement",
        "frames": len(every),
        "videos": len(videos),
        "scores": {profile: round(score, 4) for profile, score in zip(args.profiles, scores, strict=True)},
        "difference": round(scores[1] - scores[0], 4),
        "resamples": len(drawn),
        "resampled_mean_difference": round(float(drawn.mean()), 4),
        "interval_95": [round(float(np.quantile(drawn, q)), 4) for q in (0.025, 0.975)],
        "share_second_higher": round(float(np.mean(drawn > 0)), 3),
    }
    out = BENCHMARKS_DIR / "results" / "profile_difference.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
