"""A detector's class list and per-class thresholds travel from its manifest to every output."""

import json
import subprocess
import sys

import pytest
import torch

from streamer.models.store import build_model, update_manifest
from streamer.paths import EAD2020_SUBSET
from streamer.train.publish import publish_model

NAMES = ["alpha", "beta", "gamma"]
ARCH = {
    "builder": "retinanet",
    "backbone": "lite",
    "input_size": [128, 128],
    "backbone_width": 0.25,
    "fpn_channels": 16,
    "head_width": 16,
    "head_depth": 1,
    "separable_heads": True,
    "num_classes": 3,
    "anchor_sizes": [16, 32, 64, 128, 256],
}


@pytest.fixture(scope="module")
def three_class_model(tmp_path_factory):
    torch.manual_seed(0)
    folder = tmp_path_factory.mktemp("detector")
    fields = {
        "name": "three-classes",
        "task": "detector",
        "architecture": ARCH,
        "classes": NAMES,
        "input_size": [128, 128],
        "mean": [0.485, 0.456, 0.406],
        "std": [0.229, 0.224, 0.225],
    }
    publish_model(build_model(ARCH).eval(), fields, folder)
    return folder


def _run(model, out, *extra):
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "streamer",
            "run",
            str(EAD2020_SUBSET / "images"),
            "--out",
            str(out),
            "--classifier",
            "none",
            "--detector",
            str(model),
            "--max-frames",
            "3",
            *extra,
        ],
        capture_output=True,
        text=True,
    )


def _labels(out):
    records = [json.loads(line) for line in (out / "frames.jsonl").read_text().splitlines()]
    return [d["label"] for r in records if "detections" in r for d in r["detections"]]


def test_class_names_reach_jsonl_scorer_and_coco(three_class_model, tmp_path):
    out = tmp_path / "out"
    result = _run(three_class_model, out, "--score-threshold", "0", "--outputs", "jsonl,scorer,coco")
    assert result.returncode == 0, result.stderr
    labels = _labels(out)
    assert labels and set(labels) <= set(NAMES)
    scorer = [
        line.split()[0] for f in (out / "predictions").glob("*.txt") for line in f.read_text().splitlines()
    ]
    assert scorer and set(scorer) <= set(NAMES)
    coco = json.loads((out / "detections.coco.json").read_text())
    assert [c["name"] for c in coco["categories"]] == NAMES


def test_manifest_thresholds_are_used_unless_one_is_given(three_class_model, tmp_path):
    update_manifest(three_class_model, score_thresholds={"alpha": 0.0, "beta": 1.0, "gamma": 1.0})
    out = tmp_path / "own"
    assert _run(three_class_model, out, "--outputs", "jsonl").returncode == 0
    assert set(_labels(out)) == {"alpha"}
    out = tmp_path / "given"
    assert _run(three_class_model, out, "--outputs", "jsonl", "--score-threshold", "0").returncode == 0
    assert {"beta", "gamma"} & set(_labels(out))
