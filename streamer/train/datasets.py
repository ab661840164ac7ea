"""EAD-format detection data: folders of images with YOLO label files, prepared as network inputs.

A folder holds either images/*.jpg|png with labels/*.txt, or images and .txt files side by side.
Label lines are `class cx cy w h`, all but class relative to the image size. Images whose names look like
`seqNNN_MMMM` belong to sequence `seqNNN`; any other image is its own sequence.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

from streamer.errors import DataError
from streamer.images import IMAGE_SUFFIXES, is_image_file, read_rgb
from streamer.preprocessing import InputTransform, crop_and_resize, normalise_on_cpu
from streamer.train.augment import AugmentConfig, augment

SEQUENCE_PATTERN = re.compile(r"^(.+?)_\d+$")


@dataclass(frozen=True)
class LabelledImage:
    """One image file, its YOLO label file (or None for an image without boxes) and its sequence name."""

    image_path: Path
    label_path: Path | None
    sequence: str


def read_image(path: Path) -> np.ndarray:
    """H×W×3 uint8 RGB image from a file; DataError when it cannot be decoded."""
    return read_rgb(path)


def read_yolo_labels(
    path: Path | None, width: int, height: int, num_classes: int
) -> tuple[np.ndarray, np.ndarray]:
    """(boxes (N, 4) float32 x1 y1 x2 y2 pixels, labels (N,) int64) from a YOLO `class cx cy w h` file."""
    rows: list[list[float]] = []
    if path is not None:
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            fields = line.split()
            if not fields:
                continue
            try:
                values = [float(v) for v in fields]
            except ValueError:
                raise DataError(f"{path}:{number}: expected `class cx cy w h`, got {line!r}") from None
            if len(values) != 5 or not values[0].is_integer() or not 0 <= values[0] < num_classes:
                raise DataError(f"{path}:{number}: expected `class cx cy w h` with class < {num_classes}")
            rows.append(values)
    table = np.array(rows, dtype=np.float32).reshape(-1, 5)  # (N*5,) -> (N, 5)
    cx, cy = table[:, 1] * width, table[:, 2] * height
    half_w, half_h = table[:, 3] * width / 2, table[:, 4] * height / 2
    boxes = np.stack([cx - half_w, cy - half_h, cx + half_w, cy + half_h], axis=1)
    boxes[:, [0, 2]] = boxes[:, [0, 2]].clip(0, width)
    boxes[:, [1, 3]] = boxes[:, [1, 3]].clip(0, height)
    return boxes.astype(np.float32), table[:, 0].astype(np.int64)


def scan_folder(folder: str | Path) -> list[LabelledImage]:
    """Every image of an EAD2019-format folder with its label file, sorted by name."""
    root = Path(folder)
    if not root.is_dir():
        raise DataError(f"dataset folder not found: {root}")
    image_dir = root / "images" if (root / "images").is_dir() else root
    label_dir = root / "labels" if (root / "labels").is_dir() else image_dir
    items = []
    for image_path in sorted(p for p in image_dir.iterdir() if is_image_file(p)):
        label_path = label_dir / f"{image_path.stem}.txt"
        match = SEQUENCE_PATTERN.match(image_path.stem)
        sequence = match.group(1) if match else image_path.stem
        items.append(LabelledImage(image_path, label_path if label_path.is_file() else None, sequence))
    if not items:
        raise DataError(f"{root}: no images ({', '.join(IMAGE_SUFFIXES)}) found")
    return items


@dataclass(frozen=True)
class PreparedImage:
    """An image as the network sees it: field of view cropped and resized to the input size.

    pixels: H'×W'×3 uint8; boxes: (N, 4) float32 x1 y1 x2 y2 input pixels; labels: (N,) int64;
    transform: input pixels → source pixels; source_boxes (M, 4) and source_labels (M,): every labelled
    box in source pixels, including those outside the field of view.
    """

    pixels: np.ndarray
    boxes: np.ndarray
    labels: np.ndarray
    transform: InputTransform
    source_boxes: np.ndarray
    source_labels: np.ndarray


def prepare_image(item: LabelledImage, input_size: Sequence[int], num_classes: int) -> PreparedImage:
    """Read an image and its labels and bring both to the network input, exactly as `streamer run` does."""
    image = read_image(item.image_path)
    height, width = image.shape[:2]
    source_boxes, labels = read_yolo_labels(item.label_path, width, height, num_classes)
    pixels, transform = crop_and_resize(image, input_size)
    boxes = transform.to_input(source_boxes)
    boxes[:, [0, 2]] = boxes[:, [0, 2]].clip(0, pixels.shape[1])
    boxes[:, [1, 3]] = boxes[:, [1, 3]].clip(0, pixels.shape[0])
    inside = ((boxes[:, 2] - boxes[:, 0]) >= 1) & ((boxes[:, 3] - boxes[:, 1]) >= 1)
    return PreparedImage(pixels, boxes[inside], labels[inside], transform, source_boxes, labels)


class DetectionDataset(Dataset):
    """Items of EAD-format folders as (image (3, H, W) normalised, boxes (N, 4) x1 y1 x2 y2 input px,
    labels (N,) int64): field of view cropped and resized to `input_size` like `streamer run`, then
    augmented when `augment_config` is given. Prepared images are kept in memory after their first use."""

    def __init__(
        self,
        items: Sequence[LabelledImage],
        *,
        input_size: Sequence[int],
        num_classes: int,
        mean: Sequence[float],
        std: Sequence[float],
        augment_config: AugmentConfig | None = None,
        seed: int = 0,
    ) -> None:
        self.items = list(items)
        self.input_size = (int(input_size[0]), int(input_size[1]))
        self.num_classes = num_classes
        self.mean, self.std = mean, std
        self.augment_config = augment_config
        self.rng = np.random.default_rng(seed)
        self._prepared: dict[int, PreparedImage] = {}

    def __len__(self) -> int:
        return len(self.items)

    def load(self, index: int) -> PreparedImage:
        """The prepared (unaugmented) image `index`."""
        if index not in self._prepared:
            self._prepared[index] = prepare_image(self.items[index], self.input_size, self.num_classes)
        return self._prepared[index]

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        prepared = self.load(index)
        image, boxes, labels = prepared.pixels, prepared.boxes, prepared.labels
        if self.augment_config is not None:
            image, boxes, labels = augment(image, boxes, labels, self.rng, self.augment_config)
        tensor = torch.from_numpy(normalise_on_cpu(image[None], self.mean, self.std)[0])
        return tensor, torch.from_numpy(boxes), torch.from_numpy(labels)


def collate_detections(
    batch: list[tuple[torch.Tensor, torch.Tensor, torch.Tensor]],
) -> tuple[torch.Tensor, list[torch.Tensor], list[torch.Tensor]]:
    """Stack images to (B, 3, H, W); boxes and labels stay per-image lists."""
    images, boxes, labels = zip(*batch, strict=True)
    return torch.stack(images), list(boxes), list(labels)
