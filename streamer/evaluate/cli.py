"""`streamer eval`: score detections against EAD2019 ground truth, and the frame-quality classifier."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from streamer.engine_registry import BACKEND_CHOICES, spoken
from streamer.errors import ConfigError

if TYPE_CHECKING:
    import numpy as np

app = typer.Typer(no_args_is_help=True, help="Evaluate detections and the quality classifier.")


class MetricChoice(StrEnum):
    ead2019 = "ead2019"
    endocv2020 = "endocv2020"


_JSON_HELP = "Write the report here as JSON (fractions)."


@app.command()
def detections(
    gt: Annotated[
        Path, typer.Option(help="Ground truth: folder of .txt files (scorer or YOLO) or COCO .json.")
    ],
    pred: Annotated[Path, typer.Option(help="Predictions in one of those formats, with confidences.")],
    metric: Annotated[
        MetricChoice, typer.Option(help="ead2019 (IoU 0.25) or endocv2020.")
    ] = MetricChoice.ead2019,
    json_path: Annotated[Path | None, typer.Option("--json", help=_JSON_HELP)] = None,
    plots: Annotated[
        Path | None, typer.Option(help="Write AP-per-class and precision-recall PNGs here.")
    ] = None,
) -> None:
    """Score predictions the way the EAD2019 challenge did; prints per-class AP and IoU in percent.

    Text folders: scorer format `class_name x1 y1 x2 y2` (predictions `class_name confidence x1 y1 x2 y2`)
    or YOLO `class cx cy w h` (predictions add `confidence`) with each image next to its labels.
    """
    from streamer.evaluate.detection_score import score_detections
    from streamer.evaluate.folders import load_annotations
    from streamer.evaluate.plots import plot_detection
    from streamer.evaluate.report import format_detection_report

    score = score_detections(
        load_annotations(gt, predictions=False), load_annotations(pred, predictions=True), metric.value
    )
    typer.echo(format_detection_report(score))
    if json_path is not None:
        _write_json(json_path, score.to_json())
    if plots is not None:
        for path in plot_detection(score, plots):
            typer.echo(f"wrote {path}")


@app.command()
def quality(
    data: Annotated[
        Path | None,
        typer.Option(
            help="EAD-format folder labelled by the rule (bad: blur, contrast and saturation boxes cover at "
            "least half of the frame): run the profile's quality gate on it as `streamer run` does."
        ),
    ] = None,
    split: Annotated[
        Path | None, typer.Option(help="With --data: score only the validation frames of this split.json.")
    ] = None,
    profile: Annotated[str, typer.Option(help="With --data: profile whose gate is scored.")] = "lite",
    classifier: Annotated[
        str | None, typer.Option(help="With --data: quality model instead of the profile's, or classical.")
    ] = None,
    backend: Annotated[str | None, typer.Option(help=f"With --data: {spoken(BACKEND_CHOICES)}.")] = None,
    examples: Annotated[
        Path | None, typer.Option(help="With --data: write a PNG of example frames and their verdicts here.")
    ] = None,
    pred: Annotated[
        Path | None,
        typer.Option(help="JSONL: objects with 'index' and 'quality.p_bad', 'verdict.p_bad' or 'p_bad'."),
    ] = None,
    gt: Annotated[
        Path | None,
        typer.Option(help="Labels for --pred: CSV 'index,label' or JSON [{index, label}] / {index: label}."),
    ] = None,
    table: Annotated[
        Path | None, typer.Option(help="Instead of --pred/--gt: one CSV 'id,label,p_bad'.")
    ] = None,
    threshold: Annotated[
        float | None,
        typer.Option(
            min=0.0,
            max=1.0,
            help="A frame is called bad when p_bad >= this (default: the model's own, or 0.5).",
        ),
    ] = None,
    json_path: Annotated[Path | None, typer.Option("--json", help=_JSON_HELP)] = None,
    plots: Annotated[Path | None, typer.Option(help="Write confusion-matrix and ROC PNGs here.")] = None,
) -> None:
    """Score the good/bad quality gate (bad is the positive class): accuracy, sensitivity, specificity,
    balanced accuracy, ROC AUC, Cohen's κ.

    Give --data (a labelled folder, judged here), or --pred with --gt, or --table.
    Labels in --gt and --table are bad/good or 1/0 (1 = bad).
    """
    from streamer.evaluate.classification import quality_metrics
    from streamer.evaluate.plots import plot_quality
    from streamer.evaluate.quality_inputs import (
        join_on_index,
        read_quality_labels,
        read_quality_predictions,
        read_quality_table,
    )
    from streamer.evaluate.report import format_quality_report

    given = [name for name, value in (("--data", data), ("--table", table), ("--pred", pred)) if value]
    if len(given) != 1 or (pred is None) != (gt is None):
        raise ConfigError("give one of --data FOLDER, --pred with --gt, or --table")
    left_out = 0
    extra: dict[str, object] = {}
    if data is not None:
        is_bad, p_bad, threshold, extra = _judge_labelled_folder(
            data, split, profile, classifier, backend, threshold, examples
        )
    elif table is not None:
        _, is_bad, p_bad = read_quality_table(table)
    else:
        assert pred is not None and gt is not None
        is_bad, p_bad, left_out = join_on_index(read_quality_labels(gt), read_quality_predictions(pred))
    metrics = quality_metrics(is_bad, p_bad, 0.5 if threshold is None else threshold)
    typer.echo(format_quality_report(metrics, left_out))
    if extra.get("cause_mean_abs_error"):
        errors = extra["cause_mean_abs_error"]
        assert isinstance(errors, dict)
        typer.echo("cause share, mean abs error: " + ", ".join(f"{k} {v:.3f}" for k, v in errors.items()))
    if json_path is not None:
        _write_json(json_path, {**metrics.to_json(), "labels_without_prediction": left_out, **extra})
    if plots is not None:
        for path in plot_quality(metrics, plots):
            typer.echo(f"wrote {path}")


def _judge_labelled_folder(
    data: Path,
    split: Path | None,
    profile: str,
    classifier: str | None,
    backend: str | None,
    threshold: float | None,
    examples: Path | None,
) -> tuple[np.ndarray, np.ndarray, float, dict[str, object]]:
    """(is_bad, p_bad, threshold in use, extra report fields) of the profile's gate on a labelled folder."""
    import numpy as np

    from streamer.config import load_profile, with_overrides
    from streamer.evaluate.quality_eval import cause_errors, example_sheet, judge_folder
    from streamer.pipeline.image_classifier import ImageClassifier
    from streamer.train.video_split import validation_stems

    config = with_overrides(
        load_profile(profile), backend=backend, classifier=classifier, quality_threshold=threshold
    )
    only = None if split is None else validation_stems(split, data)
    with ImageClassifier(config) as judge:
        judged = judge_folder(judge, data, only)
        used_threshold, model = judge.threshold, judge.name
    extra: dict[str, object] = {"model": model, "cause_mean_abs_error": cause_errors(judged)}
    if examples is not None:
        typer.echo(f"wrote {example_sheet(judged, examples)}")
    is_bad = np.array([frame.truth.bad for frame in judged], dtype=bool)
    p_bad = np.array([frame.verdict.p_bad for frame in judged], dtype=np.float64)
    return is_bad, p_bad, used_threshold, extra


