"""Engines without learned weights: the classical detector and quality measures behind the Engine interface."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import torch

from streamer.classical.detector import ClassicalDetector
from streamer.classical.engine import ClassicalDetectorEngine
from streamer.config import load_profile, with_overrides
from streamer.pipeline.image_detector import ImageDetector
from streamer.preprocessing import normalise_on_cpu
from streamer.quality.classical_engine import ClassicalQualityEngine
from tests.support import degraded, run_streamer, tissue_frame


def highlight_frame() -> np.ndarray:
    image = np.zeros((512, 512, 3), np.uint8)
    cv2.circle(image, (256, 256), 240, (170, 80, 70), -1)
    cv2.circle(image, (300, 200), 9, (255, 255, 255), -1)
    return image


def test_classical_engine_outputs_follow_the_detector_contract() -> None:
    engine = ClassicalDetectorEngine()
    image = highlight_frame()
    batch = torch.from_numpy(normalise_on_cpu(image[None], engine.spec.mean, engine.spec.std))
    outputs = engine.infer(torch.cat([batch, batch]))
    direct = ClassicalDetector().detect(image)
    assert outputs["boxes"].shape == (2, len(direct), 4)
    assert outputs["scores"].shape == (2, len(direct), 7)
    best = outputs["scores"][0].max(dim=1)
    assert torch.equal(best.indices, direct.labels)
    torch.testing.assert_close(outputs["boxes"][0], direct.boxes)


def test_image_detector_finds_the_highlight_in_source_pixels() -> None:
    config = with_overrides(load_profile("noop"), detectors=("classical",), score_threshold=0.05)
    image = cv2.resize(highlight_frame(), (1024, 1024))  # the engine works at 512: boxes must be scaled back
    with ImageDetector(config) as detect:
        records = detect(image).to_records()
    specular = [r for r in records if r["label"] == "specularity"]
    assert specular
    x1, y1, x2, y2 = specular[0]["box"]
    assert x1 < 600 < x2 and y1 < 400 < y2


def test_classical_quality_engine_separates_sharp_from_degraded() -> None:
    engine = ClassicalQualityEngine()
    frames = [tissue_frame(1), degraded(tissue_frame(2), "blur"), degraded(tissue_frame(3), "dark")]
    resized = np.stack([cv2.resize(f, engine.spec.input_size[::-1]) for f in frames])
    p_bad = engine.infer(torch.from_numpy(normalise_on_cpu(resized, engine.spec.mean, engine.spec.std)))[
        "p_bad"
    ]
    assert p_bad[0] < 0.5 < min(p_bad[1], p_bad[2])


def test_eval_model_scores_a_detector_on_a_labelled_folder(tmp_path: Path) -> None:
    report = tmp_path / "report.json"
    done = run_streamer(
        "eval", "model", "data/ead2019/samples", "--detector", "classical", "--json", str(report)
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(report.read_text())
    assert {"mAP", "IoU", "score", "per_class"} <= set(result)
    assert 0.0 <= result["score"] <= 1.0
    assert "score" in done.stdout
