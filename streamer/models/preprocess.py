"""Image -> network input: stretch to the model's input size, scale to [0, 1], normalise per channel."""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np
import torch


def to_network_input(
    image: np.ndarray, input_size: Sequence[int], mean: Sequence[float], std: Sequence[float]
) -> torch.Tensor:
    """H×W×3 uint8 RGB -> (3, H', W') float32 normalised, stretched to input_size (H', W')."""
    height, width = int(input_size[0]), int(input_size[1])
    resized = cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA)
    scaled = (resized.astype(np.float32) / 255.0 - np.asarray(mean, np.float32)) / np.asarray(std, np.float32)
    return torch.from_numpy(scaled.transpose(2, 0, 1).copy())  # (H, W, 3) -> (3, H, W)
