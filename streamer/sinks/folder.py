"""One run per output folder: a lock held for the whole run, and no silent mix with an earlier run's files.

A second run into a folder that a run is writing to is refused. A folder that holds an earlier run's
outputs is refused too, unless `overwrite`, which deletes those outputs first (and nothing else).
"""

from __future__ import annotations

import fcntl
import os
import shutil
from pathlib import Path
from types import TracebackType

from streamer.errors import ConfigError, SinkError

LOCK_NAME = ".streamer.lock"
RUN_OUTPUTS: tuple[str, ...] = (
    "annotated.mp4",
    "filtered.mp4",
    "frames.jsonl",
    "detections.coco.json",
    "predictions",
    "summary.json",
)


class OutputFolder:
    """Context manager: creates `path`, locks it for this process and clears or refuses earlier outputs."""

    def __init__(self, path: Path, *, overwrite: bool) -> None:
        self.path = Path(path)
        self.overwrite = overwrite
        self._fd: int | None = None

    def check(self) -> list[str]:
        """The earlier outputs in the folder; ConfigError when there are some and not `overwrite`. Cheap:
        call it before any slow start-up, so a refused run refuses at once."""
        earlier = [name for name in RUN_OUTPUTS if (self.path / name).exists()]
        if earlier and not self.overwrite:
            raise ConfigError(
                f"{self.path} holds an earlier run's outputs ({', '.join(earlier)}); "
                "use --overwrite to replace them, or choose another --out"
            )
        return earlier

    def __enter__(self) -> OutputFolder:
        try:
            self.path.mkdir(parents=True, exist_ok=True)
            self._fd = os.open(self.path / LOCK_NAME, os.O_CREAT | os.O_RDWR, 0o644)
        except OSError as error:
            raise SinkError(f"cannot write to {self.path}: {error.strerror or error}") from error
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._release()
            raise SinkError(f"another streamer run is writing to {self.path}; choose another --out") from None
        try:
            earlier = self.check()
        except ConfigError:
            self._release()
            raise
        for name in earlier:
            target = self.path / name
            shutil.rmtree(target) if target.is_dir() else target.unlink()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self._release()

    def _release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing the descriptor releases the lock; the empty lock file stays
            self._fd = None
