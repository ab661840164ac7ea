"""Dataset and video writers, and the `streamer synth` command."""

import json
from pathlib import Path

import av
import cv2
import numpy as np
import pytest
from typer.testing import CliRunner

from streamer.cli import app
from streamer.errors import ConfigError, SinkError
from streamer.synthetic import SyntheticVideo, generate_frame, write_ead2019_dataset, write_video
from streamer.synthetic.dataset import yolo_lines
from streamer.synthetic.preview import CLASS_COLOURS, write_preview
from streamer.types import EAD2019_CLASSES


def read_yolo(path: Path, width: int, height: int) -> tuple[np.ndarray, np.ndarray]:
    """Labels (N,) and pixel boxes (N, 4) x1 y1 x2 y2 from a YOLO `class cx cy w h` file."""
    rows = np.loadtxt(path, ndmin=2).reshape(-1, 5)  # (N, 5)
    cx, cy, w, h = rows[:, 1] * width, rows[:, 2] * height, rows[:, 3] * width, rows[:, 4] * height
    return rows[:, 0].astype(int), np.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], axis=1)


def test_yolo_lines_round_trip_to_the_same_boxes(tmp_path):
    sample = generate_frame(2, (200, 120), classes=[0, 1, 5])
    path = tmp_path / "labels.txt"
    path.write_text("\n".join(yolo_lines(sample)) + "\n")
    labels, boxes = read_yolo(path, 200, 120)
    np.testing.assert_array_equal(labels, sample.labels)
    np.testing.assert_allclose(boxes, sample.boxes, atol=0.01)


def test_dataset_writer_groups_frames_by_sequence(tmp_path):
    paths = write_ead2019_dataset(tmp_path, count=5, seed=3, size=96, sequences=2)
    names = sorted(p.stem for p in (tmp_path / "images").glob("*.jpg"))
    assert names == ["seq000_0000", "seq000_0001", "seq000_0002", "seq001_0000", "seq001_0001"]
    assert sorted(p.stem for p in paths) == names
    for name in names:
        image = cv2.imread(str(tmp_path / "images" / f"{name}.jpg"))
        assert image.shape == (96, 96, 3)
        label_path = tmp_path / "labels" / f"{name}.txt"
        if label_path.read_text().strip():
            labels, boxes = read_yolo(label_path, 96, 96)
            assert np.all((labels >= 0) & (labels <= 6))
            assert np.all((boxes >= -0.01) & (boxes <= 96.01))


def test_dataset_writer_is_deterministic(tmp_path):
    write_ead2019_dataset(tmp_path / "a", count=2, seed=8, size=96)
    write_ead2019_dataset(tmp_path / "b", count=2, seed=8, size=96)
    for name in ("seq000_0000", "seq000_0001"):
        assert (tmp_path / "a/labels" / f"{name}.txt").read_text() == (
            tmp_path / "b/labels" / f"{name}.txt"
        ).read_text()


@pytest.mark.parametrize(("count", "sequences"), [(0, None), (3, 4), (3, 0)])
def test_dataset_writer_rejects_bad_counts(tmp_path, count, sequences):
    with pytest.raises(ConfigError):
        write_ead2019_dataset(tmp_path, count=count, seed=0, size=96, sequences=sequences)


def test_video_writer_makes_a_decodable_h264_clip(tmp_path):
    path = tmp_path / "clip.mp4"
    assert write_video(path, seconds=0.4, seed=1, size=(128, 96), fps=10) == 4
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "h264"
        frames = [frame.to_ndarray(format="rgb24") for frame in container.decode(stream)]
    assert len(frames) == 4 and frames[0].shape == (96, 128, 3)
    expected = SyntheticVideo(1, (128, 96), fps=10).frame(3).image
    assert np.abs(frames[3].astype(np.int16) - expected).mean() < 6


def test_video_writer_records_the_truth_of_every_frame(tmp_path):
    truth = tmp_path / "truth.jsonl"
    write_video(
        tmp_path / "clip.mp4", seconds=2, seed=3, size=(96, 64), fps=5, bad_share=0.5, truth_path=truth
    )
    records = [json.loads(line) for line in truth.read_text().splitlines()]
    video = SyntheticVideo(3, (96, 64), fps=5, bad_share=0.5)
    assert [r["frame"] for r in records] == list(range(10))
    for record in records:
        sample = video.frame(record["frame"])
        assert record["degradation"] == sample.degradation
        assert record["labels"] == [EAD2019_CLASSES[label] for label in sample.labels]
        np.testing.assert_allclose(np.array(record["boxes"]).reshape(-1, 4), sample.boxes, atol=0.1)


def test_video_writer_reports_an_unwritable_path(tmp_path):
    with pytest.raises(SinkError):
        write_video(tmp_path / "missing" / "clip.mp4", seconds=0.2, seed=0, size=(64, 64), fps=10)


def test_video_writer_rejects_odd_sizes(tmp_path):
    with pytest.raises(ConfigError):
        write_video(tmp_path / "clip.mp4", seconds=1, seed=0, size=(127, 96), fps=10)


def test_synth_commands_write_files(tmp_path):
    runner = CliRunner()
    result = runner.invoke(app, ["synth", "dataset", str(tmp_path / "ds"), "--count", "2", "--size", "64"])
    assert result.exit_code == 0, result.output
    assert len(list((tmp_path / "ds" / "images").glob("*.jpg"))) == 2
    clip = tmp_path / "clip.mp4"
    args = ["synth", "video", str(clip), "--seconds", "0.2", "--width", "96", "--height", "64", "--fps", "10"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert clip.stat().st_size > 0


def test_preview_draws_every_box_in_its_class_colour(tmp_path):
    path = tmp_path / "preview.png"
    result = CliRunner().invoke(
        app, ["synth", "preview", str(path), "--count", "2", "--seed", "5", "--size", "96"]
    )
    assert result.exit_code == 0, result.output
    tiles = cv2.cvtColor(cv2.imread(str(path)), cv2.COLOR_BGR2RGB)
    assert tiles.shape == (96, 192, 3)
    first = generate_frame(5, (96, 96))
    assert np.any(tiles[:, :96] != first.image) == (len(first.labels) > 0)
    for (x1, y1, _, _), label in zip(first.boxes.astype(int), first.labels, strict=True):
        assert tuple(tiles[y1, x1]) == CLASS_COLOURS[label]


def test_preview_reports_an_unwritable_path(tmp_path):
    with pytest.raises(SinkError):
        write_preview(tmp_path / "missing" / "preview.png", count=1, seed=0, size=64)
