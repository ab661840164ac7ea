"""Fit the pyramid quality gate's heads in closed form on a lite detector's frozen trunk and pyramid.

The trunk and pyramid keep the detector's weights (trained on the same frames' boxes). Their statistics
(streamer.models.classifier.LitePyramidFeatures) are computed once per frame, then three L2-regularised
logistic regressions are fitted by LBFGS:

- `fc`, the real head: bad by the EAD box rule, on the unaugmented training frames (EAD training side and
  the clip's good frames);
- `degradation`, the synthetic head: good training frames, as they are and augmented, against degraded
  copies of them (defocus, motion, exposure, noise, haze);
- `coverage`, the 1×1 convolution on P5: each stride-32 cell's cause targets, on the unaugmented real frames
  only. The degraded copies count their whole view as covered; fitted on them too, the cause shares rose on
  every real frame (validation mean error blur 0.31, exposure 0.23 against 0.18 and 0.07 without them).

The classifier calls a frame bad when either head does: p_bad = max(p_fc, p_degradation). Fitting a linear head in closed form does not drift the way
gradient steps on 1,600 frames did, and the two heads keep real-frame ranking and the synthetic clip test
from pulling one set of weights in opposite directions.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader

from streamer.errors import ConfigError
from streamer.models.classifier import LitePyramidFeatures, QualityClassifier
from streamer.models.store import build_model
from streamer.train.quality import (
    DETECTOR_PARTS,
    IMAGENET_MEAN,
    IMAGENET_STD,
    STRIDE,
    QualityTrainConfig,
    init_weights,
    load_samples,
    make_split,
    publish_quality,
)
from streamer.train.quality_data import QualityDataset, QualitySample
from streamer.train.video_split import SPLIT_NAME, write_split

COVERAGE_L2 = 1e-3  # the coverage cells are many (100 per frame): a light penalty suffices


@dataclass(frozen=True)
class HeadFitConfig:
    """head_l2: L2 weight of the real head; degradation_l2: of the synthetic head; degraded_passes: how many
    augmented and degraded copies of every good training frame the synthetic head sees."""

    head_l2: float = 0.1
    degradation_l2: float = 0.001
    degraded_passes: int = 2


@dataclass(frozen=True)
class FrozenFeatures:
    """Per frame: statistics (N, F) before normalisation, P5 maps (N, C, gh, gw), bad labels (N,) and
    coverage targets (N, causes + 1, gh, gw)."""

    statistics: torch.Tensor
    maps: torch.Tensor
    bad: torch.Tensor
    targets: torch.Tensor


def frozen_features(
    features: LitePyramidFeatures, dataset: QualityDataset, batch_size: int = 32
) -> FrozenFeatures:
    """Run the frozen trunk and pyramid over every item of `dataset` (one draw each)."""
    parts: list[tuple[torch.Tensor, ...]] = []
    with torch.no_grad():
        for images, bad, targets in DataLoader(dataset, batch_size=batch_size):
            statistics, maps = features.statistics(images)
            parts.append((statistics, maps, bad, targets))
    return FrozenFeatures(*(torch.cat(column) for column in zip(*parts, strict=True)))


def fit_logistic(
    features: torch.Tensor, targets: torch.Tensor, l2: float, *, max_iter: int = 500
) -> tuple[torch.Tensor, torch.Tensor]:
    """L2-regularised logistic regression by LBFGS: features (N, F) standardised, targets (N,) in [0, 1] ->
    (weight (F,), bias ()) minimising mean binary cross-entropy + l2 * |weight|²."""
    x = features.double()
    y = targets.double()
    weight = torch.zeros(x.shape[1], dtype=torch.float64, requires_grad=True)
    bias = torch.zeros((), dtype=torch.float64, requires_grad=True)
    optimiser = torch.optim.LBFGS([weight, bias], max_iter=max_iter, line_search_fn="strong_wolfe")

    def closure() -> torch.Tensor:
        optimiser.zero_grad()
        loss = F.binary_cross_entropy_with_logits(x @ weight + bias, y) + l2 * weight.square().sum()
        loss.backward()
        return loss

    optimiser.step(closure)
    return weight.detach(), bias.detach()


def standardiser(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(mean (F,), standard deviation (F,)) of the rows of x (N, F), in float64; constant columns get 1."""
    x = x.double()
    std = x.std(dim=0)
    return x.mean(dim=0), torch.where(std > 1e-8, std, torch.ones_like(std))


