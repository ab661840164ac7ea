"""Training data of the quality gate: labelled EAD frames, clip frames and degraded copies of good frames.

Every sample is a frame as `streamer run` sees it (field of view cropped, resized to the input size), its
boxes of the three causes (blur, exposure = EAD `contrast`, saturation) in input pixels, and its label by
the rule of streamer.evaluate.quality_labels. Training items are augmented like the detector's and, for good
frames, replaced now and then by a degraded copy (defocus or motion blur, under- or over-exposure, noise,
haze, combined) whose whole view counts as covered by the matching causes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np
import torch
from torch.utils.data import Dataset

from streamer.evaluate.quality_labels import CAUSE_CLASSES, label_frame
from streamer.models.classifier import COVERAGE_CHANNELS
from streamer.preprocessing import crop_and_resize, normalise_on_cpu
from streamer.synthetic import DEGRADATIONS, degrade
from streamer.train.augment import AugmentConfig, augment
from streamer.train.datasets import LabelledImage, prepare_image
from streamer.train.video_split import image_size
from streamer.types import QUALITY_CAUSES

# which causes each generated degradation stands for (noise makes a frame bad without any of them)
DEGRADATION_CAUSES: dict[str, tuple[str, ...]] = {
    "defocus": ("blur",),
    "motion": ("blur",),
    "overexposure": ("exposure",),
    "underexposure": ("exposure",),
    "noise": (),
    "haze": ("exposure",),
    "combined": ("blur", "exposure"),
}
CLIPPED_LEVEL = 250  # grey level (0–255) from which a pixel of a degraded copy counts as saturated
DEFAULT_DEGRADE_PROBABILITY = 0.3  # share of good training items replaced by a degraded copy


@dataclass(frozen=True)
class QualitySample:
    """pixels: H×W×3 uint8 network-input view; boxes: (N, 4) float32 x1 y1 x2 y2 input pixels of the cause
    regions; causes: (N,) int64 index into QUALITY_CAUSES; bad: the rule's label; name: where it came from;
    source: what it came from as far as it can be told (the image size of an EAD frame, e.g. "512x512", or
    the clip's name): frames of one source look alike."""

    pixels: np.ndarray
    boxes: np.ndarray
    causes: np.ndarray
    bad: bool
    name: str
    source: str


def ead_sample(item: LabelledImage, classes: Sequence[str], input_size: Sequence[int]) -> QualitySample:
    """An EAD frame labelled by the rule on its full-image boxes; cause boxes kept in input pixels."""
    prepared = prepare_image(item, input_size, len(classes))
    width, height = image_size(item.image_path)
    source_names = [classes[int(i)] for i in prepared.source_labels]
    truth = label_frame(prepared.source_boxes, source_names, width, height)
    cause_of_class = {
        classes.index(CAUSE_CLASSES[cause]): index
        for index, cause in enumerate(QUALITY_CAUSES)
        if CAUSE_CLASSES[cause] in classes
    }
    cause_index = np.array([cause_of_class.get(int(label), -1) for label in prepared.labels], np.int64)
    keep = cause_index >= 0
    return QualitySample(
        pixels=prepared.pixels,
        boxes=prepared.boxes[keep].astype(np.float32).reshape(-1, 4),
        causes=cause_index[keep].astype(np.int64),
        bad=truth.bad,
        name=item.image_path.name,
        source=f"{width}x{height}",
    )


def good_frame_sample(image: np.ndarray, input_size: Sequence[int], name: str, source: str) -> QualitySample:
    """A frame known to be usable (the bundled clip's): no cause boxes, good."""
    pixels, _ = crop_and_resize(image, input_size)
    return QualitySample(pixels, np.zeros((0, 4), np.float32), np.zeros(0, np.int64), False, name, source)


def source_weights(samples: Sequence[QualitySample], power: float = 0.5) -> np.ndarray:
    """(N,) sampling weight of each sample, 1 / (frames of its source) ** power: a source with 4× the frames
    is drawn 2× (not 4×) as often at power 0.5, so that one large source does not set the rule alone."""
    counts: dict[str, int] = {}
    for sample in samples:
        counts[sample.source] = counts.get(sample.source, 0) + 1
    return np.array([counts[sample.source] ** -power for sample in samples], dtype=np.float64)


def coverage_targets(
    boxes: np.ndarray, causes: np.ndarray, image_shape: Sequence[int], grid: Sequence[int]
) -> np.ndarray:
    """(C + 1, gh, gw) float32: the share of each grid cell covered by each cause's boxes, then by any.

    boxes (N, 4) input pixels; causes (N,) indices into QUALITY_CAUSES; image_shape (H, W); grid (gh, gw).
    """
    height, width = int(image_shape[0]), int(image_shape[1])
    masks = np.zeros((COVERAGE_CHANNELS, height, width), np.float32)
    for (x1, y1, x2, y2), cause in zip(np.round(boxes).astype(int), causes, strict=True):
        masks[cause, max(0, y1) : max(0, y2), max(0, x1) : max(0, x2)] = 1.0
    masks[-1] = masks[:-1].max(axis=0)
    grid_h, grid_w = int(grid[0]), int(grid[1])
    return np.stack([cv2.resize(m, (grid_w, grid_h), interpolation=cv2.INTER_AREA) for m in masks])


def degraded_masks(
    degraded: np.ndarray, kind: str, boxes: np.ndarray, causes: np.ndarray, grid: Sequence[int]
) -> np.ndarray:
    """Coverage targets (C + 1, gh, gw) of a degraded copy: its causes cover the whole view, clipped pixels
    count as saturated, any cause boxes it had stay."""
    targets = coverage_targets(boxes, causes, degraded.shape[:2], grid)
    for cause in DEGRADATION_CAUSES[kind]:
        targets[QUALITY_CAUSES.index(cause)] = 1.0
    clipped = (cv2.cvtColor(degraded, cv2.COLOR_RGB2GRAY) >= CLIPPED_LEVEL).astype(np.float32)
    clipped_share = cv2.resize(clipped, (int(grid[1]), int(grid[0])), interpolation=cv2.INTER_AREA)
    saturation = QUALITY_CAUSES.index("saturation")
    targets[saturation] = np.maximum(targets[saturation], clipped_share)
    targets[-1] = 1.0
    return targets


class QualityDataset(Dataset):
    """Samples as (image (3, H, W) normalised, bad label () float32, coverage targets (C + 1, gh, gw)).

    train: augment each draw and replace good frames by a degraded copy with `degrade_probability`;
    otherwise items are the samples as they are (validation). grid: (gh, gw) of the coverage head.
    """

    def __init__(
        self,
        samples: Sequence[QualitySample],
        *,
        mean: Sequence[float],
        std: Sequence[float],
        grid: Sequence[int],
        train: bool,
        degrade_probability: float = DEFAULT_DEGRADE_PROBABILITY,
        augment_config: AugmentConfig | None = None,
        seed: int = 0,
    ) -> None:
        self.samples = list(samples)
        self.mean, self.std = mean, std
        self.grid = (int(grid[0]), int(grid[1]))
        self.train = train
        self.degrade_probability = degrade_probability
        self.augment_config = augment_config or AugmentConfig()
        self.rng = np.random.default_rng(seed)

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        sample = self.samples[index]
        image, boxes, causes, bad = sample.pixels, sample.boxes, sample.causes, sample.bad
        if self.train:
            image, boxes, causes = augment(image, boxes, causes, self.rng, self.augment_config)
        if self.train and not bad and self.rng.random() < self.degrade_probability:
            kind = DEGRADATIONS[int(self.rng.integers(len(DEGRADATIONS)))]
            image = degrade(image, kind, self.rng)
            targets, bad = degraded_masks(image, kind, boxes, causes, self.grid), True
        else:
            targets = coverage_targets(boxes, causes, image.shape[:2], self.grid)
        tensor = torch.from_numpy(normalise_on_cpu(np.ascontiguousarray(image)[None], self.mean, self.std)[0])
        return tensor, torch.tensor(float(bad)), torch.from_numpy(targets)
