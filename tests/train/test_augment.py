import numpy as np
import pytest

from streamer.train.augment import AugmentConfig, augment, transform_boxes


def _white_box_image(box):
    image = np.zeros((120, 160, 3), np.uint8)
    x1, y1, x2, y2 = box
    image[y1:y2, x1:x2] = 255
    return image


@pytest.mark.parametrize("seed", range(6))
def test_boxes_follow_the_image(seed):
    box = (40, 30, 90, 70)
    image = _white_box_image(box)
    rng = np.random.default_rng(seed)
    no_colour = AugmentConfig(channel_shift_probability=0.0, noise_probability=0.0)
    out, boxes, labels = augment(image, np.array([box], np.float32), np.array([4]), rng, no_colour)
    assert out.shape == image.shape and labels.tolist() == [4]
    ys, xs = np.nonzero(out[..., 0] > 127)
    drawn = np.array([xs.min(), ys.min(), xs.max() + 1, ys.max() + 1], np.float32)
    # the moved box encloses the moved white rectangle (a rotated rectangle's enclosing box)
    assert np.all(np.abs(boxes[0] - drawn) <= 3.0), (boxes[0], drawn)


def test_flips_only_mirror_boxes_exactly():
    image = _white_box_image((10, 20, 30, 50))
    identity = AugmentConfig(
        rotation=0,
        translation=0,
        shear=0,
        scale=(1, 1),
        flip_probability=1.0,
        channel_shift_probability=0,
        noise_probability=0,
    )
    out, boxes, _ = augment(
        image, np.array([[10, 20, 30, 50]], np.float32), np.array([0]), np.random.default_rng(0), identity
    )
    assert boxes.tolist() == [[130.0, 70.0, 150.0, 100.0]]
    assert np.array_equal(out, image[::-1, ::-1])


def test_boxes_pushed_out_of_the_image_are_dropped():
    shift_right = np.array([[1.0, 0.0, 200.0], [0.0, 1.0, 0.0]])
    boxes, keep = transform_boxes(np.array([[0, 0, 10, 10], [100, 0, 150, 10]], float), shift_right, 160, 120)
    assert keep.tolist() == [False, False]
    boxes, keep = transform_boxes(np.array([[0, 0, 10, 10]], float), np.eye(2, 3), 160, 120)
    assert keep.tolist() == [True] and boxes.tolist() == [[0, 0, 10, 10]]