def install_heads(
    model: QualityClassifier,
    real: FrozenFeatures,
    degraded: torch.Tensor,
    clean: torch.Tensor,
    config: HeadFitConfig,
) -> None:
    """Fit and write the normalisation, `fc`, `degradation` and `coverage` of `model` in place.

    real: the unaugmented real frames (their statistics also set the normalisation); degraded: statistics
    (D, F) of degraded copies of good frames, all bad; clean: statistics (M, F) of good frames as they are
    and augmented, the synthetic head's negatives next to the real good frames.
    """
    mean, std = standardiser(real.statistics)
    norm = model.features.norm
    with torch.no_grad():
        norm.running_mean.copy_(mean.float())
        norm.running_var.copy_(std.square().float() - norm.eps)
        norm.weight.fill_(1.0)
        norm.bias.zero_()

    def standardised(x: torch.Tensor) -> torch.Tensor:
        return (x.double() - mean) / std

    weight, bias = fit_logistic(standardised(real.statistics), real.bad, config.head_l2)
    with torch.no_grad():
        model.fc.weight.copy_(weight.float()[None])
        model.fc.bias.copy_(bias.float()[None])
    if model.degradation is not None:
        negatives = torch.cat([real.statistics[real.bad < 0.5], clean])
        x = standardised(torch.cat([negatives, degraded]))
        y = torch.cat([torch.zeros(len(negatives)), torch.ones(len(degraded))])
        weight, bias = fit_logistic(x, y, config.degradation_l2)
        with torch.no_grad():
            model.degradation.weight.copy_(weight.float()[None])
            model.degradation.bias.copy_(bias.float()[None])
    fit_coverage(model, real.maps, real.targets)


def fit_coverage(model: QualityClassifier, maps: torch.Tensor, targets: torch.Tensor) -> None:
    """Fit the 1×1 coverage convolution cell by cell: maps (N, C, gh, gw), targets (N, K, gh, gw) in [0, 1];
    the standardisation of the cells is folded into the convolution's weights."""
    cells = maps.permute(0, 2, 3, 1).reshape(-1, maps.shape[1])  # (N * gh * gw, C)
    cell_targets = targets.permute(0, 2, 3, 1).reshape(-1, targets.shape[1])
    mean, std = standardiser(cells)
    x = (cells.double() - mean) / std
    with torch.no_grad():
        for channel in range(cell_targets.shape[1]):
            weight, bias = fit_logistic(x, cell_targets[:, channel], COVERAGE_L2)
            folded = weight / std
            model.coverage.weight[channel, :, 0, 0] = folded.float()
            model.coverage.bias[channel] = float(bias - (folded * mean).sum())


def fit_quality_heads(config: QualityTrainConfig, headfit: HeadFitConfig = HeadFitConfig()) -> dict[str, Any]:
    """Build the pyramid classifier on `config.init_weights` (a lite detector), fit its heads, choose the
    threshold, write the model folder; returns the figures written to the manifest."""
    if config.architecture.get("backbone") != "lite_pyramid" or config.init_weights is None:
        raise ConfigError("--head-fit needs --architecture pyramid and --init-weights DETECTOR")
    started = time.perf_counter()
    torch.manual_seed(config.seed)
    model = build_model(config.architecture)
    missing, _ = model.load_state_dict(init_weights(config.init_weights), strict=False)
    if any(key.startswith(tuple(DETECTOR_PARTS.values())) for key in missing):
        raise ConfigError(f"--init-weights: {config.init_weights} does not fit the classifier's trunk")
    model.features.freeze()
    model.eval()
    grid = (model.input_size[0] // STRIDE, model.input_size[1] // STRIDE)
    split = make_split(config)
    write_split(Path(config.loop.run_dir) / SPLIT_NAME, split, folders=config.data)
    train_samples, validation_samples = load_samples(config, split, model.input_size)
    common = {"mean": IMAGENET_MEAN, "std": IMAGENET_STD, "grid": grid}
    real = frozen_features(model.features, QualityDataset(train_samples, **common, train=False))
    good = [sample for sample in train_samples if not sample.bad]
    degraded, clean = draws_of(model.features, good, common, config.seed, headfit.degraded_passes)
    install_heads(model, real, degraded, clean, headfit)
    validation_set = QualityDataset(validation_samples, **common, train=False)
    run_facts = {
        "fit": "closed form (L2 logistic heads on frozen detector features)",
        "head_l2": headfit.head_l2,
        "degradation_l2": headfit.degradation_l2,
        "degraded_passes": headfit.degraded_passes,
        "train_minutes": round((time.perf_counter() - started) / 60, 1),
    }
    return publish_quality(config, model, validation_set, train_samples, run_facts)


def draws_of(
    features: LitePyramidFeatures,
    good: Sequence[QualitySample],
    common: dict[str, Any],
    seed: int,
    passes: int,
) -> tuple[torch.Tensor, torch.Tensor]:
    """(statistics (passes * N, F) of `passes` augmented, degraded copies of every good frame, statistics
    (passes * N, F) of as many augmented clean copies)."""
    degraded, clean = [], []
    for index in range(passes):
        for probability, draws in ((1.0, degraded), (0.0, clean)):
            dataset = QualityDataset(
                good,
                **common,
                train=True,
                degrade_probability=probability,
                seed=seed + 1 + 2 * index + int(probability),
            )
            draws.append(frozen_features(features, dataset).statistics)
    return torch.cat(degraded), torch.cat(clean)
