import torch

from streamer.models.postprocess import greedy_nms, select_detections


def test_greedy_nms_keeps_the_best_of_overlapping_boxes():
    boxes = torch.tensor([[0.0, 0.0, 10.0, 10.0], [1.0, 0.0, 11.0, 10.0], [20.0, 20.0, 30.0, 30.0]])
    scores = torch.tensor([0.6, 0.9, 0.5])
    assert greedy_nms(boxes, scores, 0.5).tolist() == [1, 2]


def test_select_detections_thresholds_and_keeps_classes_apart():
    boxes = torch.tensor([[0.0, 0.0, 10.0, 10.0], [1.0, 0.0, 11.0, 10.0], [50.0, 50.0, 60.0, 60.0]])
    scores = torch.tensor([[0.9, 0.8], [0.7, 0.01], [0.02, 0.03]])
    kept_boxes, kept_scores, labels = select_detections(boxes, scores, score_threshold=0.05)
    assert labels.tolist() == [0, 1]  # anchor 1 class 0 suppressed by anchor 0; class 1 survives beside it
    assert kept_scores.tolist() == [0.8999999761581421, 0.800000011920929]
    assert torch.equal(kept_boxes, boxes[[0, 0]])
