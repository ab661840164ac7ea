"""Single-image prediction with a stored model (torch, CPU): the reference used by `streamer classify`,
model cards and training checks. The streaming pipeline runs engines instead.

Images are H×W×3 uint8 RGB; the whole image is stretched to the model's input size.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from streamer.fusion.decode import DecodeConfig, decode_detections
from streamer.models.preprocess import to_network_input
from streamer.models.store import ModelManifest


def quality_p_bad(model: nn.Module, manifest: ModelManifest, images: list[np.ndarray]) -> np.ndarray:
    """(N,) float probability that each image is bad."""
    batch = torch.stack(
        [to_network_input(i, manifest.input_size, manifest.mean, manifest.std) for i in images]
    )
    with torch.no_grad():
        return model(batch)["p_bad"].numpy()


def detect(
    model: nn.Module, manifest: ModelManifest, image: np.ndarray, *, score_threshold: float = 0.05
) -> list[dict[str, object]]:
    """Records {box: [x1, y1, x2, y2] image pixels, score, label: class name} after class-wise NMS."""
    height, width = image.shape[:2]
    batch = to_network_input(image, manifest.input_size, manifest.mean, manifest.std).unsqueeze(0)
    with torch.no_grad():
        outputs = model(batch)
    input_h, input_w = manifest.input_size
    detections = decode_detections(
        outputs,
        [[input_w / width, input_h / height, 0.0, 0.0]],  # the whole image was stretched to the input
        config=DecodeConfig(score_threshold=score_threshold),
        input_size=(input_h, input_w),
    )[0]
    return detections.to_records(manifest.classes)
