"""Classical detector: finds drawn highlights, saturation, dark and blurred regions; quiet on plain tissue."""

import cv2
import numpy as np
import pytest
import torch

from streamer.classical import ClassicalDetector, estimate_fov
from streamer.errors import DataError
from streamer.synthetic import generate_frame
from streamer.types import Detections


def iou(box: np.ndarray, other: np.ndarray) -> float:
    """Intersection over union of two x1 y1 x2 y2 boxes."""
    x1, y1 = max(box[0], other[0]), max(box[1], other[1])
    x2, y2 = min(box[2], other[2]), min(box[3], other[3])
    inter = max(0.0, x2 - x1) * max(0.0, y2 - y1)
    area = (box[2] - box[0]) * (box[3] - box[1]) + (other[2] - other[0]) * (other[3] - other[1])
    return float(inter / (area - inter))


def boxes_of(detections: Detections, label: int) -> np.ndarray:
    return detections.boxes[detections.labels == label].numpy()


def textured_tissue(size: int = 256, seed: int = 0) -> np.ndarray:
    """Pink tissue with fine grain: (size, size, 3) uint8 RGB, no black border."""
    rng = np.random.default_rng(seed)
    grain = cv2.GaussianBlur(rng.normal(0, 12, (size, size)).astype(np.float32), (0, 0), 1.0)
    base = np.array((200, 110, 100), np.float32)
    return np.clip(base + grain[..., None] * (1.0, 0.6, 0.6), 0, 255).astype(np.uint8)


def test_finds_a_drawn_specular_highlight_where_it_was_drawn():
    image = generate_frame(4, (256, 256), classes=[]).image.copy()
    cv2.circle(image, (100, 120), 6, (255, 255, 255), -1)
    found = boxes_of(ClassicalDetector().detect(image), 0)
    assert len(found) >= 1
    assert max(iou(box, np.array([94, 114, 107, 127])) for box in found) > 0.5


@pytest.mark.parametrize("grain", [False, True])
def test_finds_nothing_on_uniform_tissue(grain):
    image = textured_tissue() if grain else np.full((256, 256, 3), (200, 110, 100), np.uint8)
    assert len(ClassicalDetector().detect(image)) == 0


def test_a_large_clipped_area_is_saturation_not_specularity():
    image = textured_tissue()
    cv2.ellipse(image, (128, 128), (40, 25), 0, 0, 360, (255, 255, 255), -1)
    detections = ClassicalDetector().detect(image)
    saturated = boxes_of(detections, 1)
    assert len(saturated) == 1
    assert iou(saturated[0], np.array([88, 103, 169, 154])) > 0.8
    assert len(boxes_of(detections, 0)) == 0


def test_finds_a_dark_flat_region():
    image = textured_tissue()
    image[64:160, 96:192] = (30, 15, 14)
    found = boxes_of(ClassicalDetector().detect(image), 4)
    assert len(found) == 1 and iou(found[0], np.array([96, 64, 192, 160])) > 0.5


def test_finds_a_locally_blurred_region():
    image = textured_tissue()
    image[32:160, 64:192] = cv2.GaussianBlur(image[32:160, 64:192], (0, 0), 4.0)
    found = boxes_of(ClassicalDetector().detect(image), 3)
    assert len(found) >= 1 and max(iou(box, np.array([64, 32, 192, 160])) for box in found) > 0.5


def test_ignores_what_lies_outside_the_field_of_view():
    image = textured_tissue()
    disc = np.zeros((256, 256), np.uint8)
    cv2.circle(disc, (128, 128), 110, 1, -1)
    image[disc == 0] = 0
    image[0:20, 0:20] = 255  # a bright label in the black corner, as some scopes print
    assert estimate_fov(image)[128, 128] and not estimate_fov(image)[5, 250]
    assert len(ClassicalDetector().detect(image)) == 0


@pytest.mark.parametrize("seed", range(4))
def test_outputs_follow_the_detections_contract(seed):
    sample = generate_frame(seed, (224, 160))
    detections = ClassicalDetector().detect(sample.image)
    boxes = detections.boxes.numpy()
    assert detections.labels.dtype == torch.int64 and detections.boxes.dtype == torch.float32
    assert np.all((boxes[:, 0] >= 0) & (boxes[:, 2] <= 224) & (boxes[:, 1] >= 0) & (boxes[:, 3] <= 160))
    assert np.all((boxes[:, 2] > boxes[:, 0]) & (boxes[:, 3] > boxes[:, 1]))
    assert torch.all((detections.scores >= 0) & (detections.scores <= 1))
    assert set(detections.labels.tolist()) <= {0, 1, 3, 4}


def test_detect_batch_matches_detect():
    images = [generate_frame(seed, (160, 160)).image for seed in (1, 2)]
    detector = ClassicalDetector()
    for single, batched in zip(map(detector.detect, images), detector.detect_batch(images), strict=True):
        assert torch.equal(single.boxes, batched.boxes) and torch.equal(single.labels, batched.labels)


@pytest.mark.parametrize("image", [np.zeros((64, 64), np.uint8), np.zeros((64, 64, 3), np.float32), "frame"])
def test_rejects_bad_images(image):
    with pytest.raises(DataError):
        ClassicalDetector().detect(image)


def test_a_large_pale_region_that_is_not_clipped_is_ignored():
    image = textured_tissue()
    pale = textured_tissue(seed=1).astype(np.int16) + np.array((36, 124, 128), np.int16)  # grain around 236
    inside = np.zeros((256, 256), np.uint8)
    cv2.ellipse(inside, (128, 128), (40, 25), 0, 0, 360, 1, -1)
    image[inside > 0] = np.clip(pale, 0, 255).astype(np.uint8)[inside > 0]  # pale fat: bright, hardly clipped
    assert len(ClassicalDetector().detect(image)) == 0


def test_uniformly_dark_tissue_is_not_a_contrast_artefact():
    image = (textured_tissue().astype(np.float32) * 0.3).astype(np.uint8)  # dark tissue, grey level about 40
    assert cv2.cvtColor(image, cv2.COLOR_RGB2GRAY).mean() < 55
    assert len(boxes_of(ClassicalDetector().detect(image), 4)) == 0
