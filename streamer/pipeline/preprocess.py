"""Preprocess: crop the black border around the endoscope's field of view, resize, normalise, batch."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from streamer.backends.base import EngineSpec
from streamer.preprocessing import CropBox, InputTransform, find_field_of_view, normalise_on_cpu, resize


class FieldOfViewTracker:
    """Locates the field of view every `refresh_frames` frames (it moves rarely) and reuses it in between."""

    def __init__(self, *, enabled: bool, threshold: int, refresh_frames: int) -> None:
        self._enabled = enabled
        self._threshold = threshold
        self._refresh = max(1, refresh_frames)
        self._box: CropBox | None = None
        self._age = 0
        self._shape: tuple[int, ...] = ()

    def crop_box(self, image: np.ndarray) -> CropBox:
        height, width = image.shape[:2]
        if not self._enabled:
            return CropBox(0, 0, width, height)
        if self._box is None or self._age >= self._refresh or image.shape != self._shape:
            self._box = find_field_of_view(image, self._threshold)
            self._age = 0
            self._shape = image.shape
        self._age += 1
        return self._box


def normalise_on_device(pixels: torch.Tensor, spec: EngineSpec) -> torch.Tensor:
    """(B, H, W, 3) uint8 on the device → (B, 3, H, W) float32 normalised, contiguous."""
    mean = torch.tensor(spec.mean, device=pixels.device).view(1, 3, 1, 1) * 255.0
    std = torch.tensor(spec.std, device=pixels.device).view(1, 3, 1, 1) * 255.0
    chw = pixels.permute(0, 3, 1, 2).contiguous()  # (B, H, W, 3) -> (B, 3, H, W)
    return chw.float().sub_(mean).div_(std)


@dataclass
class PreparedBatch:
    """Crops of one batch of frames and the network inputs made from them, cached per engine input format.

    crops: H'×W'×3 uint8 views into the source images.
    """

    crops: list[np.ndarray]
    boxes: list[CropBox]
    device: torch.device
    _inputs: dict[tuple, tuple[torch.Tensor, list[InputTransform]]]

    def inputs_for(
        self, spec: EngineSpec, select: list[int] | None = None
    ) -> tuple[torch.Tensor, list[InputTransform]]:
        """Normalised (B, 3, H, W) float32 batch for `spec` on the device, with each image's transform.

        select: indices of the frames to include (default all).
        """
        key = (spec.input_size, spec.mean, spec.std)
        if key not in self._inputs:
            self._inputs[key] = self._build(spec)
        tensor, transforms = self._inputs[key]
        if select is None or select == list(range(len(transforms))):
            return tensor, transforms
        if tensor.device.type == "cpu":  # numpy indexing: no torch thread pool for a plain copy
            return torch.from_numpy(tensor.numpy()[select]), [transforms[i] for i in select]
        index = torch.tensor(select, dtype=torch.long, device=tensor.device)
        return tensor.index_select(0, index), [transforms[i] for i in select]

    def _build(self, spec: EngineSpec) -> tuple[torch.Tensor, list[InputTransform]]:
        height, width = spec.input_size
        pixels = np.stack([resize(crop, width, height) for crop in self.crops])  # (B, H, W, 3) uint8
        if self.device.type == "cpu":
            tensor = torch.from_numpy(normalise_on_cpu(pixels, spec.mean, spec.std))
        else:
            tensor = normalise_on_device(torch.from_numpy(pixels).to(self.device, non_blocking=True), spec)
        transforms = [InputTransform.of_crop(box, (height, width)) for box in self.boxes]
        return tensor, transforms


class Preprocessor:
    """Crops each frame to its field of view; network inputs are built lazily per engine format."""

    def __init__(
        self, *, crop_fov: bool, fov_threshold: int, fov_refresh_frames: int, device: torch.device
    ) -> None:
        self._tracker = FieldOfViewTracker(
            enabled=crop_fov, threshold=fov_threshold, refresh_frames=fov_refresh_frames
        )
        self._device = device

    def prepare(self, images: list[np.ndarray]) -> PreparedBatch:
        """images: H×W×3 uint8 RGB frames of one batch."""
        boxes = [self._tracker.crop_box(image) for image in images]
        crops = [image[box.y0 : box.y1, box.x0 : box.x1] for image, box in zip(images, boxes, strict=True)]
        return PreparedBatch(crops=crops, boxes=boxes, device=self._device, _inputs={})
