"""`streamer run` end to end: the four outputs, their agreement, and finalized files on every way out."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from pathlib import Path

import av
import pytest

from streamer.evaluate.folders import load_annotations
from tests.support import (
    REPO,
    decoded_frame_count,
    degraded,
    read_jsonl,
    run_streamer,
    streamer_command,
    tissue_frame,
)


def test_run_on_the_real_clip_writes_four_consistent_outputs(real_clip: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    done = run_streamer("run", str(real_clip), "--profile", "noop", "--out", str(out), "--no-progress")
    assert done.returncode == 0, done.stderr
    frames, _ = read_jsonl(out / "frames.jsonl")
    summary = json.loads((out / "summary.json").read_text())
    assert [r["index"] for r in frames] == list(range(250))
    assert summary["frames"]["processed"] == 250 and summary["frames"]["dropped_total"] == 0
    count, fps = decoded_frame_count(out / "annotated.mp4")
    assert (count, fps) == (250, 25.0)
    good = sum(r["quality"]["label"] == "good" for r in frames)
    assert decoded_frame_count(out / "filtered.mp4")[0] == good
    for stage in ("decode", "preprocess", "quality", "detector", "overlay", "sink", "e2e"):
        assert set(summary["latency_ms"][stage]) >= {"p50", "p95", "p99", "max"}
    assert summary["models"]["detectors"][0]["name"] == "noop-detector"


def test_filtered_video_holds_exactly_the_good_frames(make_video, tmp_path: Path) -> None:
    images = [tissue_frame(i) for i in range(40)]
    bad = {5, 6, 7, 20, 33}
    images = [
        degraded(image, "blur" if i % 2 else "dark") if i in bad else image for i, image in enumerate(images)
    ]
    video = make_video("mixed.mp4", images)
    out = tmp_path / "out"
    done = run_streamer(
        "run",
        str(video),
        "--profile",
        "noop",
        "--classifier",
        "classical",
        "--out",
        str(out),
        "--no-progress",
    )
    assert done.returncode == 0, done.stderr
    frames, _ = read_jsonl(out / "frames.jsonl")
    assert {r["index"] for r in frames if r["quality"]["frame_label"] == "bad"} == bad
    # hysteresis (3 bad frames to turn bad, 5 good to turn good): the blips at 20 and 33 stay good
    labelled_bad = {r["index"] for r in frames if r["quality"]["label"] == "bad"}
    assert labelled_bad == {7, 8, 9, 10, 11}
    assert all(
        r["detections"] == [] and "detector" not in r["latency_ms"]
        for r in frames
        if r["index"] in labelled_bad
    )
    assert all(set(r["quality"]["reasons"]) == {"blur", "exposure", "saturation"} for r in frames)
    summary = json.loads((out / "summary.json").read_text())
    assert (summary["frames"]["good_runs"], summary["frames"]["bad_runs"]) == (2, 1)
    assert decoded_frame_count(out / "filtered.mp4")[0] == 40 - len(labelled_bad)
    assert decoded_frame_count(out / "annotated.mp4")[0] == 40


def test_without_hysteresis_every_frame_keeps_its_own_label(make_video, tmp_path: Path) -> None:
    images = [tissue_frame(i) for i in range(12)]
    bad = {3, 8}
    images = [degraded(image, "blur") if i in bad else image for i, image in enumerate(images)]
    video = make_video("blips.mp4", images)
    profile = tmp_path / "steady.toml"
    profile.write_text(
        '[quality]\nmodel = "classical"\nhysteresis = false\n\n[detector]\nmodels = ["noop"]\n'
    )
    out = tmp_path / "out"
    done = run_streamer("run", str(video), "--profile", str(profile), "--out", str(out), "--no-progress")
    assert done.returncode == 0, done.stderr
    frames, _ = read_jsonl(out / "frames.jsonl")
    assert {r["index"] for r in frames if r["quality"]["label"] == "bad"} == bad
    assert all("frame_label" not in r["quality"] for r in frames)
    summary = json.loads((out / "summary.json").read_text())
    assert (summary["frames"]["good_runs"], summary["frames"]["bad_runs"]) == (3, 2)


def test_synthetic_source_runs_without_any_device(tmp_path: Path) -> None:
    out = tmp_path / "out"
    done = run_streamer(
        "run", "synthetic:7", "--profile", "noop", "--max-frames", "30", "--out", str(out), "--no-progress"
    )
    assert done.returncode == 0, done.stderr
    frames, _ = read_jsonl(out / "frames.jsonl")
    assert len(frames) == 30
    assert decoded_frame_count(out / "annotated.mp4")[0] == 30


def frames_written(jsonl: Path) -> int:
    """Frame records in a JSON Lines file that is being written (a line may be half-written)."""
    if not jsonl.exists():
        return 0
    return sum(line.startswith('{"index"') and line.endswith("}") for line in jsonl.read_text().splitlines())


def wait_for_frames(jsonl: Path, count: int, timeout_s: float = 90) -> None:
    """Wait until a running pipeline has written `count` frame records (or `timeout_s` passed)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and frames_written(jsonl) < count:
        time.sleep(0.05)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_signal_ends_the_run_with_playable_files(sig: signal.Signals, tmp_path: Path) -> None:
    out = tmp_path / "out"
    process = subprocess.Popen(
        streamer_command("run", "synthetic:1", "--profile", "noop", "--realtime", "--max-frames", "5000",
                         "--out", str(out), "--no-progress"),
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    jsonl = out / "frames.jsonl"
    wait_for_frames(jsonl, 15)
    process.send_signal(sig)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr
    assert "Traceback" not in stderr
    frames, _ = read_jsonl(jsonl)
    assert 15 <= len(frames) < 5000
    summary = json.loads((out / "summary.json").read_text())
    assert summary["interrupted"] is True
    assert decoded_frame_count(out / "annotated.mp4")[0] == len(frames)
    assert decoded_frame_count(out / "filtered.mp4")[0] == len(frames)


def test_after_sigkill_both_videos_play_up_to_their_last_second(tmp_path: Path) -> None:
    out = tmp_path / "out"
    process = subprocess.Popen(
        streamer_command("run", "synthetic:2", "--profile", "noop", "--realtime", "--max-frames", "5000",
                         "--out", str(out), "--no-progress"),
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    jsonl = out / "frames.jsonl"
    wait_for_frames(jsonl, 100)
    process.kill()  # SIGKILL: nothing is flushed or finalized
    process.communicate(timeout=60)
    written = frames_written(jsonl)
    assert written >= 100
    for name in ("annotated.mp4", "filtered.mp4"):
        decoded = 0
        try:
            with av.open(str(out / name)) as container:
                for _ in container.decode(video=0):
                    decoded += 1
        except av.FFmpegError:
            pass  # the cut-off last fragment
        assert written - 2 * 25 - 8 <= decoded <= written  # all but the last couple of seconds


def test_predictions_are_written_as_coco_and_scorer_text(real_clip: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    done = run_streamer(
        "run", str(real_clip), "--profile", "noop", "--detector", "classical", "--outputs", "jsonl,coco,scorer",
        "--max-frames", "6", "--out", str(out), "--no-progress",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    frames, _ = read_jsonl(out / "frames.jsonl")
    expected = {f"{r['index']:06d}": len(r["detections"]) for r in frames}
    assert sum(expected.values()) > 0
    scorer = load_annotations(out / "predictions", predictions=True)
    assert {name: len(boxes) for name, boxes in scorer.items()} == expected
    coco = json.loads((out / "detections.coco.json").read_text())
    assert len(coco["images"]) == 6 and len(coco["annotations"]) == sum(expected.values())
    assert not (out / "annotated.mp4").exists()


def test_the_profiles_output_folder_is_used_when_out_is_not_given(tmp_path: Path) -> None:
    out = tmp_path / "from-profile"
    profile = tmp_path / "p.toml"
    profile.write_text(
        f'[quality]\nmodel = "noop"\n\n[detector]\nmodels = ["noop"]\n\n[output]\nout_dir = "{out}"\n'
        'outputs = ["jsonl"]\n'
    )
    done = run_streamer("run", "synthetic", "--profile", str(profile), "--max-frames", "3", "--no-progress")
    assert done.returncode == 0, done.stderr
    assert len(read_jsonl(out / "frames.jsonl")[0]) == 3


@pytest.mark.parametrize("delay_s", [0.3, 1.0])
def test_ctrl_c_during_start_up_is_one_line_and_130(real_clip: Path, tmp_path: Path, delay_s: float) -> None:
    process = subprocess.Popen(
        streamer_command("run", str(real_clip), "--out", str(tmp_path / "out"), "--no-progress"),
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    time.sleep(delay_s)  # imports and model loading take longer than this
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130
    assert stderr == "streamer: interrupted\n"


def test_two_quick_ctrl_c_exit_130_and_account_for_every_frame(real_clip: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    process = subprocess.Popen(
        streamer_command("run", str(real_clip), "--profile", "ensemble", "--out", str(out), "--no-progress"),
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    jsonl = out / "frames.jsonl"
    wait_for_frames(jsonl, 10, timeout_s=120)
    process.send_signal(signal.SIGINT)
    time.sleep(0.05)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr
    assert "Traceback" not in stderr
    summary = json.loads((out / "summary.json").read_text())
    frames, _ = read_jsonl(jsonl)
    assert sorted(r["index"] for r in frames) == list(range(summary["frames"]["in"]))
    assert summary["frames"]["processed"] + summary["frames"]["dropped_total"] == summary["frames"]["in"]
