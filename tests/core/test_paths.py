from pathlib import Path

from streamer.paths import DEMO_CLIP, REPO_ROOT, as_recorded


def test_a_path_inside_the_repository_is_recorded_relative_to_it():
    assert as_recorded(DEMO_CLIP) == "data/video/laparoscopy-720p25.mp4"
    assert as_recorded(REPO_ROOT / "engines" / ".." / "engines" / "quality-lite") == "engines/quality-lite"


def test_a_path_outside_the_repository_is_recorded_as_given(tmp_path: Path):
    outside = tmp_path / "clip.mp4"
    assert as_recorded(outside) == str(outside)
