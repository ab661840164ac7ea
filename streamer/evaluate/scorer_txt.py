"""The EAD2019 scorer's text format, one file per image.

Ground truth: `class_name x1 y1 x2 y2` per line; predictions: `class_name confidence x1 y1 x2 y2`.
Fields are separated by tabs or spaces; coordinates are pixels; blank lines are ignored.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

import numpy as np

from streamer.errors import DataError
from streamer.evaluate.annotations import BoxSet
from streamer.evaluate.textio import format_number, parse_numbers, read_lines, write_text


def read_scorer_txt(path: Path, *, predictions: bool) -> BoxSet:
    """Read one image's boxes; `predictions` selects the 6-field form (with confidence)."""
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
        return BoxSet(tuple(labels), values[:, 1:], values[:, 0].copy())
    return BoxSet(tuple(labels), values)


def write_scorer_txt(path: Path, records: Iterable[Mapping[str, object]]) -> None:
    """Write one image's records {box, label, score?} (`Detections.to_records`) in the scorer's format.

    Records with scores give prediction lines, records without give ground-truth lines; tab separated.
    """
    box_set = BoxSet.from_records(records)
    lines = []
    for i, label in enumerate(box_set.labels):
        numbers = list(box_set.boxes[i])
        if box_set.scores is not None:
            numbers.insert(0, box_set.scores[i])
        lines.append("\t".join([label, *(format_number(v) for v in numbers)]) + "\n")
    write_text(path, "".join(lines))
