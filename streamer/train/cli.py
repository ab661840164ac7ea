"""`streamer train detector|quality`: train a model and write its folder (manifest, weights, ONNX)."""

from __future__ import annotations

import json
import shlex
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from streamer.errors import ConfigError
from streamer.paths import DEMO_CLIP

if TYPE_CHECKING:
    from streamer.train.loop import LoopConfig

app = typer.Typer(add_completion=False, no_args_is_help=True, help="Train detectors and quality classifiers.")

RunDir = Annotated[Path, typer.Option(help="Checkpoints (checkpoint.pt, best.pt) and TensorBoard logs.")]
Epochs = Annotated[int, typer.Option(min=1, help="Epochs to train.")]
Lr = Annotated[
    float, typer.Option(help="Adam learning rate (the paper: 1e-5; small models from scratch: 1e-3).")
]
MaxMinutes = Annotated[
    float | None, typer.Option(help="Stop after this many minutes of training (then validate and save).")
]
Resume = Annotated[bool, typer.Option("--resume", help="Continue from RUN_DIR/checkpoint.pt.")]
Threads = Annotated[int, typer.Option(min=1, help="torch CPU threads.")]
Seed = Annotated[int, typer.Option(help="Random seed (initialisation, order, augmentation).")]
Patience = Annotated[int, typer.Option(min=0, help="Epochs without improvement before the LR is cut by 10.")]


def _loop(
    run_dir: Path,
    epochs: int,
    lr: float,
    patience: int,
    max_minutes: float | None,
    resume: bool,
    monitor: str = "score",
) -> LoopConfig:
    from streamer.train.loop import LoopConfig

    return LoopConfig(
        run_dir=run_dir,
        epochs=epochs,
        lr=lr,
        plateau_patience=patience,
        max_minutes=max_minutes,
        resume=resume,
        monitor=monitor,
    )


