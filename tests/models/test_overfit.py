import pytest
import torch

from streamer.models.losses import DetectionLoss
from streamer.models.retinanet import retinanet


@pytest.fixture
def one_thread():
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


def test_tiny_retinanet_overfits_one_batch(one_thread):
    torch.manual_seed(0)
    model = retinanet(
        backbone="lite",
        input_size=(64, 64),
        fpn_channels=16,
        head_width=16,
        head_depth=1,
        backbone_width=0.25,
    )
    images = torch.randn(2, 3, 64, 64)
    boxes = [
        torch.tensor([[8.0, 8.0, 40.0, 40.0]]),
        torch.tensor([[20.0, 10.0, 60.0, 34.0], [0.0, 30.0, 30.0, 64.0]]),
    ]
    labels = [torch.tensor([3]), torch.tensor([0, 6])]
    loss_fn = DetectionLoss()
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    losses = []
    for _ in range(40):
        logits, deltas = model.forward_train(images)
        loss = loss_fn(logits, deltas, model.anchors, boxes, labels)["loss"]
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < 0.3 * losses[0]
    scores = torch.sigmoid(logits.detach())
    assert scores[0, :, 3].max() > 0.5  # the labelled class of image 0 is now found
    assert scores[0, :, 5].max() < 0.2  # a class absent from the batch is not
