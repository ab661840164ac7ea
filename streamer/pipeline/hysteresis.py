"""Hysteresis on per-frame quality labels, so that a verdict does not flicker on video.

A good sequence turns bad only after `bad_after` bad frames in a row, and a bad one good again only after
`good_after` good frames in a row; the first frame sets the starting state. Causal: each frame's label is
decided when it arrives, so live video is not delayed.
"""

from __future__ import annotations

from dataclasses import dataclass

from streamer.types import QualityLabel


@dataclass
class Hysteresis:
    """State machine over labels; `update(frame_label) -> sequence label`."""

    bad_after: int = 3
    good_after: int = 5

    def __post_init__(self) -> None:
        if self.bad_after < 1 or self.good_after < 1:
            raise ValueError(
                f"hysteresis needs bad_after and good_after >= 1, got {self.bad_after}, {self.good_after}"
            )
        self._state: QualityLabel | None = None
        self._streak = 0  # frames in a row that disagree with the state

    def update(self, frame_label: QualityLabel) -> QualityLabel:
        """The sequence's label once `frame_label` is seen."""
        if self._state is None:
            self._state = frame_label
        if frame_label is self._state:
            self._streak = 0
            return self._state
        self._streak += 1
        needed = self.bad_after if frame_label is QualityLabel.BAD else self.good_after
        if self._streak >= needed:
            self._state, self._streak = frame_label, 0
        return self._state


class RunCounter:
    """Counts the maximal runs of good and of bad labels in a sequence fed one label at a time."""

    def __init__(self) -> None:
        self.runs = {QualityLabel.GOOD.value: 0, QualityLabel.BAD.value: 0}
        self._previous: QualityLabel | None = None

    def add(self, label: QualityLabel) -> None:
        if label is not self._previous:
            self.runs[label.value] += 1
            self._previous = label
