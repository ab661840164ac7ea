"""Preprocess: the field of view is found and cropped, and network coordinates map back to the source."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import torch

from streamer.backends.base import EngineSpec
from streamer.pipeline.preprocess import Preprocessor
from streamer.preprocessing import CropBox, find_field_of_view, normalise_on_cpu

SPEC = EngineSpec(name="t", task="detector", classes=("a",), input_size=(64, 96))


def circle_frame(height: int = 360, width: int = 640, centre_x: int = 320, radius: int = 170) -> np.ndarray:
    image = np.zeros((height, width, 3), np.uint8)
    cv2.circle(image, (centre_x, height // 2), radius, (200, 90, 80), -1)
    return image


def test_field_of_view_is_the_bright_disc_with_a_small_margin() -> None:
    box = find_field_of_view(circle_frame(), threshold=20)
    assert abs(box.x0 - 150) <= 16 and abs(box.x1 - 490) <= 16
    assert abs(box.y0 - 10) <= 16 and abs(box.y1 - 350) <= 16


@pytest.mark.parametrize("value", [0, 255])
def test_uniform_frames_keep_the_whole_image(value: int) -> None:
    image = np.full((120, 200, 3), value, np.uint8)
    assert find_field_of_view(image, threshold=20) == CropBox(0, 0, 200, 120)


def test_crop_is_reused_until_refresh() -> None:
    preprocessor = Preprocessor(
        crop_fov=True, fov_threshold=20, fov_refresh_frames=3, device=torch.device("cpu")
    )
    first = preprocessor.prepare([circle_frame(centre_x=200)]).boxes[0]
    moved = circle_frame(centre_x=440)
    assert preprocessor.prepare([moved]).boxes[0] == first  # frames 2 and 3 reuse it
    assert preprocessor.prepare([moved]).boxes[0] == first
    assert preprocessor.prepare([moved]).boxes[0] != first  # frame 4 looks again


def test_input_transform_maps_network_pixels_back_to_the_source() -> None:
    image = circle_frame()
    preprocessor = Preprocessor(
        crop_fov=True, fov_threshold=20, fov_refresh_frames=1, device=torch.device("cpu")
    )
    prepared = preprocessor.prepare([image, image])
    batch, transforms = prepared.inputs_for(SPEC)
    assert batch.shape == (2, 3, 64, 96) and batch.dtype == torch.float32 and batch.is_contiguous()
    box = prepared.boxes[0]
    transform = transforms[0]
    # network pixel (0, 0) is the crop's corner; (96, 64) its opposite corner
    assert (0 / transform.scale_x + transform.offset_x, 0 / transform.scale_y + transform.offset_y) == (
        box.x0,
        box.y0,
    )
    assert 96 / transform.scale_x + transform.offset_x == pytest.approx(box.x1)
    assert 64 / transform.scale_y + transform.offset_y == pytest.approx(box.y1)


def test_selecting_frames_keeps_their_rows_and_transforms() -> None:
    frames = [circle_frame(), np.zeros((360, 640, 3), np.uint8)]
    preprocessor = Preprocessor(
        crop_fov=True, fov_threshold=20, fov_refresh_frames=1, device=torch.device("cpu")
    )
    prepared = preprocessor.prepare(frames)
    full, transforms = prepared.inputs_for(SPEC)
    second, selected = prepared.inputs_for(SPEC, [1])
    assert torch.equal(second[0], full[1])
    assert selected == [transforms[1]]


def test_normalisation_matches_the_formula() -> None:
    pixels = np.random.default_rng(0).integers(0, 256, (2, 5, 7, 3), dtype=np.uint8)
    mean, std = (0.5, 0.4, 0.3), (0.2, 0.25, 0.3)
    result = normalise_on_cpu(pixels, mean, std)
    expected = (pixels.astype(np.float64) / 255 - np.array(mean)) / np.array(std)
    assert result.shape == (2, 3, 5, 7)
    np.testing.assert_allclose(result, expected.transpose(0, 3, 1, 2), atol=1e-5)
