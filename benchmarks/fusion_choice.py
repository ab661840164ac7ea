"""Which fusion of which members? The EAD2019 score of detectors, their mirrored views and fusions of
them on the validation videos, each with per-class thresholds tuned three ways.

Every member (each model, then its left-right and top-bottom views) runs once per validation frame of
engines/detector-lite-d/split.json, keeping boxes from 0.05; the fusions are computed from those outputs.
Each candidate is scored with thresholds tuned on the frames they are applied to ("tuned", optimistic),
cross-fitted on the two halves of the frames in name order ("cross_fitted", what training records), and
cross-fitted on --cuts random halves of whole videos ("cuts_mean"), with the number of cuts on which it
beats the first model alone ("cuts_won"). Written to benchmarks/results/fusion_choice.json.

Usage: python benchmarks/fusion_choice.py [--models detector-lite-e detector-lite-d detector-lite-g]
       [--cuts 16]
       [--data ../shared/data/ead2020]
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
from profile_difference import DEFAULT_DATA, SPLIT, validation_videos

from streamer.config import load_profile
from streamer.evaluate.detection_score import score_detections
from streamer.evaluate.folders import find_image, labelled_folder
from streamer.evaluate.thresholds import (
    apply_thresholds,
    cross_fitted_score,
    score_across_halves,
    tune_class_thresholds,
)
from streamer.fusion import Fuser, FusionConfig
from streamer.images import read_rgb
from streamer.paths import BENCHMARKS_DIR, REPO_ROOT
from streamer.pipeline.image_detector import ImageDetector
from streamer.types import Detections

Predictions = dict[str, Detections]
MEMBER_THRESHOLD = 0.05


def member_outputs(
    models: Sequence[str], data: Path, stems: set[str]
) -> tuple[Predictions, list[str], list[Predictions]]:
    """(ground truth, member names, each member's predictions) on the frames `stems` of `data`."""
    base = load_profile("ensemble")
    config = replace(
        base,
        detector=replace(
            base.detector,
            models=tuple(models),
            mirrors=("horizontal", "vertical"),
            score_threshold=MEMBER_THRESHOLD,
        ),
    )
    folder, truth = labelled_folder(data, stems)
    with ImageDetector(config) as detector:
        names = detector.member_names
        outputs: list[Predictions] = [{} for _ in names]
        for stem in truth:
            for member, detections in zip(
                outputs, detector.members(read_rgb(find_image(folder / f"{stem}.txt"))), strict=True
            ):
                member[stem] = detections.rounded()
    return truth, names, outputs


def fused(members: Sequence[Predictions], config: FusionConfig) -> Predictions:
    """The members' predictions of every frame fused by `config`."""
    fuser = Fuser(config)
    return {stem: fuser.fuse([member[stem] for member in members]) for stem in members[0]}


def cut_scores(
    truth: Predictions, predicted: Predictions, video_of: Mapping[str, int], cuts: int, seed: int
) -> np.ndarray:
    """(cuts,) EAD2019 scores, each with thresholds cross-fitted on one random halving of the videos."""
    classes = next(iter(truth.values())).classes
    videos = sorted(set(video_of.values()))
    rng = np.random.default_rng(seed)
    scores = []
    for _ in range(cuts):
        half = set(rng.permutation(videos)[: len(videos) // 2].tolist())
        sides = ([s for s in truth if video_of[s] in half], [s for s in truth if video_of[s] not in half])
        scores.append(score_across_halves(truth, predicted, classes, sides))
    return np.array(scores)


def candidates(names: Sequence[str], members: Sequence[Predictions]) -> dict[str, Predictions]:
    """Each member alone, then stack-vote and WBF fusions of the first model's views, of the models
    without views and of every member; WBF variants of every member."""
    classes = next(iter(members[0].values())).classes
    models = [i for i, name in enumerate(names) if "+" not in name]
    first_views = [i for i, name in enumerate(names) if name.split("+")[0] == names[0]]
    every = list(range(len(names)))
    common: dict[str, Any] = {
        "per_model_threshold": MEMBER_THRESHOLD,
        "post_filter": False,
        "classes": classes,
    }
    stack_vote = FusionConfig(mode="stack_vote", iou_threshold=0.5, **common)
    wbf = FusionConfig(mode="wbf", iou_threshold=0.55, **common)
    out = {name: member for name, member in zip(names, members, strict=True)}
    groups = {"first model's views": first_views, "models": models, "every member": every}
    for label, group in groups.items():
        if len(group) < 2:
            continue
        chosen = [members[i] for i in group]
        out[f"stack vote of {label}"] = fused(chosen, stack_vote)
        out[f"WBF of {label}"] = fused(chosen, wbf)
    weights = tuple(2.0 if i in first_views else 1.0 for i in every)
    if len(models) > 1:
        out["WBF of every member, first model's weighing 2"] = fused(
            members, replace(wbf, model_weights=weights)
        )
    out["WBF of every member, match IoU 0.5"] = fused(members, replace(wbf, iou_threshold=0.5))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--models", nargs="+", default=["detector-lite-e", "detector-lite-d", "detector-lite-g"]
    )
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--cuts", type=int, default=16)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    video_of = validation_videos(args.data)
    truth, names, members = member_outputs(args.models, args.data, set(video_of))
    classes = next(iter(truth.values())).classes
    reference = cut_scores(truth, members[0], video_of, args.cuts, args.seed)
    rows = {}
    for label, predicted in candidates(names, members).items():
        thresholds = tune_class_thresholds(truth, predicted, classes)
        cuts = cut_scores(truth, predicted, video_of, args.cuts, args.seed)
        rows[label] = {
            "tuned": round(score_detections(truth, apply_thresholds(predicted, thresholds)).score, 4),
            "cross_fitted": round(cross_fitted_score(truth, predicted, classes), 4),
            "cuts_mean": round(float(cuts.mean()), 4),
            "cuts_won": int((cuts > reference).sum()),
        }
        print(f"{label:52s} " + "  ".join(f"{k} {v}" for k, v in rows[label].items()), flush=True)
    result = {
        "what": f"EAD2019 score on the validation videos of {SPLIT.relative_to(REPO_ROOT)}: members (boxes from "
        f"{MEMBER_THRESHOLD}) and fusions of them; cuts_won: random video halvings (of {args.cuts}) on which the "
        f"candidate beats {names[0]} alone",
        "frames": len(truth),
        "videos": len(set(video_of.values())),
        "members": names,
        "candidates": rows,
    }
    out = BENCHMARKS_DIR / "results" / "fusion_choice.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
