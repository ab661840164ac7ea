"""The validation split by video: runs of frame numbers and near-duplicate groups stay on one side."""

import json
from pathlib import Path

import pytest

from streamer.errors import DataError
from streamer.paths import EAD2020_SUBSET
from streamer.train.datasets import LabelledImage
from streamer.train.detector import collect_items
from streamer.train.video_split import (
    FolderItem,
    image_size,
    read_near_duplicates,
    read_split,
    split_by_video,
    split_folders,
    video_groups,
    write_split,
)


def _items(stems):
    return [FolderItem(0, LabelledImage(Path(f"{stem}.jpg"), None, stem)) for stem in stems]


def test_runs_of_numbers_at_one_size_form_one_group():
    items = _items(["00001", "00002", "00003", "00005", "00006", "00007"])
    sizes = [(512, 512)] * 3 + [(512, 512), (768, 576), (768, 576)]
    groups = video_groups(items, sizes, {})
    assert groups[0] == groups[1] == groups[2]
    assert groups[3] != groups[2]  # a gap in the numbers starts another video
    assert groups[4] == groups[5] != groups[3]  # so does a change of image size


def test_named_sequences_form_one_group_each():
    items = [
        FolderItem(0, LabelledImage(Path(f"seq{s:03d}_{f:04d}.jpg"), None, f"seq{s:03d}"))
        for s in range(3)
        for f in range(0, 50, 10)  # numbers far apart: only the sequence name joins them
    ]
    groups = video_groups(items, [(512, 512)] * len(items), {})
    assert len(set(groups)) == 3
    assert len({groups[i] for i in range(5)}) == 1


def test_near_duplicates_join_groups_across_the_numbering():
    items = _items(["00001", "00002", "00010", "00011", "00020"])
    sizes = [(512, 512)] * 5
    groups = video_groups(items, sizes, {0: [["00002", "00020"]]})
    assert groups[0] == groups[1] == groups[4]
    assert groups[2] == groups[3] != groups[0]


def test_split_keeps_every_group_whole_and_reaches_its_share():
    stems = [f"{n:05d}" for start in range(0, 400, 10) for n in range(start, start + 7)]  # 40 runs of 7
    items = _items(stems)
    group_ids = video_groups(items, [(512, 512)] * len(items), {})
    split = split_by_video(items, group_ids, 0.2, seed=3)
    validation = {item.key for item in split.validation}
    for group in set(group_ids):
        sides = {items[i].key in validation for i, g in enumerate(group_ids) if g == group}
        assert len(sides) == 1
    assert 0.2 <= len(split.validation) / len(items) <= 0.25
    assert split.groups == 40 and split.validation_groups == 8
    other = split_by_video(items, group_ids, 0.2, seed=4)
    assert {i.key for i in other.validation} != validation  # the seed chooses the videos


def test_split_of_the_bundled_frames_is_written_and_read_back(tmp_path):
    items = collect_items([EAD2020_SUBSET])
    split = split_folders([EAD2020_SUBSET], items, 0.2, seed=5)
    held_out = {item.image.image_path.stem for item in split.validation}
    assert ("00007" in held_out) == ("01390" in held_out)  # the near-duplicate pair
    run = {f"0000{n}" for n in range(1, 9)}
    assert run <= held_out or not run & held_out
    path = tmp_path / "split.json"
    write_split(path, split, folders=[EAD2020_SUBSET])
    again = read_split(path, items)
    assert [i.key for i in again.validation] == [i.key for i in split.validation]
    assert json.loads(path.read_text())["seed"] == 5
    copy = tmp_path / "copy.json"
    write_split(copy, again, folders=[EAD2020_SUBSET])  # a reused split keeps the seed it was drawn with
    assert json.loads(copy.read_text())["seed"] == 5
    assert json.loads(copy.read_text())["validation_fraction"] == 0.2


def test_a_split_file_that_misses_images_is_refused(tmp_path):
    items = collect_items([EAD2020_SUBSET])
    path = tmp_path / "split.json"
    path.write_text(json.dumps({"train": [items[0].key], "validation": [items[1].key]}))
    with pytest.raises(DataError, match="on neither side"):
        read_split(path, items)


def test_near_duplicates_file_and_image_sizes_are_read():
    assert read_near_duplicates(EAD2020_SUBSET) == [["00007", "01390"]]
    assert image_size(EAD2020_SUBSET / "images" / "01307.jpg") == (1349, 1079)
