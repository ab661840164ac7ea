"""The inference stage: bad frames never reach the detector, every stage is stamped, fusion joins models."""

from __future__ import annotations

import threading
import time

import numpy as np
import torch

from streamer.backends.base import EngineSpec
from streamer.capture.frame_queue import FrameQueue, QueuePolicy
from streamer.fusion import Fuser, FusionConfig
from streamer.pipeline.detector_stage import DetectorStage
from streamer.pipeline.inference import InferenceWorker
from streamer.pipeline.preprocess import Preprocessor
from streamer.pipeline.quality_gate import QualityGate
from streamer.preprocessing import InputTransform
from streamer.types import Detections, Frame, FrameResult


class MarkedBadClassifier:
    """p_bad = 1 for frames whose top-left pixel is pure white, else 0."""

    backend = "test"
    device = torch.device("cpu")
    spec = EngineSpec(
        name="marked",
        task="classifier",
        classes=("good", "bad"),
        input_size=(16, 16),
        mean=(0, 0, 0),
        std=(1, 1, 1),
    )

    def infer(self, batch: torch.Tensor) -> dict[str, torch.Tensor]:
        marked = (batch[:, :, 0, 0].mean(dim=1) > 0.99).float()  # (B,)
        return {"p_bad": marked, "causes": marked[:, None].repeat(1, 3)}

    def close(self) -> None: ...


class RecordingDetector:
    """One box per image at the network-input centre; remembers the batch sizes it saw."""

    backend = "test"
    device = torch.device("cpu")

    def __init__(self, score: float) -> None:
        self.spec = EngineSpec(name="recording", task="detector", classes=("a", "b"), input_size=(32, 32))
        self.batches: list[int] = []
        self.score = score

    def infer(self, batch: torch.Tensor) -> dict[str, torch.Tensor]:
        size = batch.shape[0]
        self.batches.append(size)
        boxes = torch.tensor([[8.0, 8.0, 24.0, 24.0]]).expand(size, 1, 4)
        scores = torch.tensor([[[self.score, 0.0]]]).expand(size, 1, 2)
        return {"boxes": boxes, "scores": scores}

    def close(self) -> None: ...


def one_box_decoder(outputs: dict[str, torch.Tensor], transforms: list[InputTransform]) -> list[Detections]:
    detections = []
    for boxes, scores, t in zip(outputs["boxes"], outputs["scores"], transforms, strict=True):
        scale = torch.tensor([t.scale_x, t.scale_y, t.scale_x, t.scale_y])
        offset = torch.tensor([t.offset_x, t.offset_y, t.offset_x, t.offset_y])
        detections.append(
            Detections(
                boxes=boxes / scale + offset,
                scores=scores[:, 0],
                labels=torch.zeros(1, dtype=torch.int64),
                classes=("a", "b"),  # the RecordingDetector's
            )
        )
    return detections


def frame(index: int, bad: bool) -> Frame:
    image = np.full((48, 64, 3), 120, np.uint8)
    if bad:
        image[:] = 255
    return Frame(index=index, pts=index, time_base=0.04, captured_ns=0, source="test", image=image)


def worker(
    detectors: list[RecordingDetector], fuse=None, frames=None, results=None, abort=None, lost=None
) -> InferenceWorker:
    return InferenceWorker(
        FrameQueue(8, QueuePolicy.BLOCK) if frames is None else frames,
        FrameQueue(8, QueuePolicy.BLOCK) if results is None else results,
        Preprocessor(crop_fov=False, fov_threshold=20, fov_refresh_frames=1, device=torch.device("cpu")),
        QualityGate(MarkedBadClassifier()),
        DetectorStage(detectors, [one_box_decoder] * len(detectors), fuse),
        threading.Event() if abort is None else abort,
        on_lost=(lambda frame, why: None) if lost is None else lost,
        batch=4,
        fill_deadline_s=0.0,
    )


def test_bad_frames_never_reach_the_detector() -> None:
    detector = RecordingDetector(0.9)
    results = worker([detector]).process([frame(0, False), frame(1, True), frame(2, True), frame(3, False)])
    assert detector.batches == [2]
    labels = [r.verdict.label.value for r in results]
    assert labels == ["good", "bad", "bad", "good"]
    assert [r.detections is None for r in results] == [False, True, True, False]
    assert "detector" not in results[1].stamps_ns and "detector" in results[0].stamps_ns
    assert list(results[0].stamps_ns) == ["queue", "preprocess", "quality", "detector", "fusion"]


def test_a_batch_of_only_bad_frames_skips_the_detector() -> None:
    detector = RecordingDetector(0.9)
    results = worker([detector]).process([frame(0, True), frame(1, True)])
    assert detector.batches == []
    assert all(r.verdict is not None and not r.verdict.is_good for r in results)


def test_boxes_come_back_in_source_pixels() -> None:
    results = worker([RecordingDetector(0.9)]).process([frame(0, False)])
    detections = results[0].detections
    assert detections is not None
    # network (8, 8, 24, 24) of a 32x32 input over a 64x48 frame
    np.testing.assert_allclose(detections.boxes[0].numpy(), [16, 12, 48, 36], atol=1e-4)


def test_several_detectors_are_fused_into_one_set() -> None:
    fuser = Fuser(FusionConfig(mode="wbf", per_model_threshold=0.0, classes=("a", "b")))
    detectors = [RecordingDetector(0.8), RecordingDetector(0.6)]
    results: list[FrameResult] = worker(detectors, fuser.fuse).process([frame(0, False)])
    detections = results[0].detections
    assert detections is not None and len(detections) == 1
    assert [d.batches for d in detectors] == [[1], [1]]


def test_worker_skips_empty_waits_and_stops_at_end_of_stream() -> None:
    frames: FrameQueue[Frame] = FrameQueue(8, QueuePolicy.BLOCK)
    results: FrameQueue[FrameResult] = FrameQueue(8, QueuePolicy.BLOCK)
    stage = worker([RecordingDetector(0.9)], frames=frames, results=results)
    stage.start()
    threading.Event().wait(0.3)  # several empty waits of the queue
    frames.put(frame(0, False))
    frames.close()
    stage.join(5)
    assert stage.error is None
    assert [r.frame.index for r in results.get_batch(8) or []] == [0]


def test_an_abort_accounts_for_every_frame_it_leaves_unprocessed() -> None:
    frames: FrameQueue[Frame] = FrameQueue(16, QueuePolicy.BLOCK)
    results: FrameQueue[FrameResult] = FrameQueue(2, QueuePolicy.BLOCK)  # fills up: nobody reads it
    for index in range(10):
        frames.put(frame(index, False))
    abort = threading.Event()
    lost: list[tuple[int, str]] = []
    inference = worker(
        [RecordingDetector(0.9)], frames=frames, results=results, abort=abort,
        lost=lambda f, why: lost.append((f.index, why)),
    )  # fmt: skip
    inference.start()
    while len(results) < 2:
        time.sleep(0.01)
    abort.set()
    inference.join(10)
    delivered = [r.frame.index for r in results.take_all()]
    assert sorted(delivered + [index for index, _ in lost]) == list(range(10))
    assert {why for _, why in lost} == {"aborted"} and lost
