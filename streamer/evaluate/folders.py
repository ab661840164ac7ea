"""Load a whole annotation set: a folder of per-image text files (scorer or YOLO format) or a COCO JSON file.

A folder's format is recognised from its first non-empty line: a class name starts a scorer line, a class
index starts a YOLO line. YOLO files need their image (same stem, next to them) for its size; their class
indices name the classes of `classes.txt` (one name a line) in the folder or, for a `labels/` folder, beside
it, and the EAD2019 classes when there is none.
Images are keyed by file stem and ordered by file name, as the official scorer read them.
"""

from __future__ import annotations

from pathlib import Path

import cv2

from streamer.errors import DataError
from streamer.evaluate.coco_json import read_coco_json
from streamer.evaluate.scorer_txt import read_scorer_txt
from streamer.evaluate.textio import read_lines
from streamer.evaluate.yolo_txt import read_yolo_txt
from streamer.images import IMAGE_SUFFIXES
from streamer.types import EAD2019_CLASSES, Detections

CLASS_LIST_NAME = "classes.txt"  # a class list kept next to the labels is not a label file


def load_annotations(path: Path, *, predictions: bool) -> dict[str, Detections]:
    """Boxes per image (pixels) from a folder of .txt files or a COCO .json file; `predictions` requires
    scores (ground truth has none)."""
    path = Path(path)
    if path.is_file() and path.suffix.lower() == ".json":
        return read_coco_json(path, predictions=predictions)
    if not path.is_dir():
        raise DataError(f"{path}: expected a folder of .txt files or a COCO .json file")
    text_files = sorted((p for p in path.glob("*.txt") if p.name != CLASS_LIST_NAME), key=lambda p: p.name)
    if not text_files:
        raise DataError(f"{path}: no .txt annotation files")
    if _is_yolo(text_files):
        names = folder_class_names(path)
        return {
            f.stem: read_yolo_txt(f, image_size_of(find_image(f)), predictions=predictions, class_names=names)
            for f in text_files
        }
    return {f.stem: read_scorer_txt(f, predictions=predictions) for f in text_files}


def labelled_folder(folder: Path, only: set[str] | None = None) -> tuple[Path, dict[str, Detections]]:
    """(the label folder, its ground truth by image stem) of an EAD-format folder (labels beside their
    images, or images/ + labels/); only: just these stems (e.g. a split's validation side), all when None."""
    folder = Path(folder)
    if (folder / "labels").is_dir():  # images/ + labels/ layout
        folder = folder / "labels"
    ground_truth = load_annotations(folder, predictions=False)
    if only is None:
        return folder, ground_truth
    missing = only - ground_truth.keys()
    if missing:
        raise DataError(
            f"{len(missing)} image(s) of the split are not in {folder}, e.g. {sorted(missing)[0]}"
        )
    return folder, {key: boxes for key, boxes in ground_truth.items() if key in only}


def read_class_list(folder: Path) -> tuple[str, ...] | None:
    """The names in `folder/classes.txt` (one a line, index = line number), or None without one."""
    path = Path(folder) / CLASS_LIST_NAME
    if not path.is_file():
        return None
    return tuple(line.strip() for line in read_lines(path) if line.strip()) or None


def folder_class_names(folder: Path) -> tuple[str, ...]:
    """The class list of a YOLO label folder: its classes.txt, that of the folder above a `labels/`
    folder, else the EAD2019 classes."""
    names = read_class_list(folder)
    if names is None and folder.name == "labels":
        names = read_class_list(folder.parent)
    return names or EAD2019_CLASSES


def find_image(label_file: Path) -> Path:
    """The image with the same stem next to a label file, or in `images/` beside a `labels/` folder."""
    folders = [label_file.parent]
    if label_file.parent.name == "labels":
        folders.append(label_file.parent.parent / "images")
    for folder in folders:
        for suffix in IMAGE_SUFFIXES:
            for candidate in (
                folder / (label_file.stem + suffix),
                folder / (label_file.stem + suffix.upper()),
            ):
                if candidate.is_file():
                    return candidate
    raise DataError(f"{label_file}: YOLO labels need their image for its size; none found next to it")


def image_size_of(image_path: Path) -> tuple[int, int]:
    """(height, width) pixels of an image file."""
    image = cv2.imread(str(image_path), cv2.IMREAD_UNCHANGED)
    if image is None:
        raise DataError(f"{image_path}: cannot be read as an image")
    return int(image.shape[0]), int(image.shape[1])


def _is_yolo(text_files: list[Path]) -> bool:
    for text_file in text_files:
        for line in read_lines(text_file):
            fields = line.split()
            if fields:
                return fields[0].isdigit()
    return False
