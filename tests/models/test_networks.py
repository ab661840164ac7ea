import pytest
import torch

from streamer.errors import ConfigError
from streamer.models.backbones import BACKBONES, build_backbone
from streamer.models.classifier import classifier
from streamer.models.retinanet import retinanet
from streamer.types import EAD2019_CLASSES

LITE = {"backbone": "lite", "fpn_channels": 32, "head_width": 32, "head_depth": 1, "separable_heads": True}


@pytest.mark.parametrize(
    ("name", "channels"),
    [
        ("resnet18", (128, 256, 512)),
        ("resnet50", (512, 1024, 2048)),
        ("vgg16", (256, 512, 512)),
        ("lite", None),
    ],
)
def test_backbones_give_c3_c4_c5_at_strides_8_16_32(name, channels):
    backbone = build_backbone(name).eval()
    with torch.no_grad():
        features = backbone(torch.zeros(1, 3, 64, 96))
    assert [tuple(f.shape[-2:]) for f in features] == [(8, 12), (4, 6), (2, 3)]
    assert tuple(f.shape[1] for f in features) == backbone.out_channels
    if channels:
        assert backbone.out_channels == channels


def test_every_paper_backbone_builds():
    assert set(BACKBONES) >= {"resnet18", "resnet34", "resnet50", "resnet101", "resnet152", "vgg16", "vgg19"}
    params = {
        name: sum(p.numel() for p in build_backbone(name).parameters()) for name in ("resnet34", "vgg19")
    }
    assert 21e6 < params["resnet34"] < 22e6  # ResNet-34 trunk without its classifier: 21.3 M
    assert 20e6 < params["vgg19"] < 20.1e6  # VGG-19 convolutions with BatchNorm: 20.04 M
    with pytest.raises(ConfigError, match="unknown backbone"):
        build_backbone("resnet9")


@pytest.mark.parametrize("kwargs", [LITE, {"backbone": "resnet18", "head_width": 64, "head_depth": 2}])
def test_retinanet_output_contract(kwargs):
    model = retinanet(input_size=(128, 96), **kwargs).eval()
    anchors = sum(model.level_sizes())
    assert model.level_sizes() == [16 * 12 * 9, 8 * 6 * 9, 4 * 3 * 9, 2 * 2 * 9, 1 * 1 * 9]
    with torch.no_grad():
        out = model(torch.randn(2, 3, 128, 96))
        logits, deltas = model.forward_train(torch.randn(3, 3, 128, 96))
    assert out["boxes"].shape == (2, anchors, 4)
    assert out["scores"].shape == (2, anchors, len(EAD2019_CLASSES))
    assert logits.shape == (3, anchors, 7) and deltas.shape == (3, anchors, 4)
    assert (out["scores"] >= 0).all() and (out["scores"] <= 1).all()
    assert (out["boxes"][..., 2] > out["boxes"][..., 0]).all()


def test_untrained_retinanet_starts_at_the_prior():
    model = retinanet(input_size=(64, 64), **LITE).eval()
    with torch.no_grad():
        scores = model(torch.randn(1, 3, 64, 64))["scores"]
    assert abs(scores.mean().item() - 0.01) < 0.005


def test_retinanet_rejects_the_wrong_input_size():
    model = retinanet(input_size=(64, 64), **LITE).eval()
    with pytest.raises(ValueError, match="expects input"):
        model(torch.zeros(1, 3, 96, 64))


def test_head_reshape_keeps_anchor_order():
    model = retinanet(input_size=(64, 64), **LITE).eval()
    head = model.classification
    with torch.no_grad():
        head.predict.weight.zero_()
        head.predict.bias.copy_(torch.arange(9 * 7, dtype=torch.float32))  # channel a*K + k
        flat = head([torch.zeros(1, 32, 2, 3)])
    assert flat.shape == (1, 2 * 3 * 9, 7)
    assert flat[0, 0].tolist() == list(range(7))  # cell (0, 0), anchor 0
    assert flat[0, 10].tolist() == list(range(7, 14))  # cell (0, 1), anchor 1


@pytest.mark.parametrize("backbone", ["lite", "efficientnet_b0", "lite_pyramid"])
def test_classifier_outputs(backbone):
    model = classifier(backbone=backbone, input_size=(64, 64)).eval()
    with torch.no_grad():
        out = model(torch.randn(3, 3, 64, 64))
        bad_logit, coverage = model.forward_train(torch.randn(2, 3, 64, 64))
    assert out["p_bad"].shape == (3,)
    assert ((out["p_bad"] >= 0) & (out["p_bad"] <= 1)).all()
    assert out["causes"].shape == (3, 3)
    assert ((out["causes"] >= 0) & (out["causes"] <= 1)).all()
    assert bad_logit.shape == (2,)
    assert coverage.shape == (2, 4, 2, 2)  # blur, exposure, saturation, any on the stride-32 grid


def test_efficientnet_b0_has_its_published_size():
    params = sum(p.numel() for p in classifier(backbone="efficientnet_b0").parameters())
    assert 4.0e6 < params < 4.02e6  # 5.29 M with the 1000-class layer; 4.01 M with the quality heads


def test_a_frozen_pyramid_classifier_trains_its_head_only():
    model = classifier(backbone="lite_pyramid", input_size=(64, 64), width=0.25, fpn_channels=16)
    model.features.freeze()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    optimiser = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.1)
    model.train()
    for _ in range(2):
        bad_logit, coverage = model.forward_train(torch.randn(4, 3, 64, 64))
        (bad_logit.square().mean() + coverage.square().mean()).backward()
        optimiser.step()
    after = model.state_dict()
    changed = {k for k in before if not torch.equal(before[k], after[k])}
    assert changed and all(k.startswith(("fc.", "coverage.", "features.norm.")) for k in changed)
    assert not any(k.startswith(("features.trunk.", "features.fpn.")) for k in changed)  # BN statistics too


def test_the_pyramid_classifier_starts_from_a_lite_detectors_trunk_and_pyramid(tmp_path):
    from streamer.models.retinanet import retinanet
    from streamer.train.quality import init_weights

    detector = retinanet(
        backbone="lite", backbone_width=0.25, fpn_channels=16, head_width=16, input_size=(64, 64)
    )
    torch.save(detector.state_dict(), tmp_path / "model.pt")
    model = classifier(backbone="lite_pyramid", input_size=(64, 64), width=0.25, fpn_channels=16)
    missing, unexpected = model.load_state_dict(init_weights(tmp_path / "model.pt"), strict=False)
    assert not unexpected and all(k.startswith(("fc.", "coverage.", "features.norm.")) for k in missing)
    assert torch.equal(model.features.fpn.p6.weight, detector.fpn.p6.weight)
    first_trunk_key = next(iter(detector.backbone.state_dict()))
    assert torch.equal(
        model.features.trunk.state_dict()[first_trunk_key], detector.backbone.state_dict()[first_trunk_key]
    )
