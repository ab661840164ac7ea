"""Synthetic endoscopy video as a source: runs everything without a device or a file."""

from __future__ import annotations

import time
from collections.abc import Iterator

from streamer.capture.source import RawFrame, SourceInfo
from streamer.errors import SourceError

SYNTHETIC_SIZE = (640, 480)  # (W, H) pixels
SYNTHETIC_FPS = 25.0
SYNTHETIC_FRAMES = 250  # 10 s unless --max-frames says otherwise


def parse_synthetic_spec(spec: str) -> int:
    """Seed of `synthetic` (0) or `synthetic:SEED`; SourceError for anything else."""
    _, _, seed_text = spec.partition(":")
    if not seed_text:
        return 0
    try:
        return int(seed_text)
    except ValueError as error:
        raise SourceError(
            f"invalid synthetic source {spec!r}: expected synthetic or synthetic:SEED"
        ) from error


class SyntheticSource:
    """A moving-camera synthetic endoscopy scene with artefacts (streamer.synthetic.SyntheticVideo)."""

    def __init__(self, spec: str, *, frames: int | None = None) -> None:
        from streamer.synthetic import SyntheticVideo

        self._seed = parse_synthetic_spec(spec)
        self._frames = frames if frames is not None else SYNTHETIC_FRAMES
        self._video = SyntheticVideo(seed=self._seed, size=SYNTHETIC_SIZE, fps=SYNTHETIC_FPS)
        self.info = SourceInfo(
            id=spec,
            is_live=False,
            fps=SYNTHETIC_FPS,
            width=SYNTHETIC_SIZE[0],
            height=SYNTHETIC_SIZE[1],
            frame_count=self._frames,
        )

    def read(self) -> Iterator[RawFrame]:
        started = time.monotonic_ns()
        for position, sample in enumerate(self._video):
            if position >= self._frames:
                return
            yield RawFrame(
                image=sample.image,
                pts=position,
                time_base=1 / SYNTHETIC_FPS,
                decode_ns=time.monotonic_ns() - started,
            )
            started = time.monotonic_ns()

    def close(self) -> None:
        """Nothing to release."""

    def __enter__(self) -> SyntheticSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
