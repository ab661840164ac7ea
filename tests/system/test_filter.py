"""`streamer filter` end to end on a small local Ray instance: statuses, frame counts, outputs equal to
`streamer run`'s, a rerun that does nothing, a killed worker, and Ctrl-C."""

from __future__ import annotations

import csv
import json
import signal
import subprocess
import time
from pathlib import Path

import psutil
import pytest

from tests.support import REPO, read_jsonl, run_streamer, short_clip, streamer_command

pytestmark = pytest.mark.slow

CLIP_FRAMES = {"ward/a": 30, "ward/b": 45, "c": 20}


def read_index(out: Path) -> dict[str, dict[str, str]]:
    with (out / "index.csv").open(newline="") as stream:
        return {row["key"]: row for row in csv.DictReader(stream)}


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three short clips (two in a subfolder), a corrupt video and a text file named .mp4."""
    root = tmp_path_factory.mktemp("archive")
    for start, (key, frames) in enumerate(CLIP_FRAMES.items()):
        short_clip(root / f"{key}.mp4", frames, start=start * 50)
    clip = (root / "c.mp4").read_bytes()
    (root / "ward" / "corrupt.mp4").write_bytes(clip[: len(clip) // 3][::-1])
    (root / "notes.mp4").write_text("this is not a video\n")
    return root


@pytest.fixture(scope="module")
def filtered(
    archive: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, subprocess.CompletedProcess[str]]:
    out = tmp_path_factory.mktemp("filtered")
    done = run_streamer("filter", str(archive), "--out", str(out), "--workers", "2", "--no-progress")
    return out, done


def test_the_index_has_each_videos_status_and_frame_counts(
    filtered: tuple[Path, subprocess.CompletedProcess[str]],
) -> None:
    out, done = filtered
    assert done.returncode == 1, done.stderr  # two videos failed
    assert "streamer: error: 2 of 5 videos failed" in done.stderr
    assert "Traceback" not in done.stderr
    rows = read_index(out)
    assert {key: row["status"] for key, row in rows.items()} == {
        "ward/a": "done",
        "ward/b": "done",
        "c": "done",
        "ward/corrupt": "failed",
        "notes": "failed",
    }
    for key, frames in CLIP_FRAMES.items():
        row = rows[key]
        assert int(row["frames_in"]) == frames
        assert int(row["good"]) + int(row["bad"]) == frames
        assert float(row["good_fraction"]) == pytest.approx(int(row["good"]) / frames, abs=1e-4)
        assert float(row["duration_s"]) == pytest.approx(frames / 25)
        assert row["worker"] and float(row["processing_s"]) > 0
        summary = json.loads((out / key / "summary.json").read_text())
        detected = summary["detections_by_class"]
        assert {k: int(row.get(f"detections_{k}", 0)) for k in detected} == detected
        assert sorted(p.name for p in (out / key).iterdir()) == [
            "filtered.mp4",
            "frames.jsonl",
            "summary.json",
        ]
    for key in ("ward/corrupt", "notes"):
        assert rows[key]["error"] and "\n" not in rows[key]["error"]
        assert not (out / key).exists()
    assert not (out / ".partial").exists()


def test_a_videos_outputs_match_streamer_run(
    archive: Path, filtered: tuple[Path, subprocess.CompletedProcess[str]], tmp_path: Path
) -> None:
    out, _ = filtered
    single = tmp_path / "single"
    done = run_streamer(
        "run", str(archive / "ward" / "b.mp4"), "--out", str(single), "--outputs", "filtered,jsonl"
    )
    assert done.returncode == 0, done.stderr
    timing = ("latency_ms", "timestamps", "capture_time", "wall_time")

    def comparable(records: list[dict[str, object]]) -> list[dict[str, object]]:
        return [{k: v for k, v in r.items() if k not in timing} for r in records]

    archived, _ = read_jsonl(out / "ward" / "b" / "frames.jsonl")
    alone, _ = read_jsonl(single / "frames.jsonl")
    assert len(archived) == CLIP_FRAMES["ward/b"]
    assert comparable(archived) == comparable(alone)
    summary = json.loads((out / "ward" / "b" / "summary.json").read_text())
    assert summary["frames"] == json.loads((single / "summary.json").read_text())["frames"]
    assert summary["outputs"]["filtered"] == str(out / "ward" / "b" / "filtered.mp4")


def test_a_rerun_processes_nothing(
    archive: Path, filtered: tuple[Path, subprocess.CompletedProcess[str]]
) -> None:
    out, _ = filtered
    before = read_index(out)
    written = (out / "ward" / "a" / "filtered.mp4").stat().st_mtime_ns
    again = run_streamer("filter", str(archive), "--out", str(out), "--workers", "2", "--no-progress")
    assert again.returncode == 1  # the failed ones are still failed (not retried without --retry-failed)
    rows = read_index(out)
    assert {key: row["status"] for key, row in rows.items() if key in CLIP_FRAMES} == dict.fromkeys(
        CLIP_FRAMES, "skipped"
    )
    for key in CLIP_FRAMES:
        assert rows[key]["processing_s"] == before[key]["processing_s"]
        assert rows[key]["worker"] == before[key]["worker"]
    assert rows["notes"] == before["notes"]
    assert (out / "ward" / "a" / "filtered.mp4").stat().st_mtime_ns == written


def start_filter(inputs: Path, out: Path, workers: int) -> subprocess.Popen[str]:
    return subprocess.Popen(
        streamer_command(
            "filter", str(inputs), "--out", str(out), "--workers", str(workers), "--no-progress"
        ),
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for_partial(out: Path, process: subprocess.Popen[str], timeout: float = 120) -> None:
    """Until a video is being written (a folder under DIR/.partial)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        partial = out / ".partial"
        if partial.is_dir() and any(partial.iterdir()):
            return
        assert process.poll() is None, process.communicate()
        time.sleep(0.05)
    raise AssertionError("no video was started")


