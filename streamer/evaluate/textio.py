"""Small helpers shared by the text formats: reading lines, parsing and writing numbers."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from streamer.errors import DataError, SinkError


def read_lines(path: Path) -> list[str]:
    """The lines of a UTF-8 text file, without line endings."""
    try:
        return Path(path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as error:
        raise DataError(f"cannot read {path}: {error}") from error


def write_text(path: Path, text: str) -> None:
    """Write `text` to `path`, creating nothing but the file."""
    try:
        Path(path).write_text(text, encoding="utf-8")
    except OSError as error:
        raise SinkError(f"cannot write {path}: {error}") from error


def parse_numbers(fields: list[str], where: str) -> list[float]:
    """Finite floats from text fields; `where` ("file:line") names the place in the error."""
    try:
        values = [float(v) for v in fields]
    except ValueError as error:
        raise DataError(f"{where}: {error}") from error
    if not all(math.isfinite(v) for v in values):
        raise DataError(f"{where}: numbers must be finite, got {' '.join(fields)}")
    return values


def format_number(value: float) -> str:
    """Shortest text that reads back as the same float, never in exponent notation."""
    return np.format_float_positional(float(value), trim="-")