@app.command("detector")
def detector_command(
    output: Annotated[Path, typer.Option(help="Model folder to write (e.g. engines/detector-lite).")],
    run_dir: RunDir = Path("runs/detector"),
    data: Annotated[
        list[Path] | None,
        typer.Option(help="EAD-format folder (images/ + labels/ YOLO .txt, classes.txt); repeatable."),
    ] = None,
    synthetic: Annotated[int, typer.Option(min=0, help="Also train on this many synthetic frames.")] = 0,
    synthetic_seed: Annotated[int, typer.Option(help="Seed of the synthetic training frames.")] = 1000,
    architecture: Annotated[
        str, typer.Option(help="lite (320x320), r18 (384x384) or r50 (512x512).")
    ] = "lite",
    input_size: Annotated[
        int | None, typer.Option(min=32, help="Square input side instead of the architecture's (x32).")
    ] = None,
    head_depth: Annotated[
        int | None, typer.Option(min=1, help="Convs in each head instead of the architecture's (depth).")
    ] = None,
    name: Annotated[str, typer.Option(help="Model name written to the manifest.")] = "detector-lite",
    split: Annotated[
        Path | None,
        typer.Option(help="Reuse this split.json (train/validation by video) instead of drawing one."),
    ] = None,
    validation_fraction: Annotated[
        float, typer.Option(min=0.0, max=0.5, help="Share of frames held out, whole videos at a time.")
    ] = 0.175,
    epochs: Epochs = 10,
    batch_size: Annotated[int, typer.Option(min=1)] = 8,
    lr: Lr = 1e-5,
    patience: Patience = 2,
    gamma: Annotated[
        float, typer.Option(help="Focal loss focusing parameter (the paper: 1.5; m5: 3.5).")
    ] = 1.5,
    alpha: Annotated[float, typer.Option(help="Focal loss positive-class weight.")] = 0.25,
    classification_weight: Annotated[float, typer.Option(help="Weight of the focal term (m2: 2).")] = 1.0,
    colour_noise: Annotated[
        float, typer.Option(min=0.0, max=1.0, help="Share of images with an RGB shift, and with noise (1/9).")
    ] = 1 / 9,
    monitor: Annotated[
        str,
        typer.Option(
            help="Validation figure that picks the kept epoch and drives the LR decay: score_cross_fitted "
            "(EAD2019 score, thresholds tuned on the other half of the validation videos), score (tuned on "
            "all of them) or mAP."
        ),
    ] = "score_cross_fitted",
    init_weights: Annotated[
        Path | None,
        typer.Option(
            help="Start from these weights (model.pt, or a run's checkpoint.pt) with a new optimiser."
        ),
    ] = None,
    max_minutes: MaxMinutes = None,
    resume: Resume = False,
    seed: Seed = 0,
    threads: Threads = 2,
) -> None:
    """Train a RetinaNet on EAD-format folders (and/or synthetic frames), split by video.

    Frames are cropped to the field of view and resized as `streamer run` does. The split, the best
    weights, per-class score thresholds tuned on the validation videos and the ONNX export go to OUTPUT.
    """
    from streamer.train.augment import AugmentConfig
    from streamer.train.detector import DETECTOR_ARCHITECTURES, DetectorTrainConfig, train_detector

    if architecture not in DETECTOR_ARCHITECTURES:
        raise ConfigError(
            f"unknown architecture {architecture!r}; choose one of {', '.join(DETECTOR_ARCHITECTURES)}"
        )
    folders = list(data or [])
    if synthetic:
        from streamer.synthetic import write_ead2019_dataset

        synthetic_dir = run_dir / f"synthetic-{synthetic_seed}-{synthetic}"
        if not (synthetic_dir / "images").is_dir():
            typer.echo(f"writing {synthetic} synthetic frames to {synthetic_dir}")
            write_ead2019_dataset(synthetic_dir, count=synthetic, seed=synthetic_seed, size=512)
        folders.append(synthetic_dir)
    if not folders:
        raise ConfigError("no data: give --data FOLDER and/or --synthetic COUNT")
    arch = dict(DETECTOR_ARCHITECTURES[architecture])
    if input_size is not None:
        arch["input_size"] = [input_size, input_size]
    if head_depth is not None:
        arch["head_depth"] = head_depth
    import torch

    torch.set_num_threads(threads)
    config = DetectorTrainConfig(
        data=tuple(folders),
        output=output,
        loop=_loop(run_dir, epochs, lr, patience, max_minutes, resume, monitor),
        name=name,
        architecture=arch,
        batch_size=batch_size,
        validation_fraction=validation_fraction,
        split_file=split,
        seed=seed,
        gamma=gamma,
        alpha=alpha,
        classification_weight=classification_weight,
        augment=AugmentConfig(channel_shift_probability=colour_noise, noise_probability=colour_noise),
        command=shlex.join(["streamer", *sys.argv[1:]]),
        init_weights=init_weights,
    )
    _, metrics = train_detector(config)
    typer.echo(json.dumps(metrics, indent=2))


