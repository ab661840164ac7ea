"""The H.264 sink keeps frames and timestamps; the overlay draws where it should and leaves the input alone."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest
import torch

from streamer.errors import SinkError
from streamer.overlay import BAD_COLOUR, CLASS_COLOURS, OTHER_COLOURS, Overlay, StatusLine
from streamer.sinks.jsonl import JsonlSink
from streamer.sinks.video import VideoSink
from streamer.types import EAD2019_CLASSES, Detections, QualityLabel, Verdict


def test_video_sink_keeps_source_timestamps(tmp_path: Path) -> None:
    path = tmp_path / "out.mp4"
    with VideoSink(path, fps=25) as sink:
        for index in range(12):
            sink.write(np.full((48, 64, 3), index * 20, np.uint8), pts=index * 512, time_base=1 / 12800)
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        frames = list(container.decode(stream))
        assert float(stream.average_rate) == pytest.approx(25)
    assert len(frames) == 12
    seconds = [float(f.pts * f.time_base) for f in frames]
    np.testing.assert_allclose(seconds, np.arange(12) * 0.04, atol=1e-3)


def test_video_sink_continues_after_timestamps_go_back(tmp_path: Path) -> None:
    # a live stream that reconnected starts its timestamps again: 6 frames, then the same 6 pts again
    path = tmp_path / "out.mp4"
    with VideoSink(path, fps=25) as sink:
        for pts in [*range(0, 6 * 3600, 3600), *range(0, 6 * 3600, 3600)]:
            sink.write(np.zeros((32, 32, 3), np.uint8), pts=pts, time_base=1 / 90000)
    with av.open(str(path)) as container:
        seconds = [float(f.pts * f.time_base) for f in container.decode(video=0)]
    np.testing.assert_allclose(seconds, np.arange(12) * 0.04, atol=1e-3)


def test_video_sink_numbers_frames_without_pts_and_resizes_odd_sizes(tmp_path: Path) -> None:
    path = tmp_path / "out.mp4"
    with VideoSink(path, fps=10) as sink:
        sink.write(np.zeros((31, 41, 3), np.uint8))
        sink.write(np.zeros((60, 80, 3), np.uint8))
    with av.open(str(path)) as container:
        frames = list(container.decode(video=0))
    assert [(f.width, f.height) for f in frames] == [(40, 30), (40, 30)]
    assert [float(f.pts * f.time_base) for f in frames] == pytest.approx([0.0, 0.1])


def test_video_sink_reports_an_unwritable_path(tmp_path: Path) -> None:
    sink = VideoSink(tmp_path / "missing" / "out.mp4", fps=25)
    sink.write(np.zeros((16, 16, 3), np.uint8))
    with pytest.raises(SinkError, match="cannot write"):
        sink.close()


def test_jsonl_sink_writes_one_flushed_line_per_record(tmp_path: Path) -> None:
    path = tmp_path / "frames.jsonl"
    with JsonlSink(path) as sink:
        sink.write({"index": 0})
        assert path.read_text() == '{"index":0}\n'  # readable before close: nothing is lost on a crash
        sink.write({"index": 1})
    assert path.read_text().splitlines() == ['{"index":0}', '{"index":1}']


def test_overlay_draws_boxes_badge_and_status_on_a_copy() -> None:
    image = np.full((360, 640, 3), 90, np.uint8)
    detections = Detections(
        boxes=torch.tensor([[300.0, 150.0, 400.0, 250.0]]),
        scores=torch.tensor([0.9]),
        labels=torch.tensor([3]),
        classes=EAD2019_CLASSES,
    )
    bad = Verdict(QualityLabel.BAD, 0.95, {"blur": 0.8, "exposure": 0.1, "saturation": 0.0})
    annotated = Overlay().annotate(image, bad, detections, StatusLine(fps=24.8, latency_ms=41.0))
    assert np.all(image == 90)
    assert annotated.shape == image.shape
    assert (annotated[200, 300] != 90).any()  # left edge of the box
    assert (annotated[200, 350] == 90).all()  # inside the box stays untouched
    assert tuple(annotated[180, 0]) == BAD_COLOUR  # red frame around a bad frame
    assert (annotated[345:355, 10:200] != 90).any()  # status line


def test_boxes_take_the_name_and_colour_of_their_own_class_list() -> None:
    image = np.zeros((360, 640, 3), np.uint8)
    overlay = Overlay()

    def edge_colour(classes: tuple[str, ...]) -> tuple[int, ...]:
        box = Detections(
            torch.tensor([[100.0, 100.0, 300.0, 300.0]]), torch.tensor([0.9]), torch.tensor([1]), classes
        )
        return tuple(int(v) for v in overlay.annotate(image, None, box)[200, 100])

    assert edge_colour(("specularity", "blood")) == CLASS_COLOURS["blood"]
    assert edge_colour(("specularity", "bubbles")) == CLASS_COLOURS["bubbles"]  # same label index, other list
    assert edge_colour(("polyp", "tumour")) == OTHER_COLOURS[1]  # a model with classes of its own


def test_good_frames_get_no_red_frame() -> None:
    image = np.full((200, 300, 3), 90, np.uint8)
    annotated = Overlay().annotate(image, Verdict(QualityLabel.GOOD, 0.1), None)
    assert tuple(annotated[100, 0]) == (90, 90, 90)


def test_the_badge_of_a_bad_frame_names_its_main_causes() -> None:
    image = np.full((360, 640, 3), 90, np.uint8)
    plain = Overlay().annotate(image, Verdict(QualityLabel.BAD, 0.9), None)
    causes = {"blur": 0.7, "exposure": 0.3, "saturation": 0.05}
    explained = Overlay().annotate(image, Verdict(QualityLabel.BAD, 0.9, causes), None)
    badge_width = [int((canvas[8:40, 10:-10] != 90).any(axis=(0, 2)).sum()) for canvas in (plain, explained)]
    assert badge_width[1] > badge_width[0] + 100  # "blur 70%, exposure 30%" added to the badge
    assert Verdict(QualityLabel.BAD, 0.9, causes).main_causes() == ["blur", "exposure"]
    assert Verdict(QualityLabel.BAD, 0.9, {"blur": 0.1, "exposure": 0.2}).main_causes() == ["exposure"]
