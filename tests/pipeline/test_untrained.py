"""`untrained:NAME` models: made once with a fixed seed, then loaded like any model folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from streamer.errors import ModelError
from streamer.models import untrained
from streamer.models.store import load_model

TINY = {
    "builder": "retinanet",
    "backbone": "lite",
    "input_size": [64, 64],
    "fpn_channels": 16,
    "head_width": 16,
    "head_depth": 1,
    "separable_heads": True,
}


def test_untrained_models_are_seeded_and_reused(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setitem(untrained.UNTRAINED_ARCHITECTURES, "tiny", TINY)
    first = untrained.materialize_untrained("untrained:tiny", tmp_path / "a")
    second = untrained.materialize_untrained("untrained:tiny", tmp_path / "b")
    _, manifest_a = load_model(first)
    _, manifest_b = load_model(second)
    assert manifest_a.sha256 == manifest_b.sha256  # same seed, same weights on every machine
    assert manifest_a.metrics["untrained"] is True
    stamp = (first / "model.pt").stat().st_mtime_ns
    assert untrained.materialize_untrained("untrained:tiny", tmp_path / "a") == first
    assert (first / "model.pt").stat().st_mtime_ns == stamp  # reused, not rewritten


def test_unknown_untrained_model_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="unknown untrained model"):
        untrained.materialize_untrained("untrained:resnet9000", tmp_path)
