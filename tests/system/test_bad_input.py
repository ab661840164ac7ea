"""Bad input: one clear line on stderr, a non-zero exit code, no traceback; what was processed is kept."""

from __future__ import annotations

import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest

from streamer.paths import DEMO_CLIP, ENGINES_DIR
from tests.support import audio_only_copy, decoded_frame_count, read_jsonl, run_streamer


def _corrupt(tmp_path: Path) -> str:
    path = tmp_path / "corrupt.mp4"
    path.write_bytes(np.random.default_rng(1).integers(0, 256, 40_000, dtype=np.uint8).tobytes())
    return str(path)


def _text_file(tmp_path: Path) -> str:
    path = tmp_path / "notes.mkv"
    path.write_text("this is not a video\n")
    return str(path)


def _tampered_model(tmp_path: Path) -> str:
    folder = tmp_path / "tampered"
    shutil.copytree(ENGINES_DIR / "quality-lite", folder)
    for name in ("model.onnx", "model.pt"):
        data = bytearray((folder / name).read_bytes())
        data[len(data) // 2] ^= 0xFF
        (folder / name).write_bytes(bytes(data))
    return str(folder)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (lambda tmp: ["run", str(tmp / "missing.mp4")], "no such file"),
        (lambda tmp: ["run", _corrupt(tmp)], "corrupt"),
        (lambda tmp: ["run", _text_file(tmp)], "corrupt"),
        (lambda tmp: ["run", str(audio_only_copy(DEMO_CLIP, tmp / "audio.m4a"))], "no video stream"),
        (lambda tmp: ["run", "/dev/video99"], "no such file or device"),
        (lambda tmp: ["run", "rtsp://127.0.0.1:9/live"], "cannot reach"),
        (lambda tmp: ["run", "synthetic", "--profile", "no-such-profile"], "unknown profile"),
        (
            lambda tmp: ["run", "synthetic", "--profile", "noop", "--classifier", str(tmp / "nope.onnx")],
            "model not found",
        ),
        (
            lambda tmp: ["run", "synthetic", "--profile", "noop", "--classifier", _tampered_model(tmp)],
            "sha256",
        ),
        (lambda tmp: ["run", "synthetic", "--profile", "noop", "--batch", "0"], "--batch"),
        *[
            (
                lambda tmp, p=p: ["run", "synthetic", "--profile", "noop", "--quality-threshold", p],
                "threshold",
            )
            for p in ("0", "1", "2", "-0.5")
        ],
    ],
    ids=[
        "missing",
        "corrupt",
        "not-a-video",
        "no-video-stream",
        "no-device",
        "unreachable",
        "profile",
        "model",
        "tampered-model",
        "batch",
        *[f"quality-threshold-{p}" for p in ("0", "1", "2", "-0.5")],
    ],
)
def test_bad_input_is_one_line_and_nonzero(arguments, message: str, tmp_path: Path) -> None:
    done = run_streamer(*arguments(tmp_path), "--out", str(tmp_path / "out"), timeout=120)
    assert done.returncode != 0
    assert not (tmp_path / "out" / "frames.jsonl").exists()  # refused before any output was opened
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("streamer: error:") and message in lines[0]
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize("capture", ["pyav", "opencv"])
def test_truncated_file_keeps_and_finalizes_what_was_processed(
    real_clip: Path, tmp_path: Path, capture: str
) -> None:
    truncated = tmp_path / "truncated.mp4"
    data = real_clip.read_bytes()
    truncated.write_bytes(data[: len(data) // 2])
    out = tmp_path / "out"
    done = run_streamer(
        "run", str(truncated), "--profile", "noop", "--capture", capture, "--out", str(out), "--no-progress"
    )
    assert done.returncode != 0
    assert done.stderr.strip().count("\n") == 0 and "truncated" in done.stderr
    frames, _ = read_jsonl(out / "frames.jsonl")
    assert 0 < len(frames) < 250
    assert decoded_frame_count(out / "annotated.mp4")[0] == len(frames)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('batch = "four"\n', "batch must be a whole number"),
        ('[detector]\nmodels = "detector-lite"\n', "models must be a list"),
        ('[output]\noutputs = "annotated"\n', "outputs must be a list"),
        ('[preprocess]\ncrop_fov = "false"\n', "crop_fov must be true or false"),
        ("[capture]\nreconnect = -3\n", "reconnect"),
    ],
    ids=["batch-string", "models-string", "outputs-string", "bool-string", "negative-reconnect"],
)
def test_a_profile_value_of_the_wrong_type_is_one_line(text: str, message: str, tmp_path: Path) -> None:
    profile = tmp_path / "typed.toml"
    profile.write_text(text)
    done = run_streamer("run", "synthetic", "--profile", str(profile), "--out", str(tmp_path / "out"))
    assert done.returncode != 0
    assert (
        done.stderr.count("\n") == 1 and done.stderr.startswith("streamer: error:") and message in done.stderr
    )
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("shape", [(50, 1), (1, 50)], ids=["1-pixel-wide", "1-pixel-tall"])
def test_a_frame_too_small_is_refused_in_one_line(shape: tuple[int, int], tmp_path: Path) -> None:
    image = tmp_path / "thin.png"
    cv2.imwrite(str(image), np.full((*shape, 3), 128, np.uint8))
    done = run_streamer("run", str(image), "--out", str(tmp_path / "out"), "--no-progress")
    assert done.returncode != 0
    assert done.stderr.count("\n") == 1 and "too small" in done.stderr and "OpenCV" not in done.stderr


def test_a_too_small_frame_midway_finalizes_what_came_before(tmp_path: Path) -> None:
    folder = tmp_path / "frames"
    folder.mkdir()
    for index in range(3):
        cv2.imwrite(str(folder / f"{index}.png"), np.full((64, 64, 3), 100 + index, np.uint8))
    cv2.imwrite(str(folder / "3.png"), np.full((1, 64, 3), 100, np.uint8))
    out = tmp_path / "out"
    done = run_streamer("run", str(folder), "--profile", "noop", "--out", str(out), "--no-progress")
    assert done.returncode != 0 and "too small" in done.stderr and done.stderr.count("\n") == 1
    assert len(read_jsonl(out / "frames.jsonl")[0]) == 3
    assert decoded_frame_count(out / "annotated.mp4")[0] == 3
    assert (out / "summary.json").is_file()
