"""Fuser facade: mode selection, configuration errors, batches, post-filter."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from streamer.errors import ConfigError, DataError
from streamer.fusion import FUSION_MODES, Fuser, FusionConfig, fuse
from streamer.fusion import fuser as fuser_module
from streamer.fusion.wbf import FusionNotSettled
from streamer.types import EAD2019_CLASSES, Detections
from tests.fusion import reference
from tests.fusion.helpers import random_objects, random_rows, to_detections, to_rows


def sample_models(seed: int = 0, models: int = 3, count: int = 12) -> list[Detections]:
    rng = np.random.default_rng(seed)
    objects = random_objects(rng, 4, tied=False)
    return [to_detections(random_rows(rng, count, objects=objects, tied=False)) for _ in range(models)]


@pytest.mark.parametrize("mode", FUSION_MODES)
def test_every_mode_returns_valid_sorted_detections(mode: str) -> None:
    per_model = sample_models()
    fused = fuse(per_model, config=FusionConfig(mode=mode))
    assert len(fused) > 0
    assert fused.boxes.dtype == torch.float32 and fused.labels.dtype == torch.int64
    assert bool((fused.scores[:-1] >= fused.scores[1:]).all())
    assert bool((fused.scores <= 1.0).all())


def test_nms_mode_is_class_aware_nms_over_all_models_after_threshold() -> None:
    per_model = sample_models(seed=3)
    fused = fuse(per_model, config=FusionConfig(mode="nms", iou_threshold=0.4, post_filter=False))
    rows = [row for model in per_model for row in to_rows(model) if row[1] >= 0.2]
    boxes, scores, labels = zip(*rows, strict=True)
    expected = [rows[i] for i in reference.nms(list(boxes), list(scores), 0.4, list(labels))]
    assert to_rows(fused) == expected


def test_post_filter_applies_after_fusion() -> None:
    outer = ((0.0, 0.0, 100.0, 100.0), 0.9, 0)
    inner = ((10.0, 10.0, 40.0, 40.0), 0.8, 0)
    per_model = [to_detections([outer, inner])]
    assert len(fuse(per_model, config=FusionConfig(mode="nms", post_filter=False))) == 2
    assert to_rows(fuse(per_model, config=FusionConfig(mode="nms"))) == to_rows(per_model[0])[1:]


@pytest.mark.parametrize("mode", FUSION_MODES)
def test_fuse_batch_equals_fusing_each_image_alone(mode: str) -> None:
    images = [sample_models(seed=seed) for seed in (1, 2, 3)]
    images[1] = [to_detections([]) for _ in images[1]]  # an image without detections
    fuser = Fuser(FusionConfig(mode=mode))
    batch = fuser.fuse_batch([list(per_image) for per_image in zip(*images, strict=True)])
    assert [to_rows(d) for d in batch] == [to_rows(fuser.fuse(per_model)) for per_model in images]
    assert len(batch[1]) == 0


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"mode": "vote"}, "fusion mode must be one of"),
        ({"per_model_threshold": 1.5}, "per_model_threshold"),
        ({"iou_threshold": -0.1}, "iou_threshold"),
        ({"root_weight": 0.0}, "root_weight"),
        ({"confidence_weight": 0.0}, "confidence_weight must be > 0"),
        ({"vote_threshold": 0.0}, "vote_threshold must be > 0"),
        ({"vote_threshold": {"polyp": 1.0}}, "unknown classes \\['polyp'\\]"),
        ({"soft_nms_method": "cubic"}, "soft_nms_method"),
        ({"model_weights": (1.0, -1.0)}, "model_weights"),
    ],
)
def test_bad_config_raises_config_error(kwargs: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        FusionConfig(**kwargs)


def test_config_from_profile_section() -> None:
    config = FusionConfig.from_mapping(
        {"mode": "wbf", "model_weights": [1.0, 2.0], "vote_threshold": {"blur": 1.0}}
    )
    assert config.model_weights == (1.0, 2.0)
    assert config.vote_thresholds(2)[EAD2019_CLASSES.index("blur")].item() == 1.0
    with pytest.raises(ConfigError, match=r"unknown fusion options \['iou'\]"):
        FusionConfig.from_mapping({"iou": 0.5})


@pytest.mark.parametrize("mode", FUSION_MODES)
def test_every_mode_handles_empty_and_below_threshold_inputs(mode: str) -> None:
    weak = to_detections([((0.0, 0.0, 10.0, 10.0), 0.1, 0)])
    assert len(fuse([to_detections([]), to_detections([])], config=FusionConfig(mode=mode))) == 0
    assert len(fuse([weak, weak], config=FusionConfig(mode=mode))) == 0


def test_bad_inputs_raise_data_or_config_errors() -> None:
    with pytest.raises(DataError, match="at least one model"):
        fuse([])
    bad_label = to_detections([((0.0, 0.0, 1.0, 1.0), 0.9, 7)])
    with pytest.raises(DataError, match=r"labels must be in 0\.\.6, got 7\.\.7"):
        fuse([bad_label])
    with pytest.raises(ConfigError, match="2 model_weights for 3 models"):
        fuse(sample_models(), config=FusionConfig(mode="wbf", model_weights=(1.0, 2.0)))
    with pytest.raises(DataError, match="batch sizes"):
        Fuser().fuse_batch([[bad_label], []])


@pytest.mark.parametrize("compiled", [True, False])
def test_detections_of_other_classes_are_not_fused(compiled: bool) -> None:
    box = [((0.0, 0.0, 10.0, 10.0), 0.9, 0)]
    ead, other = to_detections(box), to_detections(box, ("a", "b"))
    with pytest.raises(DataError, match="are not the fusion's"):
        Fuser(compiled_cpu=compiled).fuse([other, other])
    with pytest.raises(DataError, match="must share their classes"):
        Fuser(compiled_cpu=compiled).fuse([ead, other])
    fused = Fuser(FusionConfig(classes=("a", "b")), compiled_cpu=compiled).fuse([other, other])
    assert fused.classes == ("a", "b") and fused.names == ("a",)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
@pytest.mark.parametrize("mode", FUSION_MODES)
def test_fusion_stays_on_cuda_and_matches_cpu(mode: str) -> None:
    per_model = sample_models(seed=5)
    on_cpu = fuse(per_model, config=FusionConfig(mode=mode))
    on_gpu = fuse([d.to("cuda") for d in per_model], config=FusionConfig(mode=mode))
    assert on_gpu.boxes.device.type == "cuda"
    torch.testing.assert_close(on_gpu.to("cpu").boxes, on_cpu.boxes)
    assert on_gpu.labels.tolist() == on_cpu.labels.tolist()


def test_wbf_that_does_not_settle_falls_back_to_the_sequential_kernel(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    per_model = sample_models(seed=3)
    config = FusionConfig(mode="wbf", model_weights=(2.0, 1.0, 1.0))
    expected = Fuser(config).fuse(per_model)

    def never_settles(*args: object, **kwargs: object) -> list[Detections]:
        raise FusionNotSettled("did not settle")

    monkeypatch.setattr(fuser_module, "weighted_boxes_fusion", never_settles)
    fused = Fuser(config, compiled_cpu=False).fuse(per_model)  # the tensor path, as on a GPU
    assert len(expected) > 0
    torch.testing.assert_close(fused.boxes, expected.boxes)
    torch.testing.assert_close(fused.scores, expected.scores)
    assert fused.labels.tolist() == expected.labels.tolist()


@pytest.mark.parametrize("compiled", [True, False])
def test_output_thresholds_cut_each_class_after_fusion(compiled: bool) -> None:
    boxes = torch.tensor([[0.0, 0.0, 10.0, 10.0], [50.0, 50.0, 90.0, 90.0], [100.0, 0.0, 140.0, 30.0]])
    detections = Detections(boxes, torch.tensor([0.9, 0.5, 0.5]), torch.tensor([0, 1, 2]), ("a", "b", "c"))
    config = FusionConfig(mode="nms", classes=("a", "b", "c"), output_thresholds={"a": 0.95, "b": 0.4})
    fused = Fuser(config, compiled_cpu=compiled).fuse([detections, detections])
    assert sorted(fused.labels.tolist()) == [1, 2]  # a cut at 0.95; c has no threshold and stays
    with pytest.raises(ConfigError, match="output_thresholds"):
        FusionConfig(output_thresholds={"a": 1.5})
