"""The videos of an archive: folders, globs and list files to jobs with unique output folders."""

from __future__ import annotations

from pathlib import Path, PurePath

import pytest

from streamer.archive.inputs import find_videos
from streamer.errors import ConfigError


def touch(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"x")
    return path


def test_a_folder_is_searched_recursively_for_video_names(tmp_path: Path) -> None:
    touch(tmp_path / "a" / "one.mp4")
    touch(tmp_path / "a" / "b" / "two.MKV")
    touch(tmp_path / "a" / "notes.txt")
    touch(tmp_path / "a" / "frame.png")
    jobs = find_videos([str(tmp_path / "a")])
    assert [job.key for job in jobs] == ["b/two", "one"]
    assert jobs[1].path == tmp_path / "a" / "one.mp4"


def test_a_glob_keeps_the_path_below_its_first_wildcard(tmp_path: Path) -> None:
    touch(tmp_path / "x" / "day1" / "case.mp4")
    touch(tmp_path / "x" / "day2" / "case.mp4")
    touch(tmp_path / "x" / "day2" / "skip.avi")
    jobs = find_videos([str(tmp_path / "x" / "*" / "*.mp4")])
    assert [job.relative for job in jobs] == [PurePath("day1/case"), PurePath("day2/case")]


def test_a_list_file_names_videos_relative_to_itself_and_skips_comments(tmp_path: Path) -> None:
    touch(tmp_path / "videos" / "one.mp4")
    absolute = touch(tmp_path / "elsewhere" / "two.mov")
    listing = tmp_path / "archive.txt"
    listing.write_text(f"# procedures\nvideos/one.mp4\n\n{absolute}\n")
    jobs = find_videos([str(listing)])
    assert [job.path for job in jobs] == [tmp_path / "videos" / "one.mp4", absolute]
    assert [job.key for job in jobs] == ["videos/one", "elsewhere/two"]


def test_a_missing_list_entry_names_its_line(tmp_path: Path) -> None:
    listing = tmp_path / "archive.txt"
    listing.write_text("gone.mp4\n")
    with pytest.raises(ConfigError, match=r"archive.txt:1: no such video file: gone.mp4"):
        find_videos([str(listing)])


def test_the_same_video_twice_is_one_job_and_clashing_names_are_made_unique(tmp_path: Path) -> None:
    first = touch(tmp_path / "a" / "case.mp4")
    touch(tmp_path / "b" / "case.mp4")
    touch(tmp_path / "a" / "case.mkv")
    jobs = find_videos([str(first), str(tmp_path / "a"), str(tmp_path / "b" / "case.mp4")])
    assert [job.key for job in jobs] == ["case", "case-2", "case-3"]
    assert len({job.path for job in jobs}) == 3


@pytest.mark.parametrize("argument", ["missing-folder", "nothing-*.mp4"])
def test_an_argument_that_names_no_video_is_refused(tmp_path: Path, argument: str) -> None:
    touch(tmp_path / "empty" / "readme.md")
    with pytest.raises(ConfigError):
        find_videos([str(tmp_path / argument)])
    with pytest.raises(ConfigError, match="no video files found"):
        find_videos([str(tmp_path / "empty")])
