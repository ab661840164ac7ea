"""Fixtures of the backend tests: one thread, fixed seed, model folders of the real architectures."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from tests.backends.tiny_models import LITE_CLASSIFIER, LITE_DETECTOR, publish_random


@pytest.fixture(autouse=True)
def _one_thread() -> None:
    torch.set_num_threads(1)
    torch.manual_seed(0)


@pytest.fixture(scope="session")
def lite_detector_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    torch.set_num_threads(1)
    return publish_random(tmp_path_factory.mktemp("lite-detector"), "lite-test", "detector", LITE_DETECTOR)


@pytest.fixture(scope="session")
def lite_classifier_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    torch.set_num_threads(1)
    return publish_random(
        tmp_path_factory.mktemp("lite-classifier"), "quality-test", "classifier", LITE_CLASSIFIER
    )
