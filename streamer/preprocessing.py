"""Frame → network input, the one path shared by `streamer run`, `classify`, `eval model`, training and
calibration: crop the black border around the endoscope's field of view, resize, normalise.

Images are H×W×3 uint8 RGB. A network input is (3, H', W') float32, (x/255 - mean) / std per channel.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np
import torch

FOV_THRESHOLD = 20  # max RGB value (0–255) under which a pixel is border
FOV_SAMPLE_STEP = 8  # look at every 8th pixel when locating the field of view
FOV_MIN_FRACTION = 0.02  # a row/column belongs to the view when this share of its samples is bright


@dataclass(frozen=True)
class CropBox:
    """Field-of-view rectangle in source pixels: x0, y0 inclusive; x1, y1 exclusive."""

    x0: int
    y0: int
    x1: int
    y1: int

    @property
    def width(self) -> int:
        return self.x1 - self.x0

    @property
    def height(self) -> int:
        return self.y1 - self.y0


@dataclass(frozen=True)
class InputTransform:
    """How a network input maps back to the source frame: source_px = input_px / scale + offset."""

    scale_x: float
    scale_y: float
    offset_x: float
    offset_y: float

    @classmethod
    def of_crop(cls, box: CropBox, input_size: Sequence[int]) -> InputTransform:
        """The transform of `box` resized to input_size (H, W)."""
        height, width = int(input_size[0]), int(input_size[1])
        return cls(scale_x=width / box.width, scale_y=height / box.height, offset_x=box.x0, offset_y=box.y0)

    def to_input(self, boxes: np.ndarray) -> np.ndarray:
        """(N, 4) x1 y1 x2 y2 source pixels → network-input pixels (float32)."""
        scale = np.array([self.scale_x, self.scale_y] * 2, np.float32)
        offset = np.array([self.offset_x, self.offset_y] * 2, np.float32)
        return ((boxes - offset) * scale).astype(np.float32).reshape(-1, 4)


def find_field_of_view(image: np.ndarray, threshold: int = FOV_THRESHOLD) -> CropBox:
    """Bounding box of the pixels brighter than `threshold` (max of R, G, B), on a sparse sample of the image.

    image: H×W×3 uint8. Returns the whole frame when nothing is bright (a black frame keeps its size).
    """
    height, width = image.shape[:2]
    sample = image[::FOV_SAMPLE_STEP, ::FOV_SAMPLE_STEP].max(axis=2) > threshold  # (H/8, W/8) bool
    rows = np.flatnonzero(sample.mean(axis=1) > FOV_MIN_FRACTION)
    cols = np.flatnonzero(sample.mean(axis=0) > FOV_MIN_FRACTION)
    if rows.size == 0 or cols.size == 0:
        return CropBox(0, 0, width, height)
    y0 = max(0, rows[0] * FOV_SAMPLE_STEP - FOV_SAMPLE_STEP)
    y1 = min(height, (rows[-1] + 2) * FOV_SAMPLE_STEP)
    x0 = max(0, cols[0] * FOV_SAMPLE_STEP - FOV_SAMPLE_STEP)
    x1 = min(width, (cols[-1] + 2) * FOV_SAMPLE_STEP)
    if (x1 - x0) < width // 8 or (y1 - y0) < height // 8:
        return CropBox(0, 0, width, height)
    return CropBox(int(x0), int(y0), int(x1), int(y1))


def resize(image: np.ndarray, width: int, height: int) -> np.ndarray:
    """Resize H×W×3 uint8 to height×width×3: an integer-factor area reduction (fast, no aliasing), then
    bilinear to the exact size. Several times faster than INTER_AREA at a fractional ratio."""
    factor = min(image.shape[1] // width, image.shape[0] // height)
    if factor > 1:
        image = cv2.resize(
            image, (image.shape[1] // factor, image.shape[0] // factor), interpolation=cv2.INTER_AREA
        )
    return cv2.resize(image, (width, height), interpolation=cv2.INTER_LINEAR)


def normalise_on_cpu(pixels: np.ndarray, mean: Sequence[float], std: Sequence[float]) -> np.ndarray:
    """(B, H, W, 3) uint8 → (B, 3, H, W) float32 contiguous, (x/255 - mean) / std per channel.

    One pass per channel, written straight into the planar output: several times faster than float
    conversion then transposition, and single-threaded on purpose (torch's parallel element-wise kernels
    stall when the decoder and encoders keep the cores busy).
    """
    batch, height, width, _ = pixels.shape
    normalised = np.empty((batch, 3, height, width), np.float32)
    for channel in range(3):
        plane = normalised[:, channel]  # (B, H, W) view of the output
        np.multiply(pixels[..., channel], 1.0 / (255.0 * std[channel]), out=plane, casting="unsafe")
        plane -= mean[channel] / std[channel]
    return normalised


def denormalise(batch: torch.Tensor, mean: Sequence[float], std: Sequence[float]) -> np.ndarray:
    """(B, 3, H, W) float normalised with mean/std → (B, H, W, 3) uint8 RGB on the host."""
    mean_t = torch.tensor(mean, device=batch.device).view(1, 3, 1, 1)
    std_t = torch.tensor(std, device=batch.device).view(1, 3, 1, 1)
    pixels = ((batch * std_t + mean_t) * 255.0).round().clamp(0, 255).to(torch.uint8)
    return np.ascontiguousarray(pixels.permute(0, 2, 3, 1).cpu().numpy())  # (B, 3, H, W) -> (B, H, W, 3)


def crop_and_resize(
    image: np.ndarray, input_size: Sequence[int], *, crop_fov: bool = True, fov_threshold: int = FOV_THRESHOLD
) -> tuple[np.ndarray, InputTransform]:
    """H×W×3 uint8 → (H'×W'×3 uint8 field of view resized to input_size (H', W'), its InputTransform)."""
    height, width = int(input_size[0]), int(input_size[1])
    box = (
        find_field_of_view(image, fov_threshold)
        if crop_fov
        else CropBox(0, 0, image.shape[1], image.shape[0])
    )
    crop = image[box.y0 : box.y1, box.x0 : box.x1]
    return resize(crop, width, height), InputTransform.of_crop(box, (height, width))


def to_network_input(
    image: np.ndarray, input_size: Sequence[int], mean: Sequence[float], std: Sequence[float]
) -> tuple[torch.Tensor, InputTransform]:
    """H×W×3 uint8 RGB → ((3, H', W') float32 normalised network input, its InputTransform)."""
    pixels, transform = crop_and_resize(image, input_size)
    return torch.from_numpy(normalise_on_cpu(pixels[None], mean, std)[0]), transform
