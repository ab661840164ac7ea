"""Wheel builds copy the shipped models, the demo clip and the calibration frames into the package
(`streamer/shipped/`), so an installed streamer finds them outside the repository (`streamer.paths`).
Editable installs read them from the checkout and copy nothing. Everything else is in pyproject.toml."""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
MODEL_FILES = ("manifest.json", "model.pt", "model.onnx", "MODEL_CARD.md", "split.json")


def shipped_files() -> list[Path]:
    """Repository-relative paths of what a wheel carries: each shipped model's files (not the engine
    cache, INT8 builds or pictures), the demo clip and the calibration frames, with their READMEs."""
    files = [Path("engines/README.md"), Path("data/README.md"), Path("calibration/README.md")]
    for manifest in sorted((ROOT / "engines").glob("*/manifest.json")):
        folder = manifest.parent
        files += [p.relative_to(ROOT) for p in map(folder.joinpath, MODEL_FILES) if p.is_file()]
    for folder in ("data/video", "calibration/laparoscopy"):
        files += sorted(p.relative_to(ROOT) for p in (ROOT / folder).rglob("*") if p.is_file())
    return files


class BuildWithShippedFiles(build_py):
    """build_py that also copies shipped_files() under streamer/shipped/ in the build folder."""

    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return
        target = Path(self.build_lib) / "streamer" / "shipped"
        for relative in shipped_files():
            destination = target / relative
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / relative, destination)


setup(cmdclass={"build_py": BuildWithShippedFiles})
