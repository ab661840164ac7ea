"""One list of image suffixes and one reader for every part of streamer."""

from pathlib import Path

import cv2
import numpy as np
import pytest

from streamer.capture.image_source import list_images
from streamer.errors import DataError, SourceError
from streamer.images import IMAGE_SUFFIXES, is_image_file, read_rgb
from streamer.train.datasets import scan_folder


def test_every_reader_takes_the_same_suffixes(tmp_path: Path) -> None:
    pixels = np.zeros((8, 8, 3), np.uint8)
    pixels[..., 2] = 255  # red in BGR
    for suffix in (".png", ".bmp", ".tif", ".webp", ".JPG"):
        cv2.imwrite(str(tmp_path / f"a{suffix}"), pixels)
    names = {p.name for p in list_images(str(tmp_path))}
    assert names == {p.name for p in tmp_path.iterdir()}
    assert {item.image_path.name for item in scan_folder(tmp_path)} == names
    assert is_image_file("x.TIFF") and not is_image_file("x.mp4") and ".webp" in IMAGE_SUFFIXES
    assert read_rgb(tmp_path / "a.png")[0, 0].tolist() == [255, 0, 0]  # RGB order


def test_a_broken_image_is_one_clear_error_of_the_callers_kind(tmp_path: Path) -> None:
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"not a png")
    with pytest.raises(DataError, match="cannot read image"):
        read_rgb(broken)
    with pytest.raises(SourceError, match="no such file"):
        read_rgb(tmp_path / "missing.png", SourceError)
