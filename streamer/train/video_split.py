"""Validation split by video for EAD-format folders: frames of one video never sit on both sides.

A video is approximated by a run: consecutive frame numbers (the digits of the file name) of one folder at
one image size (a change of resolution between neighbours starts another video). Near-duplicate groups
(`near_duplicates.json` in the folder: a list of lists of file stems) and named sequences (`seqNNN_MMMM`)
join the groups they touch, so each group ends up whole on one side. Groups are then drawn in a seeded
order into the validation side until it holds the asked share of frames.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from streamer.errors import DataError
from streamer.train.datasets import LabelledImage

NEAR_DUPLICATES_NAME = "near_duplicates.json"
SPLIT_NAME = "split.json"
TRAILING_NUMBER = re.compile(r"(\d+)$")
MAX_OVERSHOOT = 0.05  # the validation side may exceed its share by at most this fraction of all frames


@dataclass(frozen=True)
class FolderItem:
    """A labelled image with the folder it came from (index into the training folders) and its key."""

    folder: int
    image: LabelledImage

    @property
    def key(self) -> str:
        """'folder:stem', unique across folders; what split files list."""
        return f"{self.folder}:{self.image.image_path.stem}"


@dataclass(frozen=True)
class VideoSplit:
    """train / validation items, the number of video groups found and held out, and how the split was
    drawn (seed and validation share), so a reused split file keeps its own seed."""

    train: list[FolderItem]
    validation: list[FolderItem]
    groups: int
    validation_groups: int
    seed: int
    validation_fraction: float


class _UnionFind:
    def __init__(self, size: int) -> None:
        self.parent = list(range(size))

    def find(self, index: int) -> int:
        while self.parent[index] != index:
            self.parent[index] = self.parent[self.parent[index]]
            index = self.parent[index]
        return index

    def union(self, a: int, b: int) -> None:
        self.parent[self.find(a)] = self.find(b)


def image_size(path: Path) -> tuple[int, int]:
    """(width, height) read from the image header only."""
    try:
        with Image.open(path) as image:
            return image.size
    except OSError as error:
        raise DataError(f"{path}: cannot read image ({error})") from error


def read_near_duplicates(folder: Path) -> list[list[str]]:
    """Groups of near-identical frame stems from `folder/near_duplicates.json`; [] when absent."""
    path = folder / NEAR_DUPLICATES_NAME
    if not path.is_file():
        return []
    try:
        groups = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as error:
        raise DataError(f"{path}: unreadable ({error})") from error
    if not isinstance(groups, list) or not all(isinstance(g, list) for g in groups):
        raise DataError(f"{path}: expected a list of lists of file stems")
    return [[str(stem) for stem in group] for group in groups]


def video_groups(
    items: Sequence[FolderItem],
    sizes: Sequence[tuple[int, int]],
    near_duplicates: dict[int, list[list[str]]],
) -> list[int]:
    """Group id of each item: runs of consecutive numbers at one size, joined by near-duplicates and names.

    sizes: (width, height) of each item; near_duplicates: per folder index, groups of stems.
    """
    groups = _UnionFind(len(items))
    numbered = []
    by_key: dict[tuple[int, str], int] = {}
    by_sequence: dict[tuple[int, str], int] = {}
    for index, item in enumerate(items):
        stem = item.image.image_path.stem
        by_key[(item.folder, stem)] = index
        sequence = (item.folder, item.image.sequence)
        if item.image.sequence != stem:
            if sequence in by_sequence:
                groups.union(index, by_sequence[sequence])
            by_sequence.setdefault(sequence, index)
        match = TRAILING_NUMBER.search(stem)
        if match:
            numbered.append((item.folder, int(match.group(1)), index))
    numbered.sort()
    for (folder, number, index), (next_folder, next_number, next_index) in itertools.pairwise(numbered):
        if folder == next_folder and next_number == number + 1 and sizes[index] == sizes[next_index]:
            groups.union(index, next_index)
    for folder, folder_groups in near_duplicates.items():
        for group in folder_groups:
            members = [by_key[(folder, stem)] for stem in group if (folder, stem) in by_key]
            for member in members[1:]:
                groups.union(members[0], member)
    return [groups.find(index) for index in range(len(items))]


def split_by_video(
    items: Sequence[FolderItem], group_ids: Sequence[int], validation_fraction: float, seed: int
) -> VideoSplit:
    """Draw whole groups, in a seeded order, into validation until it holds `validation_fraction` of the
    frames; a group that would overshoot the share by more than MAX_OVERSHOOT is skipped."""
    members: dict[int, list[int]] = {}
    for index, group in enumerate(group_ids):
        members.setdefault(group, []).append(index)
    order = sorted(members)
    np.random.default_rng(seed).shuffle(order)
    target = validation_fraction * len(items)
    limit = target + MAX_OVERSHOOT * len(items)
    held_out: set[int] = set()
    count = 0
    for group in order:
        if count >= target:
            break
        if count + len(members[group]) <= limit:
            held_out.add(group)
            count += len(members[group])
    if validation_fraction > 0 and not held_out:
        raise DataError("no video group fits the validation share: add data or raise the share")
    train = [item for item, group in zip(items, group_ids, strict=True) if group not in held_out]
    validation = [item for item, group in zip(items, group_ids, strict=True) if group in held_out]
    return VideoSplit(train, validation, len(members), len(held_out), seed, validation_fraction)


def folder_video_groups(folders: Sequence[Path], items: Sequence[FolderItem]) -> list[int]:
    """`video_groups` of items of `folders`, reading image sizes and each folder's near-duplicates."""
    sizes = [image_size(item.image.image_path) for item in items]
    near = {index: read_near_duplicates(Path(folder)) for index, folder in enumerate(folders)}
    return video_groups(items, sizes, near)


