"""`pip install` of a built wheel (not editable) into a fresh virtual environment: `streamer demo` run
outside the repository finds the shipped models and the demo clip, and builds its engines into the
user's cache folder, writing nothing into the installed package."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest

from tests.support import REPO

pytestmark = pytest.mark.slow


def _run(command: list[str], cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=600, check=False)


def _files_under(folder: Path) -> set[str]:
    return {
        str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file() and "__pycache__" not in p.parts
    }


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """A fresh venv with the wheel installed; the dependencies are the test environment's own (by a
    path entry), so nothing is downloaded. Returns the venv folder."""
    root = tmp_path_factory.mktemp("wheel")
    built = _run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            str(REPO),
            "-w",
            "dist",
        ],
        cwd=root,
    )
    assert built.returncode == 0, built.stderr[-2000:]
    (wheel,) = (root / "dist").glob("streamer-*.whl")
    environment = root / "venv"
    venv.EnvBuilder(with_pip=False).create(environment)
    python = environment / "bin" / "python"
    site = Path(
        _run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"], root
        ).stdout.strip()
    )
    (site / "test-dependencies.pth").write_text(sysconfig.get_path("purelib") + "\n")
    install = _run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(python),
            "install",
            "--no-deps",
            "--no-index",
            "-q",
            str(wheel),
        ],
        cwd=root,
    )
    assert install.returncode == 0, install.stderr[-2000:]
    return environment


def test_the_installed_wheel_runs_the_demo_outside_the_repository(installed, tmp_path):
    python = installed / "bin" / "python"
    where = _run(
        [str(python), "-c", "import streamer.paths as p; print(p.PACKAGE_DIR, p.IS_CHECKOUT)"], tmp_path
    )
    package, is_checkout = where.stdout.split()
    assert Path(package).is_relative_to(installed) and is_checkout == "False"
    before = _files_under(Path(package))
    home = tmp_path / "home"
    env = {k: v for k, v in os.environ.items() if k not in ("STREAMER_CACHE_DIR", "XDG_CACHE_HOME")}
    env.update(HOME=str(home), PYTHONUNBUFFERED="1")
    done = _run([str(installed / "bin" / "streamer"), "demo", "--out", "demo"], tmp_path, env)
    assert done.returncode == 0, done.stderr[-3000:]
    summary = json.loads((tmp_path / "demo" / "summary.json").read_text())
    assert summary["frames"]["processed"] > 0
    assert (tmp_path / "demo" / "annotated.mp4").stat().st_size > 0
    cache = home / ".cache" / "streamer" / "engines"
    assert any(cache.iterdir()), "no engine was built into the user cache"
    assert _files_under(Path(package)) == before, "the run wrote into the installed package"
    assert not (tmp_path / "engines").exists()
