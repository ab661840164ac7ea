import cv2
import numpy as np
import pytest
import torch

from streamer.errors import DataError
from streamer.train.datasets import (
    DetectionDataset,
    collate_detections,
    read_yolo_labels,
    scan_folder,
)


def test_yolo_labels_become_pixel_corners(tmp_path):
    path = tmp_path / "a.txt"
    path.write_text("3 0.5 0.25 0.2 0.1\n\n6 0.1 0.1 0.4 0.4\n")
    boxes, labels = read_yolo_labels(path, 200, 100, 7)
    assert labels.tolist() == [3, 6]
    assert np.allclose(boxes, [[80, 20, 120, 30], [0, 0, 60, 30]])  # second box clipped at the border


@pytest.mark.parametrize(
    "line", ["7 0.5 0.5 0.1 0.1", "1 0.5 0.5 0.1", "x 0.5 0.5 0.1 0.1", "1.5 0.5 0.5 0.1 0.1"]
)
def test_malformed_label_lines_are_data_errors(tmp_path, line):
    path = tmp_path / "bad.txt"
    path.write_text(line + "\n")
    with pytest.raises(DataError, match=r"bad\.txt:1"):
        read_yolo_labels(path, 100, 100, 7)


def test_scan_folder_and_dataset_on_both_layouts(tmp_path):
    (tmp_path / "images").mkdir()
    (tmp_path / "labels").mkdir()
    for name in ("seq000_0000", "seq000_0001", "seq001_0000"):
        cv2.imwrite(str(tmp_path / "images" / f"{name}.jpg"), np.full((64, 128, 3), 90, np.uint8))
        (tmp_path / "labels" / f"{name}.txt").write_text("1 0.5 0.5 0.5 0.5\n")
    items = scan_folder(tmp_path)
    assert [i.sequence for i in items] == ["seq000", "seq000", "seq001"]
    dataset = DetectionDataset(items, input_size=(32, 32), num_classes=7, mean=(0, 0, 0), std=(1, 1, 1))
    images, boxes, labels = collate_detections([dataset[0], dataset[2]])
    assert images.shape == (2, 3, 32, 32)
    assert torch.allclose(boxes[0], torch.tensor([[8.0, 8.0, 24.0, 24.0]]))
    assert labels[1].tolist() == [1]
    with pytest.raises(DataError, match="no images"):
        scan_folder(tmp_path / "labels")
