"""Cache of built engines under engines/cache/, one folder per CacheKey.

Each entry folder holds the artefact files and `entry.json` with the full key and the sha256 of every
file. An entry whose recorded key differs from the requested one (stale) or whose files do not match
their hashes (corrupt) is removed with a warning and reported as a miss, so it is rebuilt, never loaded.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import platform
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import torch

from streamer import paths
from streamer.errors import warn

ENTRY_FILE = "entry.json"


@dataclass(frozen=True)
class CacheKey:
    """Everything a built engine depends on.

    batch_range: (min, max) batch size of the shape profile; input_size: (H, W) pixels.
    """

    model_sha256: str
    backend: str
    backend_version: str
    device_name: str
    compute_capability: str
    precision: str
    batch_range: tuple[int, int]
    input_size: tuple[int, int]

    def as_json(self) -> dict[str, object]:
        """JSON-ready form (tuples as lists)."""
        return json.loads(json.dumps(dataclasses.asdict(self)))

    def digest(self) -> str:
        """Short sha256 of the key, stable across runs."""
        text = json.dumps(self.as_json(), sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:24]

    def folder_name(self) -> str:
        return f"{self.backend}-{self.precision}-{self.digest()}"


def device_identity(device: torch.device) -> tuple[str, str]:
    """(device name, compute capability) of `device`.

    On CPU the capability is the architecture plus a short hash of the instruction-set flags, since
    optimised CPU graphs may use instructions (e.g. AVX-512) that another CPU lacks.
    """
    if device.type == "cuda":
        major, minor = torch.cuda.get_device_capability(device)
        return torch.cuda.get_device_name(device), f"{major}.{minor}"
    name, flags = _cpu_info()
    return name, f"{platform.machine()}-{hashlib.sha256(flags.encode()).hexdigest()[:8]}"


def _cpu_info() -> tuple[str, str]:
    """(model name, instruction-set flags) of this CPU, from /proc/cpuinfo where it exists."""
    fields = {}
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = line.partition(":")
            fields.setdefault(key.strip(), value.strip())
    except OSError:
        pass
    name = fields.get("model name") or platform.processor() or "cpu"
    return name, " ".join(sorted(fields.get("flags", "").split()))


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for chunk in iter(lambda: stream.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


class EngineCache:
    """Built engines on disk, keyed by CacheKey."""

    def __init__(self, root: Path | None = None) -> None:
        self.root = Path(root) if root is not None else paths.ENGINE_CACHE_DIR

    def folder(self, key: CacheKey) -> Path:
        return self.root / key.folder_name()

    def lookup(self, key: CacheKey) -> Path | None:
        """The entry folder of `key` if present, current and intact; else None (after removing it)."""
        folder = self.folder(key)
        if not folder.exists():
            return None
        problem = self._problem(folder, key)
        if problem is None:
            return folder
        warn(f"engine cache entry {folder} is {problem}; rebuilding it")
        shutil.rmtree(folder, ignore_errors=True)
        return None

    def store(self, key: CacheKey, files: dict[str, Path]) -> Path:
        """Move `files` (entry file name -> built file) into the entry of `key` atomically; returns it."""
        self.root.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=self.root))
        hashes = {}
        for name, source in files.items():
            target = staging / name
            shutil.move(str(source), target)
            hashes[name] = _sha256_file(target)
        entry = {"key": key.as_json(), "files": hashes}
        (staging / ENTRY_FILE).write_text(json.dumps(entry, indent=2, sort_keys=True))
        folder = self.folder(key)
        shutil.rmtree(folder, ignore_errors=True)
        staging.rename(folder)
        return folder

    @contextmanager
    def staging_folder(self) -> Iterator[Path]:
        """A fresh scratch folder inside the cache root (same file system, so `store` can move from it),
        removed on the way out whether the build worked or failed."""
        self.root.mkdir(parents=True, exist_ok=True)
        folder = Path(tempfile.mkdtemp(prefix=".build-", dir=self.root))
        try:
            yield folder
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    @staticmethod
    def _problem(folder: Path, key: CacheKey) -> str | None:
        """Why the entry cannot be used, or None when it can."""
        try:
            entry = json.loads((folder / ENTRY_FILE).read_text())
            recorded_key, hashes = entry["key"], entry["files"]
        except (OSError, ValueError, KeyError, TypeError) as error:
            return f"corrupt (unreadable {ENTRY_FILE}: {error})"
        if recorded_key != key.as_json():
            return "stale (built for another key)"
        for name, expected in hashes.items():
            path = folder / name
            if not path.is_file() or _sha256_file(path) != expected:
                return f"corrupt ({name} is missing or does not match its hash)"
        return None
