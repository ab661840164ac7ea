"""Draw detections, a quality badge and a status line on a copy of a frame (RGB)."""

from __future__ import annotations

import functools
from dataclasses import dataclass

import cv2
import numpy as np

from streamer.types import Detections, Verdict

# RGB colour of each EAD2020 class; classes of other models take OTHER_COLOURS in class order.
CLASS_COLOURS: dict[str, tuple[int, int, int]] = {
    "specularity": (255, 255, 0),
    "saturation": (255, 128, 0),
    "artifact": (255, 0, 255),
    "blur": (0, 200, 255),
    "contrast": (128, 128, 255),
    "bubbles": (0, 255, 128),
    "instrument": (255, 255, 255),
    "blood": (200, 0, 40),
}
OTHER_COLOURS: tuple[tuple[int, int, int], ...] = ((255, 200, 150), (150, 255, 255), (200, 150, 255))
GOOD_COLOUR = (0, 190, 0)
BAD_COLOUR = (220, 0, 0)
FONT = cv2.FONT_HERSHEY_SIMPLEX
MIN_CAPTIONED_SIDE = 12  # boxes smaller than this (in line-width units) are drawn without a caption


@functools.cache
def class_colours(classes: tuple[str, ...]) -> tuple[tuple[int, int, int], ...]:
    """The RGB colour of each class in `classes`: its EAD colour, else the next of OTHER_COLOURS."""
    return tuple(
        CLASS_COLOURS.get(name, OTHER_COLOURS[index % len(OTHER_COLOURS)])
        for index, name in enumerate(classes)
    )


@dataclass(frozen=True)
class StatusLine:
    """Figures shown at the bottom of the frame: fps (frames/s), a latency (ms) named `latency_name`,
    frames dropped and, when the drawn results are older than the frame, their age (ms)."""

    fps: float
    latency_ms: float
    dropped: int = 0
    latency_name: str = "e2e"
    result_age_ms: float | None = None

    def text(self) -> str:
        text = f"{self.fps:5.1f} fps  {self.latency_name} {self.latency_ms:6.1f} ms  dropped {self.dropped}"
        if self.result_age_ms is not None:
            text += f"  results {self.result_age_ms:.0f} ms old"
        return text


class Overlay:
    """`annotate(image, verdict, detections, status) -> new image`; line widths scale with the frame size.
    Boxes are named and coloured by their detections' own class list."""

    def annotate(
        self,
        image: np.ndarray,
        verdict: Verdict | None,
        detections: Detections | None,
        status: StatusLine | None = None,
    ) -> np.ndarray:
        """image: H×W×3 uint8 RGB (not modified). Returns the annotated copy."""
        canvas = image.copy()
        unit = max(1, round(min(canvas.shape[:2]) / 360))
        if detections is not None and len(detections):
            self._draw_detections(canvas, detections, unit)
        if verdict is not None:
            self._draw_badge(canvas, verdict, unit)
        if status is not None:
            self._draw_status(canvas, status, unit)
        return canvas

    def _draw_detections(self, canvas: np.ndarray, detections: Detections, unit: int) -> None:
        boxes, scores, labels = detections.numpy()
        boxes = boxes.round().astype(int)
        colours = class_colours(detections.classes)
        for (x1, y1, x2, y2), score, label in zip(boxes, scores, labels, strict=True):
            colour = colours[int(label)]
            cv2.rectangle(canvas, (x1, y1), (x2, y2), colour, unit)
            if min(x2 - x1, y2 - y1) < MIN_CAPTIONED_SIDE * unit:
                continue  # small boxes keep their colour but no caption, so clusters stay readable
            caption = f"{detections.classes[int(label)]} {score:.2f}"
            self._label(canvas, caption, (x1, max(y1 - 3 * unit, 10 * unit)), colour, unit, scale=0.35)

    def _draw_badge(self, canvas: np.ndarray, verdict: Verdict, unit: int) -> None:
        colour = GOOD_COLOUR if verdict.is_good else BAD_COLOUR
        text = f"{verdict.label.value.upper()} p_bad {verdict.p_bad:.2f}"
        if not verdict.is_good and verdict.causes:
            text += " " + ", ".join(f"{c} {verdict.causes[c]:.0%}" for c in verdict.main_causes())
        (width, height), _ = cv2.getTextSize(text, FONT, 0.5 * unit, unit)
        margin = 6 * unit
        cv2.rectangle(
            canvas, (margin, margin), (margin + width + 2 * margin, margin + height + 2 * margin), colour, -1
        )
        cv2.putText(
            canvas,
            text,
            (2 * margin, height + 2 * margin),
            FONT,
            0.5 * unit,
            (255, 255, 255),
            unit,
            cv2.LINE_AA,
        )
        if not verdict.is_good:
            cv2.rectangle(canvas, (0, 0), (canvas.shape[1] - 1, canvas.shape[0] - 1), BAD_COLOUR, 3 * unit)

    def _draw_status(self, canvas: np.ndarray, status: StatusLine, unit: int) -> None:
        self._label(
            canvas, status.text(), (6 * unit, canvas.shape[0] - 6 * unit), (255, 255, 255), unit, scale=0.45
        )

    @staticmethod
    def _label(
        canvas: np.ndarray,
        text: str,
        origin: tuple[int, int],
        colour: tuple[int, int, int],
        unit: int,
        scale: float,
    ) -> None:
        """Text with a dark background so it stays legible on bright tissue."""
        (width, height), baseline = cv2.getTextSize(text, FONT, scale * unit, unit)
        x, y = origin
        cv2.rectangle(canvas, (x, y - height - unit), (x + width, y + baseline), (0, 0, 0), -1)
        cv2.putText(canvas, text, (x, y), FONT, scale * unit, colour, unit, cv2.LINE_AA)
