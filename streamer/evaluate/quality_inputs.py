"""Inputs of `eval quality`.

- predictions JSONL: one JSON object per line with `index` and the probability that the frame is bad at
  `quality.p_bad`, `verdict.p_bad` or `p_bad` (streamer's frames.jsonl); lines without one are skipped;
- labels: CSV with header `index,label` or JSON ([{"index", "label"}, ...] or {"<index>": label});
- or one CSV with header `id,label,p_bad`.
Labels are `bad`/`good` or 1/0 (1 = bad).
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np

from streamer.errors import DataError
from streamer.evaluate.textio import read_lines

_BAD = {"bad", "1", "true"}
_GOOD = {"good", "0", "false"}


def parse_label(value: object, where: str) -> bool:
    """True for bad, False for good."""
    text = str(value).strip().lower()
    if text in _BAD:
        return True
    if text in _GOOD:
        return False
    raise DataError(f"{where}: label must be bad/good or 1/0, got {value!r}")


def read_quality_predictions(path: Path) -> dict[int, float]:
    """p_bad per frame index from a JSONL file."""
    predictions: dict[int, float] = {}
    for number, line in enumerate(read_lines(path), start=1):
        if not line.strip():
            continue
        where = f"{path}:{number}"
        try:
            record = json.loads(line)
        except json.JSONDecodeError as error:
            raise DataError(f"{where}: not JSON ({error})") from error
        if not isinstance(record, dict) or "index" not in record:
            raise DataError(f"{where}: expected an object with an 'index'")
        p_bad = _find_p_bad(record)
        if p_bad is not None:
            predictions[_index(record["index"], where)] = _probability(p_bad, where)
    if not predictions:
        raise DataError(f"{path}: no record carries a p_bad")
    return predictions


def read_quality_labels(path: Path) -> dict[int, bool]:
    """is_bad per frame index from a CSV (`index,label`) or JSON file."""
    path = Path(path)
    if path.suffix.lower() == ".json":
        return _labels_from_json(path)
    return {
        _index(row["index"], where): parse_label(row["label"], where)
        for where, row in _csv_rows(path, ("index", "label"))
    }


def read_quality_table(path: Path) -> tuple[list[str], np.ndarray, np.ndarray]:
    """ids, is_bad (N,) bool and p_bad (N,) float64 from a CSV with header `id,label,p_bad`."""
    ids, is_bad, p_bad = [], [], []
    for where, row in _csv_rows(path, ("id", "label", "p_bad")):
        ids.append(row["id"])
        is_bad.append(parse_label(row["label"], where))
        p_bad.append(_probability(row["p_bad"], where))
    return ids, np.array(is_bad, dtype=bool), np.array(p_bad, dtype=np.float64)


def join_on_index(
    labels: dict[int, bool], predictions: dict[int, float]
) -> tuple[np.ndarray, np.ndarray, int]:
    """is_bad (N,) and p_bad (N,) over the indices in both (ascending), and the count of labels left out."""
    common = sorted(labels.keys() & predictions.keys())
    is_bad = np.array([labels[i] for i in common], dtype=bool)
    p_bad = np.array([predictions[i] for i in common], dtype=np.float64)
    return is_bad, p_bad, len(labels) - len(common)


def _find_p_bad(record: dict[str, object]) -> object | None:
    for key in ("quality", "verdict"):
        nested = record.get(key)
        if isinstance(nested, dict) and "p_bad" in nested:
            return nested["p_bad"]
    return record.get("p_bad")


def _labels_from_json(path: Path) -> dict[int, bool]:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise DataError(f"cannot read {path}: {error}") from error
    if isinstance(document, dict):
        return {
            _index(k, f"{path}: key {k!r}"): parse_label(v, f"{path}: key {k!r}") for k, v in document.items()
        }
    if isinstance(document, list):
        labels = {}
        for number, item in enumerate(document):
            where = f"{path}: item {number}"
            if not isinstance(item, dict) or "index" not in item or "label" not in item:
                raise DataError(f"{where}: expected an object with 'index' and 'label'")
            labels[_index(item["index"], where)] = parse_label(item["label"], where)
        return labels
    raise DataError(f"{path}: expected a JSON list of {{index, label}} or an object index -> label")


def _csv_rows(path: Path, columns: tuple[str, ...]) -> list[tuple[str, dict[str, str]]]:
    lines = read_lines(path)
    reader = csv.DictReader(lines)
    if reader.fieldnames is None or not set(columns) <= {f.strip() for f in reader.fieldnames}:
        raise DataError(f"{path}: expected a CSV header with columns {','.join(columns)}")
    rows = []
    for row in reader:
        where = f"{path}:{reader.line_num}"
        clean = {
            (k or "").strip(): (v or "").strip() for k, v in row.items() if isinstance(v, str) or v is None
        }
        if any(not clean.get(c) for c in columns):
            raise DataError(f"{where}: missing value for {', '.join(c for c in columns if not clean.get(c))}")
        rows.append((where, clean))
    return rows


def _index(value: object, where: str) -> int:
    try:
        index = int(str(value))
    except ValueError as error:
        raise DataError(f"{where}: index must be an integer, got {value!r}") from error
    if index < 0:
        raise DataError(f"{where}: index must be >= 0, got {index}")
    return index


def _probability(value: object, where: str) -> float:
    try:
        p = float(str(value))
    except ValueError as error:
        raise DataError(f"{where}: p_bad must be a number, got {value!r}") from error
    if not 0.0 <= p <= 1.0:
        raise DataError(f"{where}: p_bad must be in [0, 1], got {p}")
    return p
