"""EAD2020-format folders: 8 classes from classes.txt, any resolution, prepared as `streamer run` does."""

import numpy as np
import pytest

from streamer.errors import DataError
from streamer.paths import EAD2019_SAMPLES, EAD2020_SUBSET
from streamer.preprocessing import crop_and_resize
from streamer.train.datasets import DetectionDataset, prepare_image, read_image, scan_folder
from streamer.train.detector import read_class_names
from streamer.types import EAD2019_CLASSES, EAD2020_CLASSES


def test_class_list_comes_from_the_folder():
    assert read_class_names([EAD2020_SUBSET]) == EAD2020_CLASSES
    assert read_class_names([EAD2019_SAMPLES]) == EAD2019_CLASSES  # no classes.txt: the EAD2019 list


def test_folders_with_different_class_lists_are_refused(tmp_path):
    (tmp_path / "classes.txt").write_text("tumour\npolyp\n")
    with pytest.raises(DataError, match="different classes"):
        read_class_names([EAD2020_SUBSET, tmp_path])


def test_mixed_resolutions_come_out_at_the_input_size_with_boxes_in_the_crop():
    items = scan_folder(EAD2020_SUBSET)
    sizes = {read_image(item.image_path).shape[:2] for item in items}
    assert len(sizes) >= 5
    dataset = DetectionDataset(items, input_size=(96, 128), num_classes=8, mean=(0.5,) * 3, std=(0.25,) * 3)
    labels_seen = set()
    for index in range(len(dataset)):
        prepared = dataset.load(index)
        assert prepared.pixels.shape == (96, 128, 3)
        assert (prepared.boxes[:, :2] >= 0).all()
        assert (prepared.boxes[:, 2] <= 128).all() and (prepared.boxes[:, 3] <= 96).all()
        labels_seen |= set(prepared.labels.tolist())
        tensor, boxes, labels = dataset[index]
        assert tensor.shape == (3, 96, 128) and boxes.shape[1] == 4 and len(labels) == len(boxes)
    assert labels_seen == set(range(8))  # blood (class 7) included


def test_preparation_is_the_pipelines_crop_and_resize():
    item = next(i for i in scan_folder(EAD2020_SUBSET) if i.image_path.stem == "01955")  # 768x576, border
    image = read_image(item.image_path)
    prepared = prepare_image(item, (160, 160), 8)
    pixels, transform = crop_and_resize(image, (160, 160))
    np.testing.assert_array_equal(prepared.pixels, pixels)
    assert transform.offset_x > 0 and transform.offset_y > 0  # the black border was cropped
    assert len(prepared.source_labels) == len(prepared.source_boxes) > 0
    inside = (prepared.source_boxes[:, 0] >= transform.offset_x) & (
        prepared.source_boxes[:, 1] >= transform.offset_y
    )
    scale = np.array([transform.scale_x, transform.scale_y] * 2)
    offset = np.array([transform.offset_x, transform.offset_y] * 2)
    back = transform.to_input(prepared.source_boxes[inside]) / scale + offset  # input pixels -> source again
    np.testing.assert_allclose(back, prepared.source_boxes[inside], atol=1e-3)
