"""One run per output folder: a folder in use or holding an earlier run's outputs is refused in one line."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

from tests.support import REPO, read_jsonl, run_streamer, streamer_command


def _run(out: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return run_streamer(
        "run",
        "synthetic",
        "--profile",
        "noop",
        "--max-frames",
        "5",
        "--out",
        str(out),
        "--no-progress",
        *extra,
    )


def test_an_earlier_runs_outputs_are_refused_unless_overwrite(tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert _run(out).returncode == 0
    (out / "notes.txt").write_text("mine")
    again = _run(out)
    assert again.returncode != 0
    assert again.stderr.startswith("streamer: error:") and again.stderr.count("\n") == 1
    assert "--overwrite" in again.stderr
    replaced = _run(out, "--overwrite", "--max-frames", "3")
    assert replaced.returncode == 0, replaced.stderr
    assert len(read_jsonl(out / "frames.jsonl")[0]) == 3  # the new run's records only
    assert (out / "notes.txt").read_text() == "mine"  # what is not an output stays


def test_a_second_run_into_a_folder_in_use_is_refused(tmp_path: Path) -> None:
    out = tmp_path / "busy"
    first = subprocess.Popen(
        streamer_command("run", "synthetic", "--profile", "noop", "--realtime", "--max-frames", "200",
                         "--out", str(out), "--no-progress"),
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while not (out / "frames.jsonl").exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        second = _run(out, "--overwrite")
        assert second.returncode != 0
        assert "another streamer run is writing to" in second.stderr and second.stderr.count("\n") == 1
    finally:
        first.terminate()
        first.wait(60)
