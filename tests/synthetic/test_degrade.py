"""Frame degradations make real and synthetic frames clearly worse."""

import cv2
import numpy as np
import pytest

from streamer.errors import ConfigError, DataError
from streamer.paths import EAD2019_SAMPLES
from streamer.synthetic import DEGRADATIONS, degrade


@pytest.fixture(scope="module")
def real_frame() -> np.ndarray:
    """A real EAD2019 frame, shrunk to 256x256 RGB to keep the tests fast."""
    bgr = cv2.imread(str(EAD2019_SAMPLES / "00003.jpg"))
    return cv2.cvtColor(cv2.resize(bgr, (256, 256), interpolation=cv2.INTER_AREA), cv2.COLOR_BGR2RGB)


def sharpness(image: np.ndarray) -> float:
    return float(cv2.Laplacian(cv2.cvtColor(image, cv2.COLOR_RGB2GRAY), cv2.CV_64F).var())


@pytest.mark.parametrize("kind", DEGRADATIONS)
def test_every_kind_keeps_shape_and_changes_the_frame(kind, real_frame):
    out = degrade(real_frame, kind, np.random.default_rng(0))
    assert out.shape == real_frame.shape and out.dtype == np.uint8
    assert np.abs(out.astype(np.int16) - real_frame).mean() > 5


@pytest.mark.parametrize("kind", ["defocus", "motion"])
@pytest.mark.parametrize("severity", [0.0, 1.0])
def test_blur_removes_most_detail(kind, severity, real_frame):
    out = degrade(real_frame, kind, np.random.default_rng(1), severity)
    assert sharpness(out) < sharpness(real_frame) / 5


def test_overexposure_brightens_and_clips(real_frame):
    out = degrade(real_frame, "overexposure", np.random.default_rng(2), 0.0)
    assert out.mean() > real_frame.mean() + 50
    assert (out.max(axis=2) == 255).mean() > 0.4


def test_underexposure_darkens(real_frame):
    out = degrade(real_frame, "underexposure", np.random.default_rng(3), 0.0)
    assert out.mean() < 0.3 * real_frame.mean()


def test_noise_adds_strong_grain(real_frame):
    out = degrade(real_frame, "noise", np.random.default_rng(4), 0.0)
    assert (out.astype(np.float32) - real_frame).std() > 20


def test_combined_changes_the_frame_strongly_and_is_deterministic_for_a_seed(real_frame):
    first = degrade(real_frame, "combined", np.random.default_rng(5))
    second = degrade(real_frame, "combined", np.random.default_rng(5))
    assert first.tobytes() == second.tobytes()
    assert np.abs(first.astype(np.int16) - real_frame).mean() > 30


def test_works_on_a_non_square_frame():
    rng = np.random.default_rng(6)
    frame = rng.integers(0, 256, (90, 160, 3), dtype=np.uint8)
    assert degrade(frame, "defocus", rng).shape == (90, 160, 3)


@pytest.mark.parametrize(
    ("image", "kind", "severity", "error"),
    [
        (np.zeros((64, 64), np.uint8), "noise", 0.5, DataError),
        (np.zeros((64, 64, 3), np.float32), "noise", 0.5, DataError),
        (np.zeros((8, 8, 3), np.uint8), "noise", 0.5, DataError),
        (np.zeros((64, 64, 3), np.uint8), "fog", 0.5, ConfigError),
        (np.zeros((64, 64, 3), np.uint8), "noise", 1.5, ConfigError),
    ],
)
def test_bad_input_raises_a_clear_error(image, kind, severity, error):
    with pytest.raises(error):
        degrade(image, kind, np.random.default_rng(0), severity)


def test_haze_washes_out_contrast(real_frame):
    out = degrade(real_frame, "haze", np.random.default_rng(5), 0.0)
    in_view = real_frame.max(axis=2) > 20
    grey_in = cv2.cvtColor(real_frame, cv2.COLOR_RGB2GRAY).astype(np.float32)[in_view]
    grey_out = cv2.cvtColor(out, cv2.COLOR_RGB2GRAY).astype(np.float32)[in_view]
    assert grey_out.std() < 0.5 * grey_in.std()
    assert grey_out.mean() > grey_in.mean()
