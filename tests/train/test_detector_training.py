"""Detector training on the bundled real frames: the loss falls, and a run writes a complete model folder."""

import json

import torch

from streamer.models.losses import DetectionLoss
from streamer.models.store import build_model, load_model
from streamer.paths import EAD2020_SUBSET
from streamer.train.datasets import DetectionDataset, collate_detections, scan_folder
from streamer.train.detector import LITE_DETECTOR, DetectorTrainConfig, train_detector
from streamer.train.loop import LoopConfig
from streamer.types import EAD2020_CLASSES

TINY = {
    **LITE_DETECTOR,
    "input_size": [128, 128],
    "backbone_width": 0.25,
    "fpn_channels": 32,
    "head_width": 32,
}


def test_a_short_overfit_run_drives_the_loss_down():
    torch.manual_seed(0)
    items = scan_folder(EAD2020_SUBSET)[:4]
    dataset = DetectionDataset(
        items, input_size=(128, 128), num_classes=8, mean=(0.485, 0.456, 0.406), std=(0.229, 0.224, 0.225)
    )
    images, boxes, labels = collate_detections([dataset[i] for i in range(len(dataset))])
    model = build_model({**TINY, "num_classes": 8}).train()
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    loss = DetectionLoss()
    history = []
    for _ in range(60):
        value = loss(*model.forward_train(images), model.anchors, boxes, labels)["loss"]
        optimizer.zero_grad()
        value.backward()
        optimizer.step()
        history.append(float(value.detach()))
    assert sum(history[-5:]) / 5 < 0.5 * sum(history[:5]) / 5


def test_training_writes_classes_thresholds_split_and_metrics(tmp_path, one_torch_thread):
    output = tmp_path / "model"
    config = DetectorTrainConfig(
        data=(EAD2020_SUBSET,),
        output=output,
        loop=LoopConfig(run_dir=tmp_path / "run", epochs=1, lr=1e-3, progress=False),
        architecture=TINY,
        validation_fraction=0.25,
    )
    _, metrics = train_detector(config)
    model, manifest = load_model(output)
    assert manifest.classes == EAD2020_CLASSES
    assert len(manifest.score_thresholds) == 8 and all(0 < t < 1 for t in manifest.score_thresholds)
    assert manifest.level_sizes == tuple(model.level_sizes())
    split = json.loads((output / "split.json").read_text())
    assert len(split["validation"]) == metrics["validation_images"] > 0
    assert len(split["train"]) + len(split["validation"]) == 30
    assert 0.0 <= metrics["validation_ead2019_score"] <= 1.0
    assert (output / "model.onnx").is_file()


def test_a_run_can_start_from_the_weights_of_another(tmp_path, one_torch_thread):
    torch.manual_seed(1)
    start = build_model({**TINY, "num_classes": 8})
    torch.save(
        {"model": start.state_dict(), "optimizer": {}}, tmp_path / "checkpoint.pt"
    )  # a run's checkpoint
    config = DetectorTrainConfig(
        data=(EAD2020_SUBSET,),
        output=tmp_path / "model",
        loop=LoopConfig(run_dir=tmp_path / "run", epochs=1, lr=0.0, progress=False, monitor="mAP"),
        architecture=TINY,
        validation_fraction=0.25,
        init_weights=tmp_path / "checkpoint.pt",
    )
    train_detector(config)
    trained, manifest = load_model(tmp_path / "model")
    for name, value in start.state_dict().items():
        if not name.endswith(("running_mean", "running_var", "num_batches_tracked")):  # BN statistics move
            assert torch.equal(trained.state_dict()[name], value), name  # lr 0: the weights stay as given
    training = json.loads((tmp_path / "model" / "manifest.json").read_text())["training"]
    assert training["init_weights"].endswith("checkpoint.pt") and manifest.metrics["selected_by"] == "mAP"
