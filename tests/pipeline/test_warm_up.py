"""Warm-up: every batch size the stream can show an accelerator engine, before the first frame."""

from dataclasses import dataclass, field

import torch

from streamer.pipeline.runner import warm_up


@dataclass
class _RecordingEngine:
    """Records the shape of every input it is given; `device` decides where the zeros are made."""

    device: torch.device
    shapes: list[tuple[int, ...]] = field(default_factory=list)

    @dataclass
    class _Spec:
        input_size: tuple[int, int] = (32, 48)

    spec: _Spec = field(default_factory=_Spec)

    def infer(self, images: torch.Tensor) -> dict[str, torch.Tensor]:
        assert images.device == self.device
        self.shapes.append(tuple(images.shape))
        return {}


def test_an_accelerator_engine_is_warmed_at_every_partial_batch_size() -> None:
    engine = _RecordingEngine(torch.device("meta"))  # stands for a GPU: any device but the CPU
    warm_up([engine], 4, None)
    assert engine.shapes == [(n, 3, 32, 48) for n in (1, 2, 3, 4)]


def test_a_cpu_engine_is_warmed_at_batch_one_and_the_full_batch_only() -> None:
    engines = [_RecordingEngine(torch.device("cpu")), _RecordingEngine(torch.device("cpu"))]
    warm_up(engines, 4, None)
    assert [engine.shapes for engine in engines] == [[(1, 3, 32, 48), (4, 3, 32, 48)]] * 2
    single = _RecordingEngine(torch.device("cpu"))
    warm_up([single], 1, None)
    assert single.shapes == [(1, 3, 32, 48)]
