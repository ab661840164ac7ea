"""The monitor's state: figures over the last seconds, the verdict, the timeline's runs, display stamps."""

import numpy as np
import torch

from streamer.monitor.hub import EventHub
from streamer.monitor.state import WINDOW_S, DisplayStamps, MonitorState
from streamer.types import Detections, Frame, FrameResult, QualityLabel, Verdict


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _result(index: int, bad: bool, labels: list[int]) -> FrameResult:
    frame = Frame(index, index, 1 / 25, 0, "test", np.zeros((16, 16, 3), np.uint8))
    label = QualityLabel.BAD if bad else QualityLabel.GOOD
    verdict = Verdict(label, 0.9 if bad else 0.1, {"blur": 0.6 if bad else 0.0})
    n = len(labels)
    detections = Detections(
        torch.zeros((n, 4)), torch.ones(n), torch.tensor(labels, dtype=torch.int64), ("specularity", "blur")
    )  # named by the detections' own class list
    return FrameResult(frame, verdict, detections)


def test_status_counts_frames_runs_and_recent_detections():
    clock, hub = Clock(), EventHub()
    events = hub.subscribe()
    state = MonitorState("clip.mp4", hub, clock=clock)
    state.running("clip.mp4", lambda: {"queue_full": 2})
    for index, bad in enumerate([False, False, True, True, False]):
        clock.now += 0.04
        state.frame_displayed(latency_ms=10.0 + index, result_age_ms=None)
        state.frame_processed(_result(index, bad, [0, 0, 1] if index == 0 else [0]), e2e_ms=50.0)
    status = state.status()
    assert status["phase"] == "running" and status["frames"] == 5 and status["frames_displayed"] == 5
    assert abs(status["fps"] - 25.0) < 0.01
    assert status["detections"] == {"specularity": 6, "blur": 1}
    assert status["dropped"] == 2 and status["dropped_by_reason"] == {"queue_full": 2}
    assert status["verdict"]["label"] == "good" and status["verdict"]["index"] == 4
    assert [(r["label"], r["frames"]) for r in status["runs"]] == [("good", 2), ("bad", 2), ("good", 1)]
    assert status["runs"][1]["start_s"] == 0.08 and status["runs"][1]["end_s"] == 0.12
    assert status["latency_ms"]["display"]["p50"] == 12.0
    assert len([m for m in events.next(0) if m.startswith("event: frame")]) == 5
    clock.now += WINDOW_S + 1  # everything falls out of the window
    later = state.status()
    assert later["detections"] == {} and later["fps"] == 0.0 and later["frames"] == 5


def test_ended_publishes_the_summary():
    hub = EventHub()
    events = hub.subscribe()
    state = MonitorState("clip.mp4", hub)
    state.ended({"fps": 25.0})
    assert state.status()["phase"] == "ended" and state.status()["summary"] == {"fps": 25.0}
    assert events.next(0) == ['event: end\ndata: {"fps":25.0}\n\n']


def test_display_stamps_are_taken_once_and_older_ones_forgotten():
    stamps = DisplayStamps()
    for index in range(4):
        stamps.mark(index, 1000 + index)
    assert stamps.take(2) == 1002
    assert stamps.take(2) is None
    assert stamps.take(0) is None  # forgotten when frame 2 was taken: it was never processed
    assert stamps.take(3) == 1003
