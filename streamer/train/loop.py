"""Generic training loop: Adam, learning-rate decay on plateau, checkpoints, resume, tqdm, TensorBoard.

The run folder holds `checkpoint.pt` (last state, for --resume), `best.pt` (state_dict of the best
validation score) and `tensorboard/` (event files).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.utils.tensorboard import SummaryWriter
from tqdm import tqdm

from streamer.errors import ConfigError

CHECKPOINT_NAME = "checkpoint.pt"
BEST_NAME = "best.pt"


@dataclass(frozen=True)
class LoopConfig:
    """Optimisation settings.

    lr: Adam learning rate (the paper uses 1e-5); plateau_factor / plateau_patience: the LR is multiplied by
    factor after `patience` epochs without a better validation score; max_minutes: wall-clock budget after
    which training stops at the end of the current step; monitor: key of the validation dict to maximise;
    tie_break: key to minimise among epochs with an equal monitor value (e.g. a validation loss), or None.
    """

    run_dir: Path
    epochs: int = 10
    lr: float = 1e-5
    weight_decay: float = 0.0
    plateau_factor: float = 0.1
    plateau_patience: int = 2
    max_minutes: float | None = None
    monitor: str = "score"
    tie_break: str | None = "loss"
    resume: bool = False
    log_every: int = 10
    progress: bool = True


@dataclass(frozen=True)
class LoopResult:
    """What a run did: epochs and steps completed, best validation metrics, where the best weights are, and
    the minutes of training over all its resumed parts."""

    epochs: int
    steps: int
    best: dict[str, float]
    best_path: Path
    minutes: float


def fit(
    model: nn.Module,
    step_loss: Callable[[nn.Module, Any], dict[str, torch.Tensor]],
    train_batches: Iterable[Any],
    validate: Callable[[nn.Module], dict[str, float]],
    config: LoopConfig,
) -> LoopResult:
    """Train `model` with `step_loss(model, batch)["loss"]`, validating after each epoch.

    step_loss returns a dict of scalar tensors with at least "loss"; validate returns metrics including
    `config.monitor` (higher is better). Resumes from run_dir/checkpoint.pt when config.resume is set.
    """
    run_dir = Path(config.run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(
        optimizer, mode="max", factor=config.plateau_factor, patience=config.plateau_patience
    )
    epoch, step, best, earlier_minutes = 0, 0, {config.monitor: float("-inf")}, 0.0
    checkpoint_path = run_dir / CHECKPOINT_NAME
    if config.resume:
        if not checkpoint_path.is_file():
            raise ConfigError(f"--resume: no checkpoint in {run_dir}")
        state = torch.load(checkpoint_path, map_location="cpu", weights_only=False)
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        epoch, step, best = state["epoch"], state["step"], state["best"]
        earlier_minutes = float(state.get("minutes", 0.0))
    writer = SummaryWriter(str(run_dir / "tensorboard"), purge_step=step)
    started = time.monotonic()
    out_of_time = False
    try:
        while epoch < config.epochs and not out_of_time:
            model.train()
            progress = tqdm(
                train_batches, desc=f"epoch {epoch + 1}/{config.epochs}", disable=not config.progress
            )
            loss_sum, loss_steps = 0.0, 0
            for batch in progress:
                losses = step_loss(model, batch)
                optimizer.zero_grad(set_to_none=True)
                losses["loss"].backward()
                torch.nn.utils.clip_grad_norm_(model.parameters(), 10.0)
                optimizer.step()
                step += 1
                if step % config.log_every == 0:
                    for key, value in losses.items():
                        writer.add_scalar(f"train/{key}", float(value.detach()), step)
                    writer.add_scalar("train/lr", optimizer.param_groups[0]["lr"], step)
                loss_sum, loss_steps = loss_sum + losses["loss"].item(), loss_steps + 1
                progress.set_postfix(loss=f"{losses['loss'].item():.4f}")
                if config.max_minutes is not None and time.monotonic() - started > config.max_minutes * 60:
                    out_of_time = True
                    break
            epoch += 1
            model.eval()
            with torch.no_grad():
                metrics = validate(model)
            for key, value in metrics.items():
                writer.add_scalar(f"validation/{key}", value, step)
            scheduler.step(metrics[config.monitor])
            if is_better(metrics, best, config):
                best = dict(metrics)
                torch.save(model.state_dict(), run_dir / BEST_NAME)
            mean_loss = loss_sum / max(1, loss_steps)
            writer.add_scalar("train/epoch_loss", mean_loss, step)
            tqdm.write(
                f"epoch {epoch}: train_loss={mean_loss:.4f}, lr={optimizer.param_groups[0]['lr']:.2e}, "
                + ", ".join(f"{k}={v:.4f}" for k, v in metrics.items())
            )
            torch.save(
                {
                    "model": model.state_dict(),
                    "optimizer": optimizer.state_dict(),
                    "scheduler": scheduler.state_dict(),
                    "epoch": epoch,
                    "step": step,
                    "best": best,
                    "minutes": earlier_minutes + (time.monotonic() - started) / 60,
                },
                checkpoint_path,
            )
    finally:
        writer.close()
    return LoopResult(
        epochs=epoch,
        steps=step,
        best=best,
        best_path=run_dir / BEST_NAME,
        minutes=earlier_minutes + (time.monotonic() - started) / 60,
    )


def is_better(metrics: dict[str, float], best: dict[str, float], config: LoopConfig) -> bool:
    """Higher monitor wins; on a tie, the lower tie_break value (when both have one)."""
    if metrics[config.monitor] != best[config.monitor]:
        return metrics[config.monitor] > best[config.monitor]
    key = config.tie_break
    return key is not None and key in metrics and key in best and metrics[key] < best[key]
