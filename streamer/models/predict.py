"""Single-image prediction with a stored model (torch, CPU): the reference used by `streamer classify`,
model cards and training checks. The streaming pipeline runs engines instead.

Images are H×W×3 uint8 RGB, cropped to the field of view and resized as `streamer run` does.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from streamer.fusion.decode import DecodeConfig, decode_detections
from streamer.models.store import ModelManifest
from streamer.preprocessing import to_network_input


def quality_p_bad(model: nn.Module, manifest: ModelManifest, images: list[np.ndarray]) -> np.ndarray:
    """(N,) float probability that each image is bad."""
    batch = torch.stack(
        [to_network_input(i, manifest.input_size, manifest.mean, manifest.std)[0] for i in images]
    )
    with torch.no_grad():
        return model(batch)["p_bad"].numpy()


def detect(
    model: nn.Module, manifest: ModelManifest, image: np.ndarray, *, score_threshold: float = 0.05
) -> list[dict[str, object]]:
    """Records {box: [x1, y1, x2, y2] image pixels, score, label: class name} after class-wise NMS."""
    tensor, transform = to_network_input(image, manifest.input_size, manifest.mean, manifest.std)
    with torch.no_grad():
        outputs = model(tensor.unsqueeze(0))
    detections = decode_detections(
        outputs,
        [[transform.scale_x, transform.scale_y, transform.offset_x, transform.offset_y]],
        config=DecodeConfig(score_threshold=score_threshold),
        level_sizes=manifest.level_sizes,
        input_size=manifest.input_size,
    )[0]
    return detections.to_records(manifest.classes)
