"""`streamer classify` judges images exactly as `streamer run` does: same engine, crop, resize, threshold."""

from __future__ import annotations

import json
from pathlib import Path

import av
import pytest

from streamer.paths import DEMO_CLIP
from tests.support import REPO, audio_only_copy, read_jsonl, run_streamer, tissue_frame

FRAMES = REPO / "data" / "ead2020-subset" / "images"


def _classify(*args: str) -> list[dict[str, object]]:
    done = run_streamer("classify", str(FRAMES), *args)
    assert done.returncode == 0, done.stderr
    return [json.loads(line) for line in done.stdout.splitlines()]


def _run(tmp_path: Path, *args: str) -> list[dict[str, object]]:
    out = tmp_path / "run"
    done = run_streamer(
        "run",
        str(FRAMES),
        "--detector",
        "noop",
        "--outputs",
        "jsonl",
        "--out",
        str(out),
        "--no-progress",
        *args,
    )
    assert done.returncode == 0, done.stderr
    return read_jsonl(out / "frames.jsonl")[0]


@pytest.mark.parametrize("classifier", [[], ["--classifier", "classical"]], ids=["shipped", "classical"])
def test_classify_and_run_agree_on_every_frame(tmp_path: Path, classifier: list[str]) -> None:
    judged = _classify(*classifier)
    ran = _run(tmp_path, *classifier)
    assert [Path(str(j["path"])).name for j in judged] == sorted(p.name for p in FRAMES.iterdir())
    assert [j["verdict"] for j in judged] == [r["quality"]["label"] for r in ran]
    for j, r in zip(judged, ran, strict=True):
        assert j["p_bad"] == pytest.approx(r["quality"]["p_bad"], abs=2e-4)
        assert j["reasons"] == pytest.approx(r["quality"]["reasons"], abs=2e-4)
        assert "frame_label" not in r["quality"]  # an image folder is judged frame by frame
    assert {j["verdict"] for j in judged} == {"good", "bad"}  # the bundled frames hold both kinds


def test_classify_refuses_a_detector_as_classifier() -> None:
    done = run_streamer("classify", str(FRAMES), "--classifier", "detector-lite-g")
    assert done.returncode != 0
    assert done.stderr.startswith("streamer: error:") and done.stderr.count("\n") == 1


def test_classify_on_audio_only_is_one_line(tmp_path: Path) -> None:
    path = audio_only_copy(DEMO_CLIP, tmp_path / "sound.m4a")
    done = run_streamer("classify", str(path), "--classifier", "classical")
    assert done.returncode != 0
    assert done.stderr == f"streamer: error: {path}: has no video stream\n"


def test_a_truncated_video_keeps_the_verdicts_of_every_decoded_frame(make_video, tmp_path: Path) -> None:
    video = make_video("whole.ts", [tissue_frame(i) for i in range(60)])
    truncated = tmp_path / "truncated.ts"
    truncated.write_bytes(video.read_bytes()[: video.stat().st_size * 2 // 3])
    decodable = 0
    try:
        with av.open(str(truncated)) as container:
            for _ in container.decode(video=0):
                decodable += 1
    except av.FFmpegError:
        pass
    done = run_streamer("classify", str(truncated), "--classifier", "classical")
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    assert decodable > 0 and len(lines) == decodable
    assert [line["frame"] for line in lines] == list(range(decodable))
