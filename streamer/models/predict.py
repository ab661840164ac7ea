"""Quality prediction with a stored model (torch, CPU), for quality training and its clip test.
`streamer run` and `streamer classify` run engines instead, through the same preprocessing.

Images are H×W×3 uint8 RGB, cropped to the field of view and resized as `streamer run` does.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from streamer.models.store import ModelManifest
from streamer.preprocessing import to_network_input


def quality_p_bad(model: nn.Module, manifest: ModelManifest, images: list[np.ndarray]) -> np.ndarray:
    """(N,) float probability that each image is bad."""
    batch = torch.stack(
        [to_network_input(i, manifest.input_size, manifest.mean, manifest.std)[0] for i in images]
    )
    with torch.no_grad():
        return model(batch)["p_bad"].numpy()
