"""Score a quality gate on an EAD-format folder labelled by the rule of streamer.evaluate.quality_labels.

Each labelled image is judged as `streamer run` judges an image folder; the report holds the figures of
streamer.evaluate.classification, the mean absolute error of each cause share against the boxes' share, and
optionally a sheet of example frames with their verdicts and reasons.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from streamer.errors import DataError
from streamer.evaluate.folders import find_image, image_size_of, labelled_folder
from streamer.evaluate.quality_labels import QualityTruth, label_frame
from streamer.images import read_rgb
from streamer.types import Verdict

JudgeFn = Callable[[list[np.ndarray]], list[Verdict]]
"""images (H, W, 3) uint8 RGB -> one Verdict each."""
EXAMPLE_SIDE = 200  # pixels of each example tile
BATCH = 8


@dataclass(frozen=True)
class JudgedFrame:
    """One labelled image: its stem and file, the rule's truth and the gate's verdict."""

    stem: str
    image_path: Path
    truth: QualityTruth
    verdict: Verdict


def label_folder(folder: Path, only: set[str] | None = None) -> list[tuple[str, Path, QualityTruth]]:
    """(stem, image path, truth by the rule) of every labelled image of `folder` (labels beside their
    images, or images/ + labels/), in file-name order; only: just these stems (e.g. a validation split)."""
    folder, annotations = labelled_folder(folder, only)
    labelled = []
    for stem, truth in annotations.items():
        image_path = find_image(folder / f"{stem}.txt")
        height, width = image_size_of(image_path)
        labelled.append((stem, image_path, label_frame(truth.numpy()[0], truth.names, width, height)))
    return labelled


def judge_folder(judge: JudgeFn, folder: Path, only: set[str] | None = None) -> list[JudgedFrame]:
    """Every labelled image of `folder` with the gate's verdict on it."""
    labelled = label_folder(folder, only)
    judged: list[JudgedFrame] = []
    for start in range(0, len(labelled), BATCH):
        chunk = labelled[start : start + BATCH]
        verdicts = judge([read_rgb(path) for _, path, _ in chunk])
        judged += [JudgedFrame(s, p, t, v) for (s, p, t), v in zip(chunk, verdicts, strict=True)]
    return judged


def cause_errors(judged: list[JudgedFrame]) -> dict[str, float]:
    """Mean absolute difference per cause between the gate's share and the boxes' share of the frame."""
    causes = [cause for cause in judged[0].truth.causes if all(cause in j.verdict.causes for j in judged)]
    return {
        cause: round(
            float(np.mean([abs(j.verdict.causes[cause] - j.truth.causes[cause]) for j in judged])), 4
        )
        for cause in causes
    }


def example_sheet(judged: list[JudgedFrame], path: Path, per_row: int = 4, seed: int = 0) -> Path:
    """An image (PNG or JPEG by the suffix of `path`) of up to `per_row` frames in each of four rows: called bad and bad, called good and good,
    called bad but good, called good but bad; each tile captioned with p_bad, the reasons and the truth."""
    rng = np.random.default_rng(seed)
    rows = []
    for called_bad, truly_bad in ((True, True), (False, False), (True, False), (False, True)):
        pool = [j for j in judged if (not j.verdict.is_good) == called_bad and j.truth.bad == truly_bad]
        picks = [pool[i] for i in sorted(rng.permutation(len(pool))[:per_row])]
        tiles = [_tile(j) for j in picks]
        tiles += [np.zeros((EXAMPLE_SIDE, EXAMPLE_SIDE, 3), np.uint8)] * (per_row - len(tiles))
        rows.append(np.concatenate(tiles, axis=1))
    sheet = np.concatenate(rows, axis=0)
    path.parent.mkdir(parents=True, exist_ok=True)
    if not cv2.imwrite(str(path), cv2.cvtColor(sheet, cv2.COLOR_RGB2BGR)):
        raise DataError(f"cannot write {path}")
    return path


def _tile(frame: JudgedFrame) -> np.ndarray:
    image = cv2.resize(read_rgb(frame.image_path), (EXAMPLE_SIDE, EXAMPLE_SIDE), interpolation=cv2.INTER_AREA)
    verdict = frame.verdict
    lines = [
        f"{verdict.label.value} p_bad {verdict.p_bad:.2f}",
        " ".join(f"{cause[:3]} {share:.0%}" for cause, share in verdict.causes.items()),
        f"truth {'bad' if frame.truth.bad else 'good'} ({frame.truth.coverage:.0%})",
    ]
    cv2.rectangle(image, (0, 0), (EXAMPLE_SIDE, 14 * len(lines) + 4), (0, 0, 0), -1)
    for number, text in enumerate(lines):
        cv2.putText(
            image,
            text,
            (4, 14 * (number + 1)),
            cv2.FONT_HERSHEY_SIMPLEX,
            0.4,
            (255, 255, 255),
            1,
            cv2.LINE_AA,
        )
    colour = (220, 40, 40) if not verdict.is_good else (40, 180, 40)
    cv2.rectangle(image, (0, 0), (EXAMPLE_SIDE - 1, EXAMPLE_SIDE - 1), colour, 2)
    return image
