"""The EAD2019 scorer's text format, one file per image.

Ground truth: `class_name x1 y1 x2 y2` per line; predictions: `class_name confidence x1 y1 x2 y2`.
Fields are separated by tabs or spaces; coordinates are pixels; blank lines are ignored.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from streamer.errors import DataError
from streamer.evaluate.textio import format_number, parse_numbers, read_lines, write_text
from streamer.types import Detections


def read_scorer_txt(path: Path, *, predictions: bool) -> Detections:
    """Read one image's boxes (float64 pixels); `predictions` selects the 6-field form (with confidence).

    Labels index the EAD2019 classes, followed by any other class names of the file in order of appearance.
    """
    expected = 6 if predictions else 5
    form = "class_name confidence x1 y1 x2 y2" if predictions else "class_name x1 y1 x2 y2"
    labels: list[str] = []
    rows: list[list[float]] = []
    for number, line in enumerate(read_lines(path), start=1):
        fields = line.split()
        if not fields:
            continue
        if len(fields) != expected:
            raise DataError(f"{path}:{number}: expected '{form}', got {line.strip()!r}")
        rows.append(parse_numbers(fields[1:], f"{path}:{number}"))
        labels.append(fields[0])
    values = np.array(rows, dtype=np.float64).reshape(len(rows), expected - 1)  # (N, 4) or (N, 5)
    if predictions:
        return Detections.from_names(values[:, 1:], labels, values[:, 0])
    return Detections.from_names(values, labels)


def write_scorer_txt(path: Path, detections: Detections) -> None:
    """Write one image's detections in the scorer's format, tab separated: prediction lines when they
    have scores, ground-truth lines when not."""
    boxes, scores, _ = detections.numpy()
    lines = []
    for i, name in enumerate(detections.names):
        numbers = list(boxes[i])
        if scores is not None:
            numbers.insert(0, scores[i])
        lines.append("\t".join([name, *(format_number(v) for v in numbers)]) + "\n")
    write_text(path, "".join(lines))
