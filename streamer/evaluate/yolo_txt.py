"""YOLO text labels: `class_index cx cy w h` per line, normalised to the image size (0..1).

Predictions add the confidence as a sixth field: `class_index cx cy w h confidence`.
Class indices refer to EAD2019_CLASSES unless other class names are given.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from streamer.errors import DataError
from streamer.evaluate.textio import format_number, parse_numbers, read_lines, write_text
from streamer.types import EAD2019_CLASSES, Detections

_TOLERANCE = 1e-6


def read_yolo_txt(
    path: Path,
    image_size: tuple[int, int],
    *,
    predictions: bool,
    class_names: tuple[str, ...] = EAD2019_CLASSES,
) -> Detections:
    """Read one image's boxes in float64 pixels, labelled by index into `class_names`; image_size: (height,
    width) pixels of the labelled image."""
    height, width = image_size
    expected = 6 if predictions else 5
    labels: list[int] = []
    rows: list[list[float]] = []
    for number, line in enumerate(read_lines(path), start=1):
        fields = line.split()
        if not fields:
            continue
        where = f"{path}:{number}"
        if len(fields) != expected:
            form = "class cx cy w h" + (" confidence" if predictions else "")
            raise DataError(f"{where}: expected '{form}', got {line.strip()!r}")
        labels.append(_class_of(fields[0], class_names, where))
        values = parse_numbers(fields[1:], where)
        if not all(-_TOLERANCE <= v <= 1 + _TOLERANCE for v in values[:4]):
            raise DataError(f"{where}: cx cy w h must be normalised to 0..1, got {' '.join(fields[1:5])}")
        rows.append(values)
    values = np.array(rows, dtype=np.float64).reshape(len(rows), expected - 1)  # (N, 4) or (N, 5)
    centre, size = values[:, 0:2], values[:, 2:4]
    scale = np.array([width, height, width, height], dtype=np.float64)
    boxes = np.concatenate([centre - size / 2, centre + size / 2], axis=1) * scale  # (N, 4) pixels
    return Detections(
        torch.from_numpy(boxes),
        torch.from_numpy(values[:, 4].copy()) if predictions else None,
        torch.tensor(labels, dtype=torch.int64),
        class_names,
    )


def write_yolo_txt(
    path: Path,
    detections: Detections,
    image_size: tuple[int, int],
    *,
    class_names: tuple[str, ...] = EAD2019_CLASSES,
) -> None:
    """Write one image's detections as YOLO lines, their classes by index into `class_names`.

    image_size: (height, width) pixels, e.g. `image.shape[:2]`; detections with scores get a confidence field.
    """
    height, width = image_size
    boxes, scores, _ = detections.numpy()
    scale = np.array([width, height], dtype=np.float64)
    centres = (boxes[:, 0:2] + boxes[:, 2:4]) / 2 / scale  # (N, 2) normalised
    sizes = (boxes[:, 2:4] - boxes[:, 0:2]) / scale  # (N, 2) normalised
    lines = []
    for i, name in enumerate(detections.names):
        if name not in class_names:
            raise DataError(f"cannot write {path}: class {name!r} is not one of {', '.join(class_names)}")
        numbers = [*centres[i], *sizes[i]]
        if scores is not None:
            numbers.append(scores[i])
        lines.append(" ".join([str(class_names.index(name)), *(format_number(v) for v in numbers)]) + "\n")
    write_text(path, "".join(lines))


def _class_of(field: str, class_names: tuple[str, ...], where: str) -> int:
    if not field.isdigit() or int(field) >= len(class_names):
        raise DataError(f"{where}: class must be an index 0..{len(class_names) - 1}, got {field!r}")
    return int(field)