def split_folders(
    folders: Sequence[Path], items: Sequence[FolderItem], validation_fraction: float, seed: int
) -> VideoSplit:
    """`split_by_video` over items of `folders`, grouped by `folder_video_groups`."""
    return split_by_video(items, folder_video_groups(folders, items), validation_fraction, seed)


def write_split(path: Path, split: VideoSplit, *, folders: Sequence[Path]) -> None:
    """The split as JSON: folders, seed, share, group counts and the keys ('folder:stem') of each side."""
    path.parent.mkdir(parents=True, exist_ok=True)
    document = {
        "method": "video groups: consecutive frame numbers at one image size, joined by near-duplicates",
        "folders": [str(folder) for folder in folders],
        "seed": split.seed,
        "validation_fraction": split.validation_fraction,
        "groups": split.groups,
        "validation_groups": split.validation_groups,
        "train": [item.key for item in split.train],
        "validation": [item.key for item in split.validation],
    }
    path.write_text(json.dumps(document, indent=1) + "\n")


def read_split(path: Path, items: Sequence[FolderItem]) -> VideoSplit:
    """Apply a split file written by `write_split` to `items`; every item must be listed on one side."""
    try:
        document = json.loads(Path(path).read_text())
        train_keys, validation_keys = set(document["train"]), set(document["validation"])
    except (OSError, json.JSONDecodeError, KeyError, TypeError) as error:
        raise DataError(f"{path}: not a split file ({error})") from error
    unknown = [item.key for item in items if item.key not in train_keys | validation_keys]
    if unknown:
        raise DataError(f"{path}: {len(unknown)} image(s) are on neither side, e.g. {unknown[0]}")
    return VideoSplit(
        [item for item in items if item.key in train_keys],
        [item for item in items if item.key in validation_keys],
        int(document.get("groups", 0)),
        int(document.get("validation_groups", 0)),
        int(document.get("seed", 0)),
        float(document.get("validation_fraction", 0.0)),
    )


def validation_stems(path: Path, folder: Path) -> set[str]:
    """Stems of the validation frames that a split file lists for `folder` (matched by its resolved path,
    else by its name, else the split's only folder)."""
    try:
        document = json.loads(Path(path).read_text())
        folders = [Path(f) for f in document["folders"]]
        keys = [str(key) for key in document["validation"]]
    except (OSError, json.JSONDecodeError, KeyError, TypeError) as error:
        raise DataError(f"{path}: not a split file ({error})") from error
    target = Path(folder).resolve()
    matches = [i for i, f in enumerate(folders) if f.resolve() == target]
    matches = matches or [i for i, f in enumerate(folders) if f.name == target.name]
    if not matches and len(folders) == 1:
        matches = [0]
    if not matches:
        raise DataError(f"{path}: the split lists no frames of {folder}")
    prefix = f"{matches[0]}:"
    return {key[len(prefix) :] for key in keys if key.startswith(prefix)}
