import json
import subprocess
import sys

import cv2
import numpy as np
import pytest

from streamer.models.store import build_model, save_model

QUALITY = {"builder": "classifier", "backbone": "lite", "input_size": [64, 64], "width": 0.25}


def _streamer(*args, cwd):
    return subprocess.run([sys.executable, "-m", "streamer", *args], capture_output=True, text=True, cwd=cwd)


@pytest.fixture
def tiny_classifier(tmp_path):
    folder = tmp_path / "quality"
    fields = {
        "name": "tiny",
        "task": "classifier",
        "architecture": QUALITY,
        "classes": ["good", "bad"],
        "input_size": [64, 64],
        "mean": [0.485, 0.456, 0.406],
        "std": [0.229, 0.224, 0.225],
    }
    save_model(build_model(QUALITY).eval(), fields, folder)
    return folder


def test_classify_prints_one_json_line_per_image(tmp_path, tiny_classifier, request):
    image = tmp_path / "frame.png"
    cv2.imwrite(str(image), np.full((48, 80, 3), 120, np.uint8))
    result = _streamer(
        "classify", str(image), str(image), "--classifier", str(tiny_classifier), cwd=request.config.rootpath
    )
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(lines) == 2
    assert lines[0]["path"] == str(image) and 0 <= lines[0]["p_bad"] <= 1
    assert lines[0]["verdict"] == ("bad" if lines[0]["p_bad"] >= 0.5 else "good")
    assert set(lines[0]["reasons"]) == {"blur", "exposure", "saturation"}


def test_user_errors_are_one_line_and_non_zero(tmp_path, tiny_classifier, request):
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"not a video")
    result = _streamer(
        "classify", str(broken), "--classifier", str(tiny_classifier), cwd=request.config.rootpath
    )
    assert result.returncode == 3 and result.stderr.count("\n") == 1 and "cannot decode" in result.stderr
    result = _streamer("train", "detector", "--output", str(tmp_path / "out"), cwd=request.config.rootpath)
    assert result.returncode == 2 and "no data" in result.stderr and result.stderr.count("\n") == 1
    result = _streamer(
        "train", "quality", "--output", str(tmp_path / "q"), "--data", str(tmp_path), "--freeze-features",
        cwd=request.config.rootpath,
    )  # fmt: skip
    assert result.returncode == 2 and result.stderr.count("\n") == 1
    assert "--freeze-features needs --architecture pyramid" in result.stderr