@app.command("quality")
def quality_command(
    output: Annotated[Path, typer.Option(help="Model folder to write, or to evaluate with --evaluate-only.")],
    run_dir: RunDir = Path("runs/quality"),
    data: Annotated[
        list[Path] | None,
        typer.Option(
            help="EAD-format folder labelled by the rule (bad: blur, contrast and saturation boxes cover "
            "at least half of the frame); repeatable."
        ),
    ] = None,
    split: Annotated[
        Path | None,
        typer.Option(help="Reuse this split.json (e.g. the detector's) instead of drawing one by video."),
    ] = None,
    validation_fraction: Annotated[
        float, typer.Option(min=0.0, max=0.5, help="Share of frames held out, whole videos at a time.")
    ] = 0.175,
    clip: Annotated[
        Path, typer.Option(help="Real clip: frames 0-149 train as good frames, 175-249 are the clip test.")
    ] = DEMO_CLIP,
    architecture: Annotated[
        str,
        typer.Option(
            help="lite, b0 (EfficientNet-B0) or pyramid (a lite detector's trunk and pyramid, every level's "
            "statistics feeding the verdict)."
        ),
    ] = "lite",
    input_size: Annotated[
        int | None,
        typer.Option(min=32, help="Square input side instead of the architecture's (a multiple of 32)."),
    ] = None,
    init_weights: Annotated[
        Path | None,
        typer.Option(
            help="Continue this quality classifier, or start from the trunk of this lite detector "
            "(model.pt or a checkpoint)."
        ),
    ] = None,
    freeze_features: Annotated[
        bool,
        typer.Option(
            "--freeze-features",
            help="pyramid only: keep the trunk and pyramid of --init-weights as they are; train what follows.",
        ),
    ] = False,
    head_fit: Annotated[
        bool,
        typer.Option(
            "--head-fit",
            help="pyramid only: keep the trunk and pyramid of --init-weights and fit the heads in closed "
            "form (L2 logistic regressions): a real head on the unaugmented frames and a degradation head "
            "on degraded copies of the good ones (p_bad: the larger of the two); no epochs.",
        ),
    ] = False,
    head_l2: Annotated[float, typer.Option(min=0.0, help="--head-fit: L2 weight of the real head.")] = 0.1,
    degrade_probability: Annotated[
        float,
        typer.Option(min=0.0, max=1.0, help="Share of good training frames replaced by a degraded copy."),
    ] = 0.3,
    coverage_weight: Annotated[
        float, typer.Option(min=0.0, help="Weight of the per-cell cause maps next to the good/bad loss.")
    ] = 1.0,
    balance_sources: Annotated[
        bool,
        typer.Option(
            "--balance-sources",
            help="Draw training frames by 1/sqrt(frames of their source, told by image size), not uniformly.",
        ),
    ] = False,
    name: Annotated[str, typer.Option(help="Model name written to the manifest.")] = "quality-lite",
    epochs: Epochs = 30,
    batch_size: Annotated[int, typer.Option(min=1)] = 16,
    lr: Lr = 1e-3,
    patience: Patience = 3,
    max_minutes: MaxMinutes = None,
    resume: Resume = False,
    evaluate_only: Annotated[
        bool, typer.Option("--evaluate-only", help="Only measure OUTPUT on the clip test frames.")
    ] = False,
    seed: Seed = 0,
    threads: Threads = 2,
) -> None:
    """Train the quality gate (good/bad and the blurred, badly exposed and saturated share of the frame) on
    EAD frames labelled by the rule, the bundled clip and degraded copies of good frames."""
    import torch

    from streamer.train.quality import (
        CLASSIFIER_ARCHITECTURES,
        QualityTrainConfig,
        evaluate_clip,
        train_quality,
    )

    torch.set_num_threads(threads)
    if evaluate_only:
        from streamer.models.store import load_model

        model, manifest = load_model(output)
        threshold = manifest.score_thresholds[0] if manifest.score_thresholds else 0.5
        typer.echo(json.dumps(evaluate_clip(model, manifest, clip, seed=seed, threshold=threshold), indent=2))
        return
    if architecture not in CLASSIFIER_ARCHITECTURES:
        known = ", ".join(CLASSIFIER_ARCHITECTURES)
        raise ConfigError(f"unknown architecture {architecture!r}; choose one of {known}")
    if not data:
        raise ConfigError("no data: give --data FOLDER (EAD format, e.g. ../shared/data/ead2020)")
    if freeze_features and (architecture != "pyramid" or init_weights is None):
        raise ConfigError("--freeze-features needs --architecture pyramid and --init-weights DETECTOR")
    if head_fit and (architecture != "pyramid" or init_weights is None):
        raise ConfigError("--head-fit needs --architecture pyramid and --init-weights DETECTOR")
    arch = dict(CLASSIFIER_ARCHITECTURES[architecture])
    if head_fit:
        arch["degradation_head"] = True
    if input_size is not None:
        if input_size % 32:
            raise ConfigError(f"--input-size must be a multiple of 32, got {input_size}")
        arch["input_size"] = [input_size, input_size]
    config = QualityTrainConfig(
        data=tuple(data),
        clip=clip,
        output=output,
        loop=_loop(run_dir, epochs, lr, patience, max_minutes, resume),
        split=split,
        validation_fraction=validation_fraction,
        name=name,
        architecture=arch,
        init_weights=init_weights,
        freeze_features=freeze_features,
        degrade_probability=degrade_probability,
        coverage_weight=coverage_weight,
        balance_sources=balance_sources,
        batch_size=batch_size,
        seed=seed,
        command=shlex.join(["streamer", *sys.argv[1:]]),
    )
    if head_fit:
        from streamer.train.quality_headfit import HeadFitConfig, fit_quality_heads

        metrics = fit_quality_heads(config, HeadFitConfig(head_l2=head_l2))
    else:
        _, metrics = train_quality(config)
    typer.echo(json.dumps(metrics, indent=2))
