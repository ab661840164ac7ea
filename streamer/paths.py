"""Locations of the data and models that ship with streamer (repository layout)."""

from pathlib import Path

REPO_ROOT: Path = Path(__file__).resolve().parent.parent
DATA_DIR: Path = REPO_ROOT / "data"
DEMO_CLIP: Path = DATA_DIR / "video" / "laparoscopy-720p25.mp4"
EAD2019_SAMPLES: Path = DATA_DIR / "ead2019" / "samples"
EAD2019_SCORING: Path = DATA_DIR / "ead2019" / "scoring"
EAD2020_SUBSET: Path = DATA_DIR / "ead2020-subset"
ENGINES_DIR: Path = REPO_ROOT / "engines"
ENGINE_CACHE_DIR: Path = ENGINES_DIR / "cache"
CALIBRATION_DIR: Path = REPO_ROOT / "calibration"
CALIBRATION_FRAMES: Path = CALIBRATION_DIR / "laparoscopy" / "calibrate"
HOLDOUT_FRAMES: Path = CALIBRATION_DIR / "laparoscopy" / "holdout"
BENCHMARKS_DIR: Path = REPO_ROOT / "benchmarks"
