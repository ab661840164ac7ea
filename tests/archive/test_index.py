"""DIR/index.csv: rows round-trip, a row is current only for the same file and configuration."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path, PurePath

from streamer.archive.index import ArchiveIndex, config_hash, pending_row
from streamer.archive.inputs import VideoJob
from streamer.config import load_profile, with_overrides


def job_for(tmp_path: Path, name: str = "case") -> VideoJob:
    video = tmp_path / "in" / f"{name}.mp4"
    video.parent.mkdir(parents=True, exist_ok=True)
    video.write_bytes(b"video bytes")
    return VideoJob(video, PurePath(name))


def test_rows_round_trip_with_one_column_per_detected_class(tmp_path: Path) -> None:
    out = tmp_path / "out"
    first, second = job_for(tmp_path, "a"), job_for(tmp_path, "b")
    index = ArchiveIndex(out)
    index.set(
        replace(
            pending_row(first, "h1"),
            status="done",
            frames_in=10,
            good=7,
            bad=3,
            good_fraction=0.7,
            detections={"blur": 2, "specularity": 5},
        )
    )
    index.set(replace(pending_row(second, "h1"), status="failed", error="cannot decode: x"))
    index.save()
    header = (out / "index.csv").read_text().splitlines()[0].split(",")
    assert header[:4] == ["key", "path", "status", "frames_in"]
    assert header[-2:] == ["detections_blur", "detections_specularity"]
    assert not any(p.name.endswith(".tmp") for p in out.iterdir())
    again = ArchiveIndex(out)
    assert again.rows["a"] == index.rows["a"]
    assert again.rows["b"].detections == {"blur": 0, "specularity": 0}
    assert again.rows["b"].error == "cannot decode: x"
    assert again.rows["a"].good_fraction == 0.7


def test_a_row_is_current_only_for_the_same_file_configuration_and_outputs(tmp_path: Path) -> None:
    out = tmp_path / "out"
    job = job_for(tmp_path)
    row = replace(pending_row(job, "h1"), status="done")
    assert not row.is_current(job, "h1", out)  # no summary.json in place yet
    (out / "case").mkdir(parents=True)
    (out / "case" / "summary.json").write_text("{}")
    assert row.is_current(job, "h1", out)
    assert replace(row, status="skipped").is_current(job, "h1", out)
    assert not replace(row, status="failed").is_current(job, "h1", out)
    assert not row.is_current(job, "h2", out)
    stat = job.path.stat()
    os.utime(job.path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    assert not row.is_current(job, "h1", out)


def test_the_configuration_hash_follows_settings_but_not_where_outputs_go(tmp_path: Path) -> None:
    lite = load_profile("lite")
    digest = config_hash(lite)
    assert config_hash(with_overrides(lite, out_dir=tmp_path / "elsewhere", overwrite=True)) == digest
    assert config_hash(with_overrides(lite, score_threshold=0.5)) != digest
    assert config_hash(with_overrides(lite, outputs=("jsonl",))) != digest
    assert config_hash(with_overrides(lite, classifier="classical")) != digest
