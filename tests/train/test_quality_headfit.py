import json
from pathlib import Path

import numpy as np
import torch

from streamer.models.classifier import classifier
from streamer.models.retinanet import retinanet
from streamer.models.store import load_model
from streamer.paths import DEMO_CLIP
from streamer.train.loop import LoopConfig
from streamer.train.quality import PYRAMID_CLASSIFIER, QualityTrainConfig
from streamer.train.quality_headfit import (
    FrozenFeatures,
    HeadFitConfig,
    fit_coverage,
    fit_logistic,
    fit_quality_heads,
    install_heads,
)

SUBSET = Path(__file__).resolve().parents[2] / "data" / "ead2020-subset"


def _tiny_pyramid(degradation_head: bool = False):
    return classifier(
        backbone="lite_pyramid",
        input_size=(64, 64),
        width=0.25,
        fpn_channels=16,
        degradation_head=degradation_head,
    ).eval()


def _auc(labels: np.ndarray, scores: np.ndarray) -> float:
    positives, negatives = scores[labels], scores[~labels]
    return float((positives[:, None] > negatives[None, :]).mean())


def test_logistic_fit_ranks_a_noisy_linear_rule_and_l2_shrinks_it():
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(600, 5, generator=generator)
    y = ((x[:, 0] - 0.5 * x[:, 2] + 0.3 * torch.randn(600, generator=generator)) > 0).double()
    weight, bias = fit_logistic(x, y, 1e-4)
    scores = (x.double() @ weight + bias).numpy()
    assert _auc(y.numpy() > 0.5, scores) > 0.95
    assert weight[0] > 0 > weight[2] and abs(weight[1]) < 0.3 * weight[0]
    strong, _ = fit_logistic(x, y, 1.0)
    assert strong.norm() < 0.5 * weight.norm()


def test_either_head_can_call_a_frame_bad():
    model = _tiny_pyramid(degradation_head=True)
    with torch.no_grad():
        model.fc.weight.zero_()
        model.degradation.weight.zero_()
        for fc_bias, degradation_bias in ((-20.0, -20.0), (-20.0, 20.0), (0.0, 0.0), (20.0, -20.0)):
            model.fc.bias.fill_(fc_bias)
            model.degradation.bias.fill_(degradation_bias)
            p_bad = model(torch.randn(2, 3, 64, 64))["p_bad"]
            p_fc = torch.sigmoid(torch.tensor(fc_bias))
            p_degraded = torch.sigmoid(torch.tensor(degradation_bias))
            expected = torch.maximum(p_fc, p_degraded)
            assert torch.allclose(p_bad, expected.expand(2), atol=1e-5)


def test_installed_heads_normalise_the_statistics_and_separate_the_labels():
    model = _tiny_pyramid(degradation_head=True)
    generator = torch.Generator().manual_seed(1)
    features = model.features.pooled_channels
    statistics = 3 + 2 * torch.randn(200, features, generator=generator)
    bad = (statistics[:, 0] > 3).float()
    degraded_statistics = statistics[:50] + 4.0  # shifted along every channel
    maps = torch.randn(200, 16, 2, 2, generator=generator)
    targets = (maps[:, :1] > 0).float().expand(-1, 4, -1, -1).contiguous()
    real = FrozenFeatures(statistics, maps, bad, targets)
    install_heads(model, real, degraded_statistics, statistics[:50], HeadFitConfig(head_l2=1e-3))
    with torch.no_grad():
        normalised = model.features.norm(statistics)
        assert normalised.mean(0).abs().max() < 1e-3 and (normalised.std(0) - 1).abs().max() < 0.05
        real_scores = model.fc(normalised)[:, 0].numpy()
        degraded_scores = model.degradation(model.features.norm(torch.cat([statistics, degraded_statistics])))
        cells = torch.sigmoid(model.coverage(maps))
    assert _auc(bad.numpy() > 0.5, real_scores) > 0.95
    degraded_labels = np.r_[np.zeros(200), np.ones(50)] > 0.5
    assert _auc(degraded_labels, degraded_scores[:, 0].numpy()) > 0.95
    assert ((cells > 0.5) == (targets > 0.5)).float().mean() > 0.95  # the folded standardisation holds


def test_cause_maps_are_fitted_on_the_real_frames_only():
    """Degraded copies count their whole view as covered; they must not raise every real frame's causes."""
    generator = torch.Generator().manual_seed(3)
    statistics = torch.randn(120, _tiny_pyramid().features.pooled_channels, generator=generator)
    maps = torch.randn(120, 16, 2, 2, generator=generator)
    targets = (maps[:, :1] > 1).float().expand(-1, 4, -1, -1).contiguous()
    real = FrozenFeatures(statistics, maps, (statistics[:, 0] > 0).float(), targets)
    fitted = []
    for shift in (0.0, 5.0):  # the degraded copies' features differ between the two fits
        model = _tiny_pyramid(degradation_head=True)
        install_heads(model, real, statistics[:30] + shift, statistics[30:60], HeadFitConfig())
        fitted.append((model.coverage.weight.clone(), model.coverage.bias.clone()))
    assert torch.equal(fitted[0][0], fitted[1][0]) and torch.equal(fitted[0][1], fitted[1][1])
    assert not torch.equal(fitted[0][0], torch.zeros_like(fitted[0][0]))


def test_coverage_fit_folds_the_standardisation_into_the_convolution():
    model = _tiny_pyramid()
    generator = torch.Generator().manual_seed(2)
    maps = 10 + 5 * torch.randn(100, 16, 2, 2, generator=generator)  # far from standardised
    targets = (maps[:, 3:4] > 10).float().expand(-1, 4, -1, -1).contiguous()
    fit_coverage(model, maps, targets)
    with torch.no_grad():
        predicted = torch.sigmoid(model.coverage(maps)) > 0.5
    assert (predicted == (targets > 0.5)).float().mean() > 0.97


def test_head_fit_writes_a_gate_that_runs_from_its_folder(tmp_path):
    detector = retinanet(
        backbone="lite", backbone_width=0.25, fpn_channels=16, head_width=16, input_size=(64, 64)
    )
    torch.save(detector.state_dict(), tmp_path / "detector.pt")
    architecture = {
        **PYRAMID_CLASSIFIER,
        "input_size": [64, 64],
        "width": 0.25,
        "fpn_channels": 16,
        "degradation_head": True,
    }
    config = QualityTrainConfig(
        data=(SUBSET,),
        clip=DEMO_CLIP,
        output=tmp_path / "gate",
        loop=LoopConfig(run_dir=tmp_path / "run"),
        validation_fraction=0.3,
        name="tiny-gate",
        architecture=architecture,
        init_weights=tmp_path / "detector.pt",
    )
    metrics = fit_quality_heads(config, HeadFitConfig(degraded_passes=1))
    model, manifest = load_model(tmp_path / "gate")
    assert manifest.name == "tiny-gate" and manifest.architecture["degradation_head"] is True
    assert (tmp_path / "gate" / "model.onnx").is_file() and (tmp_path / "gate" / "split.json").is_file()
    assert metrics["validation_frames"] > 0 and metrics["train_frames"] >= 150  # the clip's good frames too
    assert 0 <= metrics["clip_test_accuracy"] <= 1
    # the frozen trunk is the detector's, unchanged
    first = next(iter(detector.backbone.state_dict()))
    assert torch.equal(model.features.trunk.state_dict()[first], detector.backbone.state_dict()[first])
    written = json.loads((tmp_path / "gate" / "manifest.json").read_text())
    assert written["metrics"]["fit"].startswith("closed form")