def _write_json(path: Path, report: dict[str, object]) -> None:
    from streamer.evaluate.textio import write_text

    path.parent.mkdir(parents=True, exist_ok=True)
    write_text(path, json.dumps(report, indent=2) + "\n")


@app.command()
def model(
    dataset: Annotated[
        Path,
        typer.Argument(
            help="EAD-format folder: images/ + labels/ (YOLO .txt, classes.txt), or side by side."
        ),
    ],
    profile: Annotated[str, typer.Option(help="Profile whose detectors are scored (name or TOML).")] = "lite",
    detector: Annotated[
        list[str] | None,
        typer.Option(help="Detector model folder/file instead of the profile's (repeat: ensemble)."),
    ] = None,
    backend: Annotated[str | None, typer.Option(help=f"{spoken(BACKEND_CHOICES)}.")] = None,
    score_threshold: Annotated[
        float | None,
        typer.Option(
            help="One score threshold for every class instead of each model's own (its manifest's, what "
            "`streamer run` shows); a low value such as 0.05 gives the full precision-recall curve."
        ),
    ] = None,
    metric: Annotated[MetricChoice, typer.Option(help="ead2019 or endocv2020.")] = MetricChoice.ead2019,
    split: Annotated[
        Path | None,
        typer.Option(
            help="Score only the validation frames of this split.json (written next to each model)."
        ),
    ] = None,
    predictions: Annotated[
        Path | None, typer.Option(help="Also write the predictions here (scorer format).")
    ] = None,
    tune_thresholds: Annotated[
        bool,
        typer.Option(
            "--tune-thresholds",
            help="Also choose per-class score thresholds that maximise the EAD2019 score on these frames "
            "(run with a low --score-threshold); prints them and adds them to the JSON report.",
        ),
    ] = False,
    json_path: Annotated[Path | None, typer.Option("--json", help=_JSON_HELP)] = None,
    plots: Annotated[
        Path | None, typer.Option(help="Write AP-per-class and precision-recall PNGs here.")
    ] = None,
) -> None:
    """Run the profile's detectors (as `streamer run` does, with the same thresholds) over a labelled folder
    and score them over the classes present in its ground truth."""
    from streamer.config import load_profile, with_overrides
    from streamer.evaluate.detection_score import score_detections
    from streamer.evaluate.detector_eval import predict_folder
    from streamer.evaluate.plots import plot_detection
    from streamer.evaluate.report import format_detection_report
    from streamer.evaluate.textio import write_text
    from streamer.evaluate.thresholds import apply_thresholds, cross_fitted_score, tune_class_thresholds
    from streamer.pipeline.image_detector import ImageDetector
    from streamer.train.video_split import validation_stems

    config = with_overrides(
        load_profile(profile),
        backend=backend,
        detectors=tuple(detector) if detector else None,
        score_threshold=score_threshold,
    )
    only = None if split is None else validation_stems(split, dataset)
    with ImageDetector(config) as detect:
        ground_truth, predicted = predict_folder(detect, dataset, predictions_dir=predictions, only=only)
        classes = detect.classes
    score = score_detections(ground_truth, predicted, metric.value)
    typer.echo(format_detection_report(score))
    report = score.to_json()
    if tune_thresholds:
        thresholds = tune_class_thresholds(ground_truth, predicted, classes)
        tuned = score_detections(ground_truth, apply_thresholds(predicted, thresholds), metric.value)
        typer.echo("\ntuned per-class thresholds: " + ", ".join(f"{k} = {v}" for k, v in thresholds.items()))
        typer.echo(f"score with them = {tuned.score * 100:.2f}% (tuned on these same frames)")
        cross_fitted = cross_fitted_score(ground_truth, predicted, classes)
        typer.echo(
            f"cross-fitted score = {cross_fitted * 100:.2f}% (each half of the frames thresholded as tuned on the other)"
        )
        report["cross_fitted_score"] = cross_fitted
        report["tuned_thresholds"] = thresholds
        report["tuned"] = tuned.to_json()
    if json_path is not None:
        write_text(json_path, json.dumps(report, indent=2) + "\n")
    if plots is not None:
        plot_detection(score, plots)
