"""Synthetic frames and videos: determinism, box validity, every class, smooth camera."""

import cv2
import numpy as np
import pytest

from streamer.errors import ConfigError
from streamer.synthetic import DEGRADATIONS, SyntheticVideo, generate_frame
from streamer.types import EAD2019_CLASSES

SMALL = (192, 160)


def test_same_seed_gives_identical_frame_and_boxes():
    first, second = generate_frame(7, SMALL), generate_frame(7, SMALL)
    assert first.image.tobytes() == second.image.tobytes()
    np.testing.assert_array_equal(first.boxes, second.boxes)
    np.testing.assert_array_equal(first.labels, second.labels)


def test_different_seeds_give_different_frames():
    assert generate_frame(1, SMALL).image.tobytes() != generate_frame(2, SMALL).image.tobytes()


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("size", [(160, 160), (224, 128)])
def test_boxes_are_inside_the_image_and_not_degenerate(seed, size):
    sample = generate_frame(seed, size)
    width, height = size
    assert sample.image.shape == (height, width, 3) and sample.image.dtype == np.uint8
    assert sample.boxes.dtype == np.float32 and sample.labels.dtype == np.int64
    assert sample.boxes.shape == (len(sample.labels), 4)
    x1, y1, x2, y2 = sample.boxes.T
    assert np.all((x1 >= 0) & (y1 >= 0) & (x2 <= width) & (y2 <= height))
    assert np.all((x2 - x1 >= 2) & (y2 - y1 >= 2))
    assert np.all((sample.labels >= 0) & (sample.labels < len(EAD2019_CLASSES)))


@pytest.mark.parametrize("label", range(len(EAD2019_CLASSES)))
def test_every_class_can_be_drawn_alone(label):
    sample = generate_frame(3, (192, 192), classes=[label])
    assert set(sample.labels.tolist()) == {label}
    grey = cv2.cvtColor(sample.image, cv2.COLOR_RGB2GRAY)
    for x1, y1, x2, y2 in sample.boxes.astype(int):
        assert grey[y1:y2, x1:x2].max() > 20, "a box lies on the black border"


def test_no_classes_gives_clean_tissue_without_boxes():
    sample = generate_frame(5, SMALL, classes=[])
    assert len(sample.labels) == 0
    red, green, blue = sample.image[sample.image.max(axis=2) > 0].mean(axis=0)  # (pixels, 3) -> (3,)
    assert red > 100 and red > green + 30 and red > blue + 30, "tissue should be lit pink-red"


def test_specularity_boxes_are_tight_around_bright_pixels():
    sample = generate_frame(11, (256, 256), classes=[0])
    grey = cv2.cvtColor(sample.image, cv2.COLOR_RGB2GRAY).astype(np.float32)
    tissue_level = np.median(grey[grey > 20])
    for x1, y1, x2, y2 in sample.boxes.astype(int):
        edges = (grey[y1, x1:x2], grey[y2 - 1, x1:x2], grey[y1:y2, x1], grey[y1:y2, x2 - 1])
        for edge in edges:
            assert edge.max() > 1.25 * tissue_level


@pytest.mark.parametrize(("size", "classes"), [((32, 200), None), ((200, 200), [7]), ((200, 200), [-1])])
def test_bad_arguments_raise_config_error(size, classes):
    with pytest.raises(ConfigError):
        generate_frame(0, size, classes)


def test_video_frames_are_deterministic_and_iterable():
    video = SyntheticVideo(4, SMALL, fps=25)
    iterated = [sample for _, sample in zip(range(3), video, strict=False)]
    again = SyntheticVideo(4, SMALL, fps=25).frame(2)
    assert iterated[2].image.tobytes() == again.image.tobytes()
    np.testing.assert_array_equal(iterated[2].boxes, again.boxes)
    assert (video.seed, video.size, video.fps) == (4, SMALL, 25.0)


def test_video_camera_moves_smoothly():
    video = SyntheticVideo(9, SMALL, fps=25)
    offsets = np.array([video.offset(i) for i in range(75)])  # (frames, 2)
    steps = np.abs(np.diff(offsets, axis=0)).max()
    assert np.abs(offsets - offsets[0]).max() > 0, "the camera never moves"
    assert steps <= 3, "the camera jumps between consecutive frames"
    first, second = video.frame(0).image.astype(np.int16), video.frame(1).image.astype(np.int16)
    other = SyntheticVideo(10, SMALL, fps=25).frame(0).image.astype(np.int16)
    assert np.abs(first - second).mean() < 0.5 * np.abs(first - other).mean()


def test_video_bad_stretches_are_degraded_whole_seconds():
    video = SyntheticVideo(12, (96, 96), fps=5, bad_share=0.5)
    kinds = [video.frame(i).degradation for i in range(100)]  # 20 one-second stretches
    stretches = [set(kinds[i : i + 5]) for i in range(0, 100, 5)]
    assert all(len(stretch) == 1 for stretch in stretches), "a stretch mixes clean and degraded frames"
    bad = sum(stretch != {None} for stretch in stretches)
    assert 3 <= bad <= 17
    assert all(kind in DEGRADATIONS for kind in kinds if kind is not None)
    clean = SyntheticVideo(12, (96, 96), fps=5)
    index = kinds.index(next(kind for kind in kinds if kind is not None))
    assert clean.frame(index).degradation is None
    assert clean.frame(index).image.tobytes() != video.frame(index).image.tobytes()
    assert (
        video.frame(index).image.tobytes()
        == SyntheticVideo(12, (96, 96), 5, bad_share=0.5).frame(index).image.tobytes()
    )


@pytest.mark.parametrize("arguments", [{"seed": -1}, {"seed": 0, "fps": 0}, {"seed": 0, "bad_share": 1.5}])
def test_video_rejects_bad_arguments(arguments):
    with pytest.raises(ConfigError):
        SyntheticVideo(**arguments)
