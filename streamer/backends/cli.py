"""`streamer calibrate` and `streamer build`: INT8 calibration and ahead-of-time engine builds."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from streamer.engine_registry import BACKEND_CHOICES, spoken
from streamer.errors import ConfigError, ModelError
from streamer.paths import CALIBRATION_FRAMES, HOLDOUT_FRAMES

ModelsArgument = Annotated[
    list[str] | None,
    typer.Argument(
        help="Shipped model names (engines/), untrained:NAME, or model folders (or manifest.json / .pt / .onnx)."
    ),
]
ProfileOption = Annotated[str | None, typer.Option(help="Every model of this profile (name or TOML).")]


def model_targets(models: list[str] | None, profile: str | None) -> list[Path]:
    """The model folders or files named by `models` and by the profile's quality and detector tables."""
    from streamer.config import load_profile
    from streamer.pipeline.engine_loading import profile_model_paths, resolve_model_path

    targets = [resolve_model_path(model) for model in models or []]
    if profile is not None:
        targets += profile_model_paths(load_profile(profile))
    if not targets:
        raise ConfigError("name the models, or a --profile")
    return targets


def calibrate_command(
    models: ModelsArgument = None,
    profile: ProfileOption = None,
    frames: Annotated[Path, typer.Option(help="Calibration images.")] = CALIBRATION_FRAMES,
    holdout: Annotated[Path, typer.Option(help="Held-out images for the accuracy guard.")] = HOLDOUT_FRAMES,
    max_score_loss: Annotated[
        float, typer.Option(help="Detector: largest EAD2019 score loss, points.")
    ] = 1.0,
    max_label_disagreement: Annotated[
        float, typer.Option(help="Classifier: largest share of frames whose label changes.")
    ] = 0.01,
    score_threshold: Annotated[
        float, typer.Option(help="Detector: operating score threshold of the compared detections.")
    ] = 0.3,
    report: Annotated[
        Path | None, typer.Option(help="Report path (default: int8-report.json in the model).")
    ] = None,
) -> None:
    """Quantise models to INT8 (QDQ ONNX) and install them only if they stay close to FP32."""
    from streamer.backends.calibrate import calibrate_model
    from streamer.backends.int8_guard import GuardBounds

    targets = model_targets(models, profile)
    bounds = GuardBounds(
        max_score_loss_points=max_score_loss,
        max_label_disagreement=max_label_disagreement,
        score_threshold=score_threshold,
    )
    refused = []
    for model in targets:
        result = calibrate_model(
            model,
            frames_dir=frames,
            holdout_dir=holdout,
            bounds=bounds,
            report_path=report if len(targets) == 1 else None,
        )
        metrics = ", ".join(f"{name} {value:.4g}" for name, value in result.metrics.items())
        typer.echo(f"{result.model}: {result.reason} with recipe {result.recipe} [{metrics}]")
        if not result.passed:
            refused.append(result.model)
    if refused:
        raise ModelError(
            f"INT8 model refused by the accuracy guard for {', '.join(refused)} (see the JSON reports)"
        )


def build_command(
    models: ModelsArgument = None,
    profile: ProfileOption = None,
    backend: Annotated[str, typer.Option(help=f"{spoken(BACKEND_CHOICES)}.")] = "auto",
    device: Annotated[str, typer.Option(help="cpu, cuda or cuda:N.")] = "cpu",
    precision: Annotated[list[str], typer.Option(help="Precisions to build (repeat the option).")] = ["fp32"],  # noqa: B006
    max_batch: Annotated[int, typer.Option(help="Largest batch the engines accept.")] = 8,
) -> None:
    """Build engines ahead of time into engines/cache/, so a live session starts without a build."""
    from streamer.backends.factory import load_engine

    for model in model_targets(models, profile):
        for value in precision:
            with load_engine(
                model, backend=backend, device=device, precision=value, max_batch=max_batch
            ) as engine:  # type: ignore[arg-type]
                typer.echo(
                    f"{engine.spec.name}: {engine.backend} {engine.spec.precision} on {engine.device} "
                    f"(batch 1..{engine.spec.max_batch}) ready"
                )
