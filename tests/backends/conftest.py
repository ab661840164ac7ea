"""Fixtures of the backend tests: one thread, fixed seed, model folders of the real architectures."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import torch

from tests.backends.tiny_models import LITE_CLASSIFIER, LITE_DETECTOR, publish_random


@contextmanager
def _threads(count: int) -> Iterator[None]:
    """torch's CPU thread count set to `count`, and restored after."""
    before = torch.get_num_threads()
    torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(before)


@pytest.fixture(autouse=True)
def _one_thread() -> Iterator[None]:
    """One torch thread and a fixed seed for each backend test; the thread count is restored after."""
    torch.manual_seed(0)
    with _threads(1):
        yield


@pytest.fixture(scope="session")
def lite_detector_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    with _threads(1):
        return publish_random(
            tmp_path_factory.mktemp("lite-detector"), "lite-test", "detector", LITE_DETECTOR
        )


@pytest.fixture(scope="session")
def lite_classifier_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    with _threads(1):
        return publish_random(
            tmp_path_factory.mktemp("lite-classifier"), "quality-test", "classifier", LITE_CLASSIFIER
        )
