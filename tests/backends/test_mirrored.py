"""Test-time mirrored views: boxes come back in the unmirrored frame, and each view is one more member."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch

from streamer.backends.base import EngineSpec
from streamer.backends.mirrored import MirroredEngine
from streamer.config import load_profile
from streamer.errors import ConfigError
from streamer.fusion import Fuser
from streamer.pipeline.engine_loading import load_detectors
from streamer.pipeline.image_detector import ImageDetector


class BrightBoxEngine:
    """A detector whose one anchor is the bounding box (network-input pixels) of the bright pixels."""

    backend = "test"
    device = torch.device("cpu")

    def __init__(self) -> None:
        self.spec = EngineSpec(name="bright", task="detector", classes=("a",), input_size=(32, 48))
        self.closed = False

    def infer(self, batch: torch.Tensor) -> dict[str, torch.Tensor]:
        boxes = []
        for image in batch:
            rows, cols = torch.nonzero(image[0] > 0.5, as_tuple=True)
            boxes.append([cols.min(), rows.min(), cols.max() + 1, rows.max() + 1])
        return {
            "boxes": torch.tensor(boxes, dtype=torch.float32)[:, None, :],
            "scores": torch.ones((batch.shape[0], 1, 1)),
        }

    def close(self) -> None:
        self.closed = True


@pytest.mark.parametrize("mirror", ["horizontal", "vertical"])
def test_a_mirrored_view_reports_boxes_in_the_frame_as_it_is(mirror: str) -> None:
    batch = torch.zeros((2, 3, 32, 48))
    batch[0, :, 2:10, 5:9] = 1.0  # x 5..9, y 2..10
    batch[1, :, 20:31, 30:47] = 1.0  # x 30..47, y 20..31
    inner = BrightBoxEngine()
    expected = inner.infer(batch)["boxes"]
    view = MirroredEngine(inner, mirror)  # type: ignore[arg-type]
    flipped = inner.infer(torch.flip(batch, dims=(3 if mirror == "horizontal" else 2,)))["boxes"]
    assert not torch.equal(flipped, expected)  # the inner engine really saw a different picture
    assert torch.equal(view.infer(batch)["boxes"], expected)
    assert view.spec.name == ("bright+hflip" if mirror == "horizontal" else "bright+vflip")
    view.close()
    assert not inner.closed  # the plain member owns the engine


def test_only_detectors_are_mirrored() -> None:
    inner = BrightBoxEngine()
    inner.spec = replace(inner.spec, task="classifier")
    with pytest.raises(ValueError, match="only detectors"):
        MirroredEngine(inner, "horizontal")  # type: ignore[arg-type]


def test_the_ensemble_profile_runs_its_model_and_both_mirrored_views() -> None:
    members = load_detectors(load_profile("ensemble"))
    assert [m.spec.name for m in members] == [
        "detector-lite-e",
        "detector-lite-e+hflip",
        "detector-lite-e+vflip",
    ]
    assert all(isinstance(m, MirroredEngine) and m.inner is members[0] for m in members[1:])


def test_each_learned_model_is_followed_by_its_views_and_they_are_fused() -> None:
    ensemble = load_profile("ensemble")
    config = replace(
        ensemble, detector=replace(ensemble.detector, models=("detector-lite-d", "detector-lite-g"))
    )
    members = load_detectors(config)
    assert [m.spec.name for m in members] == [
        "detector-lite-d",
        "detector-lite-d+hflip",
        "detector-lite-d+vflip",
        "detector-lite-g",
        "detector-lite-g+hflip",
        "detector-lite-g+vflip",
    ]
    assert all(isinstance(m, MirroredEngine) and m.inner is members[0] for m in members[1:3])
    assert all(isinstance(m, MirroredEngine) and m.inner is members[3] for m in members[4:])
    rng = np.random.default_rng(0)
    image = rng.integers(0, 255, size=(120, 160, 3), dtype=np.uint8)
    image[30:60, 40:90] = 250  # a bright patch for the specularity class
    plain = replace(config, detector=replace(config.detector, mirrors=()))
    with ImageDetector(config) as fused, ImageDetector(plain) as single:
        assert fused(image).to_records() != single(image).to_records()  # the views change the result
        members = fused.members(image)
        assert fused.member_names == [m.spec.name for m in load_detectors(config)]
        assert len(members) == 6 and any(len(m) for m in members)
        refused = Fuser(replace(config.fusion, classes=fused.classes)).fuse(members).rounded()
        assert refused.to_records() == fused(image).to_records()  # the members are what the profile fuses


def test_a_mirror_listed_twice_or_unknown_is_refused(tmp_path: Path) -> None:
    for mirrors, message in (
        (["horizontal", "horizontal"], "listed twice"),
        (["diagonal"], "must be one of"),
    ):
        profile = tmp_path / "p.toml"
        profile.write_text(
            f'[detector]\nmodels = ["detector-lite-d"]\nmirrors = {mirrors!r}\n'.replace("'", '"')
        )
        with pytest.raises(ConfigError, match=message):
            load_profile(str(profile))
