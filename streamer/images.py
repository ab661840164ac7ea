"""Image files: the one list of suffixes streamer reads, and the one reader (H×W×3 uint8 RGB)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from streamer.errors import DataError, StreamerError

IMAGE_SUFFIXES: tuple[str, ...] = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp")


def is_image_file(path: str | Path) -> bool:
    """Whether the name ends in one of IMAGE_SUFFIXES (any case)."""
    return Path(path).suffix.lower() in IMAGE_SUFFIXES


def read_rgb(path: str | Path, error: type[StreamerError] = DataError) -> np.ndarray:
    """H×W×3 uint8 RGB pixels of an image file; `error` (one line) when it is missing or undecodable."""
    path = Path(path)
    if not path.is_file():
        raise error(f"no such file: {path}")
    bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if bgr is None:
        raise error(f"cannot read image {path} (corrupt or unsupported)")
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
