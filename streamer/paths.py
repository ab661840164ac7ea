"""Locations of the data and models that ship with streamer, and of the engine cache.

In a source checkout they are the repository's folders (`engines/`, `data/`, `calibration/`); an
installed wheel carries copies of the shipped ones inside the package (`streamer/shipped/`, written by
setup.py's build step). Built engines go to `engines/cache/` in a checkout, and to the user's cache
folder (`$XDG_CACHE_HOME/streamer/engines`, default `~/.cache/streamer/engines`) for an installed
package, whose folder may not be writable; `STREAMER_CACHE_DIR` overrides both.
"""

import os
from pathlib import Path

PACKAGE_DIR: Path = Path(__file__).resolve().parent
REPO_ROOT: Path = PACKAGE_DIR.parent
IS_CHECKOUT: bool = (REPO_ROOT / "pyproject.toml").is_file() and (REPO_ROOT / "engines").is_dir()
SHIPPED_ROOT: Path = REPO_ROOT if IS_CHECKOUT else PACKAGE_DIR / "shipped"

DATA_DIR: Path = SHIPPED_ROOT / "data"
DEMO_CLIP: Path = DATA_DIR / "video" / "laparoscopy-720p25.mp4"
EAD2019_SAMPLES: Path = DATA_DIR / "ead2019" / "samples"
EAD2019_SCORING: Path = DATA_DIR / "ead2019" / "scoring"
EAD2020_SUBSET: Path = DATA_DIR / "ead2020-subset"
ENGINES_DIR: Path = SHIPPED_ROOT / "engines"
CALIBRATION_DIR: Path = SHIPPED_ROOT / "calibration"
CALIBRATION_FRAMES: Path = CALIBRATION_DIR / "laparoscopy" / "calibrate"
HOLDOUT_FRAMES: Path = CALIBRATION_DIR / "laparoscopy" / "holdout"
BENCHMARKS_DIR: Path = REPO_ROOT / "benchmarks"


def _engine_cache_dir() -> Path:
    """STREAMER_CACHE_DIR, else engines/cache/ in a checkout, else the user's cache folder."""
    override = os.environ.get("STREAMER_CACHE_DIR")
    if override:
        return Path(override).expanduser()
    if IS_CHECKOUT:
        return ENGINES_DIR / "cache"
    user_cache = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(user_cache).expanduser() / "streamer" / "engines"


ENGINE_CACHE_DIR: Path = _engine_cache_dir()


def as_recorded(path: Path) -> str:
    """`path` as a manifest records it: relative to the repository root when it lies inside it (so a
    record reads the same on every checkout), else as given."""
    try:
        return str(Path(path).resolve().relative_to(REPO_ROOT))
    except ValueError:
        return str(path)
