"""The videos of an archive: INPUT arguments (folders searched recursively, globs, list files with one
path per line) to jobs, each with the relative path its output folder mirrors under DIR."""

from __future__ import annotations

import glob
from dataclasses import dataclass
from pathlib import Path, PurePath

from streamer.capture.open_source import VIDEO_SUFFIXES
from streamer.errors import ConfigError

LIST_SUFFIXES = (".txt", ".list", ".lst")
GLOB_CHARACTERS = set("*?[")


@dataclass(frozen=True)
class VideoJob:
    """One input video: its path and the relative path (without suffix) of its output folder."""

    path: Path
    relative: PurePath

    @property
    def key(self) -> str:
        """The index's key for this video: its relative output path."""
        return self.relative.as_posix()


def is_video_name(path: Path) -> bool:
    return path.suffix.lower() in VIDEO_SUFFIXES


def _glob_root(pattern: str) -> Path:
    """The folder part of a glob before its first wildcard (what relative paths start from)."""
    parts = PurePath(pattern).parts
    plain = []
    for part in parts:
        if GLOB_CHARACTERS & set(part):
            break
        plain.append(part)
    return Path(*plain) if plain else Path(".")


def _from_argument(argument: str) -> list[tuple[Path, Path]]:
    """(video, root its relative path starts from) for one INPUT argument."""
    path = Path(argument).expanduser()
    if path.is_dir():
        return [(p, path) for p in sorted(path.rglob("*")) if p.is_file() and is_video_name(p)]
    if path.is_file() and path.suffix.lower() in LIST_SUFFIXES:
        listed = []
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            entry = line.strip()
            if not entry or entry.startswith("#"):
                continue
            video = Path(entry).expanduser()
            video = video if video.is_absolute() else path.parent / video
            if not video.is_file():
                raise ConfigError(f"{path}:{number}: no such video file: {entry}")
            listed.append((video, path.parent))
        return listed
    if path.is_file():
        return [(path, path.parent)]
    if GLOB_CHARACTERS & set(argument):
        root = _glob_root(argument)
        matches = sorted(Path(p) for p in glob.glob(argument, recursive=True))
        return [(p, root) for p in matches if p.is_file()]
    raise ConfigError(f"no such file, folder or glob match: {argument}")


def find_videos(arguments: list[str]) -> list[VideoJob]:
    """Every video the arguments name, once each, in order; output folders are the paths relative to
    their folder / glob root / list file (without the suffix), made unique when two would collide."""
    jobs: list[VideoJob] = []
    seen_paths: set[Path] = set()
    used: set[str] = set()
    for argument in arguments:
        for video, root in _from_argument(argument):
            resolved = video.resolve()
            if resolved in seen_paths:
                continue
            seen_paths.add(resolved)
            try:
                relative = PurePath(video.resolve().relative_to(root.resolve()))
            except ValueError:
                relative = PurePath(video.name)
            relative = relative.with_suffix("")
            candidate, number = relative, 2
            while candidate.as_posix() in used:
                candidate = relative.with_name(f"{relative.name}-{number}")
                number += 1
            used.add(candidate.as_posix())
            jobs.append(VideoJob(video, candidate))
    if not jobs:
        raise ConfigError(f"no video files found in {', '.join(arguments)}")
    return jobs
