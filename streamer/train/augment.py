"""Training augmentations of the EAD2019 RetinaNet paper, applied to an image and its boxes together.

Random affine (rotation, translation and shear ±0.1, scale 0.9–1.1) with cv2.warpAffine, horizontal and
vertical flips at 50 %, an RGB channel shift on 1/9 of the images and Gaussian noise on 1/9.
Images are H×W×3 uint8 RGB; boxes (N, 4) float32 x1 y1 x2 y2 pixels; labels (N,) int64.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

MIN_BOX_SIDE = 2.0


@dataclass(frozen=True)
class AugmentConfig:
    """Random transform ranges; rotation and shear in radians, translation as a fraction of the side."""

    rotation: float = 0.1
    translation: float = 0.1
    shear: float = 0.1
    scale: tuple[float, float] = (0.9, 1.1)
    flip_probability: float = 0.5
    channel_shift_probability: float = 1 / 9
    channel_shift: float = 0.1
    noise_probability: float = 1 / 9
    noise_sigma: tuple[float, float] = (0.01, 0.05)


def random_affine_matrix(
    rng: np.random.Generator, width: int, height: int, config: AugmentConfig
) -> np.ndarray:
    """(2, 3) float64 matrix: rotation, shear and scale about the image centre, then translation."""
    angle = rng.uniform(-config.rotation, config.rotation)
    shear = rng.uniform(-config.shear, config.shear)
    scale_x, scale_y = rng.uniform(*config.scale, size=2)
    shift = rng.uniform(-config.translation, config.translation, size=2) * (width, height)
    centre = np.array([[1, 0, width / 2], [0, 1, height / 2], [0, 0, 1]])
    uncentre = np.array([[1, 0, -width / 2], [0, 1, -height / 2], [0, 0, 1]])
    rotate = np.array([[np.cos(angle), -np.sin(angle), 0], [np.sin(angle), np.cos(angle), 0], [0, 0, 1]])
    shear_matrix = np.array([[1, -np.sin(shear), 0], [0, np.cos(shear), 0], [0, 0, 1]])
    scale = np.diag([scale_x, scale_y, 1.0])
    translate = np.array([[1, 0, shift[0]], [0, 1, shift[1]], [0, 0, 1]])
    return (translate @ centre @ rotate @ shear_matrix @ scale @ uncentre)[:2]


def transform_boxes(
    boxes: np.ndarray, matrix: np.ndarray, width: int, height: int
) -> tuple[np.ndarray, np.ndarray]:
    """Boxes (N, 4) through a (2, 3) affine: the enclosing box of the 4 moved corners, clipped to the image.

    Returns (boxes (M, 4) float32, keep (N,) bool) where keep marks boxes still at least 2 px wide and high.
    """
    corners = boxes[:, [0, 1, 2, 1, 2, 3, 0, 3]].reshape(-1, 4, 2)  # (N, 8) -> (N, 4 corners, xy)
    moved = corners @ matrix[:, :2].T + matrix[:, 2]
    new = np.concatenate([moved.min(axis=1), moved.max(axis=1)], axis=1)  # (N, 2) + (N, 2) -> (N, 4)
    new[:, [0, 2]] = new[:, [0, 2]].clip(0, width)
    new[:, [1, 3]] = new[:, [1, 3]].clip(0, height)
    keep = ((new[:, 2] - new[:, 0]) >= MIN_BOX_SIDE) & ((new[:, 3] - new[:, 1]) >= MIN_BOX_SIDE)
    return new[keep].astype(np.float32), keep


def augment(
    image: np.ndarray,
    boxes: np.ndarray,
    labels: np.ndarray,
    rng: np.random.Generator,
    config: AugmentConfig | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One random draw of the paper's augmentations -> (image, boxes, labels) without the lost boxes."""
    config = config or AugmentConfig()
    height, width = image.shape[:2]
    matrix = random_affine_matrix(rng, width, height, config)
    image = cv2.warpAffine(
        image, matrix, (width, height), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT
    )
    boxes, keep = transform_boxes(boxes.astype(np.float64), matrix, width, height)
    labels = labels[keep]
    if rng.random() < config.flip_probability:
        image = image[:, ::-1]
        boxes = np.stack([width - boxes[:, 2], boxes[:, 1], width - boxes[:, 0], boxes[:, 3]], axis=1)
    if rng.random() < config.flip_probability:
        image = image[::-1]
        boxes = np.stack([boxes[:, 0], height - boxes[:, 3], boxes[:, 2], height - boxes[:, 1]], axis=1)
    if rng.random() < config.channel_shift_probability:
        shift = rng.uniform(-config.channel_shift, config.channel_shift, size=3) * 255
        image = (image.astype(np.float32) + shift).clip(0, 255).astype(np.uint8)
    if rng.random() < config.noise_probability:
        sigma = rng.uniform(*config.noise_sigma) * 255
        image = (image.astype(np.float32) + rng.normal(0, sigma, image.shape)).clip(0, 255).astype(np.uint8)
    return np.ascontiguousarray(image), boxes.astype(np.float32).reshape(-1, 4), labels
