"""Validation figures of the shipped quality gate on real EAD2020 frames labelled by the rule (bad: the
blur, contrast and saturation boxes cover at least half of the frame), for its model card.

Judges the validation videos of engines/quality-lite/split.json as `streamer run` judges an image folder
(the same engine, crop, resize and threshold), with the classical gate for comparison, and writes:
benchmarks/results/quality.json (figures of both, with a bootstrap 95 % interval over videos for the
learned gate), engines/quality-lite/plots/{roc,confusion}.png and engines/quality-lite/examples/sheet.jpg.
With --baseline MODEL, that gate is judged too and the difference of ROC AUC (shipped - baseline) is
resampled over the same runs: which gate ranks better on other videos, and how sure that is.

Usage: python benchmarks/quality_figures.py [--data ../shared/data/ead2020] [--resamples 1000]
    [--baseline MODEL_FOLDER]
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from streamer.config import load_profile, with_overrides
from streamer.evaluate.classification import quality_metrics
from streamer.evaluate.plots import plot_quality
from streamer.evaluate.quality_eval import JudgedFrame, cause_errors, example_sheet, judge_folder
from streamer.paths import BENCHMARKS_DIR, ENGINES_DIR, REPO_ROOT
from streamer.pipeline.image_classifier import ImageClassifier
from streamer.train.video_split import validation_stems

DEFAULT_DATA = REPO_ROOT.parent / "shared" / "data" / "ead2020"
MODEL = ENGINES_DIR / "quality-lite"
RUN_GAP = 1  # frames whose numbers differ by more than this start another run (a video, roughly)


def figures(judged: list[JudgedFrame], threshold: float) -> dict[str, object]:
    """Accuracy, sensitivity, specificity, balanced accuracy, ROC AUC, κ and the confusion counts."""
    is_bad = np.array([j.truth.bad for j in judged])
    p_bad = np.array([j.verdict.p_bad for j in judged])
    metrics = quality_metrics(is_bad, p_bad, threshold)
    return {
        "frames": len(judged),
        "bad_frames": int(is_bad.sum()),
        "threshold": round(threshold, 4),
        "accuracy": round(metrics.accuracy, 4),
        "sensitivity": round(metrics.sensitivity, 4),
        "specificity": round(metrics.specificity, 4),
        "balanced_accuracy": round(metrics.balanced_accuracy, 4),
        "roc_auc": None if metrics.auc is None else round(metrics.auc, 4),
        "kappa": round(metrics.kappa, 4),
        "confusion_truth_by_prediction": metrics.confusion.tolist(),
        "cause_mean_abs_error": cause_errors(judged),
    }


def video_runs(judged: list[JudgedFrame]) -> np.ndarray:
    """(N,) run id of each frame: consecutive frame numbers belong to one run."""
    numbers = [int(j.stem) if j.stem.isdigit() else -10 for j in judged]
    runs, current = [], 0
    for index, number in enumerate(numbers):
        if index and number - numbers[index - 1] > RUN_GAP:
            current += 1
        runs.append(current)
    return np.array(runs)


def resampled_runs(judged: list[JudgedFrame], resamples: int) -> Iterator[np.ndarray]:
    """Frame indices of `resamples` draws of whole runs with replacement (seeded), each draw that holds
    both good and bad frames."""
    is_bad = np.array([j.truth.bad for j in judged])
    runs = video_runs(judged)
    members = [np.flatnonzero(runs == run) for run in np.unique(runs)]
    rng = np.random.default_rng(0)
    for _ in range(resamples):
        picked = np.concatenate([members[i] for i in rng.integers(len(members), size=len(members))])
        if 0 < is_bad[picked].sum() < len(picked):
            yield picked


def interval_95(values: list[float]) -> list[float]:
    """The 2.5th and 97.5th percentiles of `values`."""
    return [round(float(np.percentile(values, q)), 4) for q in (2.5, 97.5)]


def bootstrap(judged: list[JudgedFrame], threshold: float, resamples: int) -> dict[str, object]:
    """95 % intervals of ROC AUC and balanced accuracy, resampling whole runs of frames."""
    is_bad = np.array([j.truth.bad for j in judged])
    p_bad = np.array([j.verdict.p_bad for j in judged])
    aucs, balanced = [], []
    for picked in resampled_runs(judged, resamples):
        metrics = quality_metrics(is_bad[picked], p_bad[picked], threshold)
        aucs.append(metrics.auc)
        balanced.append(metrics.balanced_accuracy)
    runs = len(np.unique(video_runs(judged)))
    return {"roc_auc_95": interval_95(aucs), "balanced_accuracy_95": interval_95(balanced), "runs": runs}


def paired_auc_difference(
    shipped: list[JudgedFrame], baseline: list[JudgedFrame], resamples: int
) -> dict[str, float | list[float]]:
    """ROC AUC of `shipped` minus that of `baseline` on the same frames, and over resampled runs: mean, 95 %
    interval and the share of draws in which `shipped` ranks better."""
    if [j.stem for j in shipped] != [j.stem for j in baseline]:
        raise ValueError("the two gates were judged on different frames")
    is_bad = np.array([j.truth.bad for j in shipped])
    scores = [np.array([j.verdict.p_bad for j in judged]) for judged in (shipped, baseline)]
    differences = [
        quality_metrics(is_bad[picked], scores[0][picked]).auc
        - quality_metrics(is_bad[picked], scores[1][picked]).auc
        for picked in resampled_runs(shipped, resamples)
    ]
    observed = quality_metrics(is_bad, scores[0]).auc - quality_metrics(is_bad, scores[1]).auc
    return {
        "roc_auc_difference": round(float(observed), 4),
        "resampled_mean": round(float(np.mean(differences)), 4),
        "resampled_95": interval_95(differences),
        "share_shipped_better": round(float(np.mean(np.array(differences) > 0)), 4),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--resamples", type=int, default=1000)
    parser.add_argument("--baseline", type=Path, help="another gate's model folder to compare with")
    args = parser.parse_args()
    only = validation_stems(MODEL / "split.json", args.data)
    base = load_profile("lite")
    results: dict[str, object] = {
        "data": str(args.data),
        "split": str((MODEL / "split.json").relative_to(REPO_ROOT)),
    }
    gates = [("quality-lite", str(MODEL)), ("classical", "classical")]
    if args.baseline is not None:
        gates.append(("baseline", str(args.baseline)))
    judged_by: dict[str, list[JudgedFrame]] = {}
    for name, classifier in gates:
        with ImageClassifier(with_overrides(base, classifier=classifier)) as judge:
            judged = judge_folder(judge, args.data, only)
            threshold = judge.threshold
        judged_by[name] = judged
        results[name] = figures(judged, threshold)
        if name == "quality-lite":
            results[name]["bootstrap_over_runs"] = bootstrap(judged, threshold, args.resamples)
            is_bad = np.array([j.truth.bad for j in judged])
            p_bad = np.array([j.verdict.p_bad for j in judged])
            plot_quality(quality_metrics(is_bad, p_bad, threshold), MODEL / "plots")
            example_sheet(judged, MODEL / "examples" / "sheet.jpg")
        print(name, json.dumps(results[name]))
    if args.baseline is not None:
        results["baseline"] = {"model": str(args.baseline), **results["baseline"]}  # type: ignore[dict-item]
        results["shipped_minus_baseline"] = paired_auc_difference(
            judged_by["quality-lite"], judged_by["baseline"], args.resamples
        )
        print("shipped - baseline", json.dumps(results["shipped_minus_baseline"]))
    out = BENCHMARKS_DIR / "results" / "quality.json"
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
