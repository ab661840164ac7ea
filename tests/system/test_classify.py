"""`streamer classify` judges images exactly as `streamer run` does: same engine, crop, resize, threshold."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support import REPO, read_jsonl, run_streamer

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
    done = run_streamer("classify", str(FRAMES), "--classifier", "detector-lite-c")
    assert done.returncode != 0
    assert done.stderr.startswith("streamer: error:") and done.stderr.count("\n") == 1
