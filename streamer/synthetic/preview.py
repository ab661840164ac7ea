"""Draw boxes on samples and tile them into one image, to look at what is generated."""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from streamer.synthetic.sample import SyntheticSample

# One RGB colour per EAD2019 class, in class order.
CLASS_COLOURS = (
    (255, 255, 255),
    (255, 255, 0),
    (0, 128, 255),
    (0, 255, 0),
    (255, 0, 0),
    (255, 0, 255),
    (0, 255, 255),
)


def draw_boxes(sample: SyntheticSample) -> np.ndarray:
    """A copy of the sample's image with its boxes and class indices drawn: (H, W, 3) uint8 RGB."""
    image = sample.image.copy()
    for box, label in zip(sample.boxes.astype(int), sample.labels, strict=True):
        colour = CLASS_COLOURS[int(label)]
        cv2.rectangle(image, (box[0], box[1]), (box[2] - 1, box[3] - 1), colour, 1)
        cv2.putText(
            image, str(int(label)), (box[0] + 1, box[1] + 10), cv2.FONT_HERSHEY_SIMPLEX, 0.35, colour, 1
        )
    return image


def grid(images: Sequence[np.ndarray], columns: int) -> np.ndarray:
    """Tile equally sized (H, W, 3) images row by row; missing cells are black."""
    rows = -(-len(images) // columns)
    height, width = images[0].shape[:2]
    out = np.zeros((rows * height, columns * width, 3), np.uint8)
    for i, image in enumerate(images):
        r, c = divmod(i, columns)
        out[r * height : (r + 1) * height, c * width : (c + 1) * width] = image
    return out
