"""Untrained reference models for timing: architectures too large to ship, built with a fixed seed.

`untrained:NAME` names one of UNTRAINED_ARCHITECTURES anywhere a model is expected. The weights are
made once (seeded, so every machine gets the same ones) into engines/cache/untrained/NAME/ and then
loaded like any model folder. Their detections mean nothing; their speed is the architecture's.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from streamer.errors import ModelError
from streamer.models.store import MANIFEST_NAME, build_model, load_manifest, save_model
from streamer.paths import ENGINE_CACHE_DIR
from streamer.types import EAD2019_CLASSES

UNTRAINED_PREFIX = "untrained:"
INIT_SEED = 0
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)

UNTRAINED_ARCHITECTURES: dict[str, dict[str, Any]] = {
    # RetinaNet with a ResNet-50 backbone at 512x512, the EAD2019 paper's configuration (256 x 4 heads).
    "retinanet-r50-512": {"builder": "retinanet", "backbone": "resnet50", "input_size": [512, 512]},
}


def is_untrained(name: str) -> bool:
    return name.startswith(UNTRAINED_PREFIX)


def materialize_untrained(name: str, root: Path = ENGINE_CACHE_DIR / "untrained") -> Path:
    """The model folder of `untrained:NAME`, written on first use; ModelError for an unknown NAME."""
    key = name.removeprefix(UNTRAINED_PREFIX)
    if key not in UNTRAINED_ARCHITECTURES:
        raise ModelError(
            f"unknown untrained model {key!r}; known: {', '.join(sorted(UNTRAINED_ARCHITECTURES))}"
        )
    folder = root / key
    if (folder / MANIFEST_NAME).is_file():
        try:
            load_manifest(folder)
            return folder
        except ModelError:
            pass  # damaged: write it again below
    architecture = UNTRAINED_ARCHITECTURES[key]
    with torch.random.fork_rng(devices=[]):  # seeded without disturbing the caller's random state
        torch.manual_seed(INIT_SEED)
        model = build_model(architecture)
    save_model(
        model,
        {
            "name": f"{key}-untrained",
            "task": "detector",
            "architecture": architecture,
            "classes": list(EAD2019_CLASSES),
            "input_size": architecture["input_size"],
            "mean": list(IMAGENET_MEAN),
            "std": list(IMAGENET_STD),
            "onnx": None,
            "metrics": {"untrained": True, "init_seed": INIT_SEED},
        },
        folder,
    )
    return folder
