"""Quality-gate training data: EAD frames labelled by the rule, cause maps, degraded copies."""

import numpy as np
import pytest

from streamer.paths import REPO_ROOT
from streamer.train.datasets import scan_folder
from streamer.train.detector import read_class_names
from streamer.train.quality_data import (
    QualityDataset,
    QualitySample,
    coverage_targets,
    degraded_masks,
    ead_sample,
    source_weights,
)

SUBSET = REPO_ROOT / "data" / "ead2020-subset"


def _good_sample(seed: int = 0, source: str = "made") -> QualitySample:
    rng = np.random.default_rng(seed)
    pixels = rng.integers(60, 200, (64, 64, 3), dtype=np.uint8)
    return QualitySample(pixels, np.zeros((0, 4), np.float32), np.zeros(0, np.int64), False, "made", source)


def test_coverage_targets_share_per_cell_and_union_channel():
    boxes = np.array([[0, 0, 32, 64], [16, 0, 48, 32]], np.float32)  # blur: left half; exposure: a quarter
    targets = coverage_targets(boxes, np.array([0, 1]), (64, 64), (2, 2))
    assert targets.shape == (4, 2, 2)
    assert targets[0].tolist() == [[1.0, 0.0], [1.0, 0.0]]
    assert targets[1].tolist() == [[0.5, 0.5], [0.0, 0.0]]
    assert targets[2].sum() == 0.0
    assert targets[3].mean() == pytest.approx((64 * 32 + 16 * 32) / 64**2)  # the union, not the sum


def test_a_defocused_copy_is_all_blur_and_a_noisy_one_bad_without_a_cause():
    image = _good_sample().pixels
    blur = degraded_masks(image, "defocus", np.zeros((0, 4)), np.zeros(0, np.int64), (2, 2))
    assert blur[0].min() == 1.0 and blur[1].max() == 0.0 and blur[3].min() == 1.0
    noise = degraded_masks(image, "noise", np.zeros((0, 4)), np.zeros(0, np.int64), (2, 2))
    assert noise[:2].max() == 0.0 and noise[3].min() == 1.0


def test_validation_items_are_the_samples_and_training_items_get_degraded():
    samples = [_good_sample(i) for i in range(4)]
    validation = QualityDataset(samples, mean=(0, 0, 0), std=(1, 1, 1), grid=(2, 2), train=False)
    image, bad, targets = validation[1]
    assert image.shape == (3, 64, 64) and float(bad) == 0.0 and targets.shape == (4, 2, 2)
    assert np.allclose(image.numpy().transpose(1, 2, 0) * 255, samples[1].pixels, atol=0.01)
    always = QualityDataset(
        samples, mean=(0, 0, 0), std=(1, 1, 1), grid=(2, 2), train=True, degrade_probability=1.0
    )
    assert all(float(always[i][1]) == 1.0 and always[i][2][3].min() == 1.0 for i in range(4))


def test_ead_frames_carry_the_rule_label_and_their_cause_boxes():
    items = scan_folder(SUBSET)
    classes = read_class_names([SUBSET])
    samples = [ead_sample(item, classes, (64, 64)) for item in items]
    assert any(s.bad for s in samples) and not all(s.bad for s in samples)
    assert all(s.pixels.shape == (64, 64, 3) for s in samples)
    assert all(set(s.causes.tolist()) <= {0, 1, 2} for s in samples)
    assert all("x" in s.source for s in samples)  # the image size stands for the source
    assert any(len(s.causes) for s in samples)


def test_a_source_four_times_larger_is_drawn_twice_as_often():
    samples = [_good_sample(i, "big") for i in range(4)] + [_good_sample(9, "small")]
    weights = source_weights(samples)
    assert weights[:4].sum() / weights[4] == pytest.approx(2.0)