def worker_processes(process: subprocess.Popen[str]) -> list[psutil.Process]:
    """The Ray worker processes running a FilterWorker, below the command's process."""
    found = []
    for child in psutil.Process(process.pid).children(recursive=True):
        try:
            if "FilterWorker" in " ".join(child.cmdline()):
                found.append(child)
        except psutil.Error:
            continue
    return found


@pytest.fixture(scope="module")
def longer_archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Four 100-frame clips: long enough to act on a run while it is busy."""
    root = tmp_path_factory.mktemp("longer")
    for number in range(4):
        short_clip(root / f"clip{number}.mp4", 100, start=number * 40)
    return root


def test_a_killed_worker_loses_no_video(longer_archive: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    process = start_filter(longer_archive, out, workers=2)
    wait_for_partial(out, process)
    workers = worker_processes(process)
    assert len(workers) == 2, [w.cmdline() for w in workers]
    workers[0].kill()
    stdout, stderr = process.communicate(timeout=300)
    assert process.returncode == 0, stderr
    rows = read_index(out)
    assert {row["status"] for row in rows.values()} == {"done"}
    assert all(int(row["frames_in"]) == 100 for row in rows.values())
    assert not (out / ".partial").exists()
    assert "400 frames in finished videos" in stdout, stdout


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_ctrl_c_leaves_no_partial_output_and_the_next_run_finishes(
    longer_archive: Path, tmp_path: Path, signum: int
) -> None:
    out = tmp_path / "out"
    process = start_filter(longer_archive, out, workers=1)
    wait_for_partial(out, process)
    process.send_signal(signum)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 130, stderr
    assert "streamer: interrupted" in stderr
    assert "Traceback" not in stderr
    assert not (out / ".partial").exists()
    rows = read_index(out)
    for key, row in rows.items():
        assert row["status"] in ("done", "pending")
        assert (out / key).exists() == (row["status"] == "done")
    assert any(row["status"] == "pending" for row in rows.values())
    again = start_filter(longer_archive, out, workers=1)
    again.communicate(timeout=300)
    assert again.returncode == 0
    assert {row["status"] for row in read_index(out).values()} <= {"done", "skipped"}
    assert all((out / f"clip{n}" / "filtered.mp4").is_file() for n in range(4))
