"""The quality gate: the model's own threshold, cause shares in every verdict, hysteresis in stream order."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from streamer.backends.base import EngineSpec
from streamer.pipeline.hysteresis import Hysteresis
from streamer.pipeline.preprocess import Preprocessor
from streamer.pipeline.quality_gate import QualityGate
from streamer.types import QualityLabel


class BrightnessGate:
    """p_bad = mean brightness of the input (0–1); causes: (p_bad, 0, 1 - p_bad)."""

    backend = "test"
    device = torch.device("cpu")

    def __init__(self, thresholds: tuple[float, ...] = ()) -> None:
        self.spec = EngineSpec(
            name="bright",
            task="classifier",
            classes=("good", "bad"),
            input_size=(8, 8),
            mean=(0, 0, 0),
            std=(1, 1, 1),
            score_thresholds=thresholds,
        )

    def infer(self, batch: torch.Tensor) -> dict[str, torch.Tensor]:
        p_bad = batch.mean(dim=(1, 2, 3))
        return {"p_bad": p_bad, "causes": torch.stack([p_bad, 0 * p_bad, 1 - p_bad], dim=1)}

    def close(self) -> None: ...


def _frames(levels: list[float]) -> list[np.ndarray]:
    return [np.full((16, 16, 3), round(level * 255), np.uint8) for level in levels]


def _judge(gate: QualityGate, levels: list[float]):
    preprocessor = Preprocessor(
        crop_fov=False, fov_threshold=20, fov_refresh_frames=1, device=torch.device("cpu")
    )
    return gate.judge(preprocessor.prepare(_frames(levels)))


def test_the_models_own_threshold_is_used_unless_one_is_given():
    levels = [0.2, 0.4, 0.6]
    assert [v.label for v in _judge(QualityGate(BrightnessGate((0.3,))), levels)] == [
        QualityLabel.GOOD, QualityLabel.BAD, QualityLabel.BAD,
    ]  # fmt: skip
    assert QualityGate(BrightnessGate()).threshold == 0.5
    assert QualityGate(BrightnessGate((0.3,)), threshold=0.5).threshold == 0.5


def test_every_verdict_carries_its_cause_shares():
    verdict = _judge(QualityGate(BrightnessGate()), [0.8])[0]
    assert verdict.causes == pytest.approx({"blur": 0.8, "exposure": 0.0, "saturation": 0.2}, abs=0.01)
    assert verdict.frame_label is None


def test_hysteresis_runs_across_batches_in_stream_order():
    gate = QualityGate(BrightnessGate(), hysteresis=Hysteresis(bad_after=2, good_after=2))
    first = _judge(gate, [0.1, 0.9, 0.9])
    second = _judge(gate, [0.1, 0.9, 0.1, 0.1])
    labels = [v.label.value for v in first + second]
    frame_labels = [v.frame_label.value for v in first + second]
    assert frame_labels == ["good", "bad", "bad", "good", "bad", "good", "good"]
    assert labels == ["good", "good", "bad", "bad", "bad", "bad", "good"]
