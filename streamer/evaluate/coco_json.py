"""COCO JSON: {images: [{id, file_name, width, height}], annotations: [{image_id, category_id,
bbox: [x, y, w, h] pixels, score?}], categories: [{id, name}]}.

Image ids in streamer are file-name stems. Written category ids are 1-based positions in the class list.
"""

from __future__ import annotations

import json
from pathlib import Path
from types import TracebackType
from typing import Any

import numpy as np

from streamer.errors import DataError
from streamer.evaluate.textio import write_text
from streamer.types import EAD2019_CLASSES, Detections


def read_coco_json(path: Path, *, predictions: bool) -> dict[str, Detections]:
    """Boxes per image in float64 pixels (keyed by file-name stem, in `images` order), labelled by index
    into the category names in `categories` order; `predictions` requires a score each."""
    try:
        document = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise DataError(f"cannot read COCO JSON {path}: {error}") from error
    if not isinstance(document, dict) or not all(
        k in document for k in ("images", "annotations", "categories")
    ):
        raise DataError(f"{path}: a COCO document needs 'images', 'annotations' and 'categories'")
    try:
        categories = {c["id"]: str(c["name"]) for c in document["categories"]}
        stems = {image["id"]: Path(str(image["file_name"])).stem for image in document["images"]}
        rows: dict[Any, list[tuple[str, list[float], float]]] = {image_id: [] for image_id in stems}
        for number, annotation in enumerate(document["annotations"]):
            where = f"{path}: annotations[{number}]"
            if annotation["image_id"] not in rows:
                raise DataError(f"{where}: unknown image_id {annotation['image_id']!r}")
            if annotation["category_id"] not in categories:
                raise DataError(f"{where}: unknown category_id {annotation['category_id']!r}")
            x, y, w, h = (float(v) for v in annotation["bbox"])
            if predictions and "score" not in annotation:
                raise DataError(f"{where}: a prediction needs a 'score'")
            score = float(annotation["score"]) if predictions else 0.0
            rows[annotation["image_id"]].append(
                (categories[annotation["category_id"]], [x, y, x + w, y + h], score)
            )
    except (KeyError, TypeError, ValueError) as error:
        raise DataError(f"{path}: malformed COCO entry ({type(error).__name__}: {error})") from error
    if len(set(stems.values())) != len(stems):
        raise DataError(f"{path}: two images share a file-name stem")
    classes = tuple(dict.fromkeys(categories.values()))
    return {stems[image_id]: _detections(entries, predictions, classes) for image_id, entries in rows.items()}


def _detections(
    entries: list[tuple[str, list[float], float]], predictions: bool, classes: tuple[str, ...]
) -> Detections:
    names = [name for name, _, _ in entries]
    boxes = np.array([box for _, box, _ in entries], dtype=np.float64).reshape(len(entries), 4)  # (N, 4)
    scores = np.array([score for _, _, score in entries], dtype=np.float64) if predictions else None
    return Detections.from_names(boxes, names, scores, classes)


class CocoWriter:
    """Collects images and their records, writes one COCO JSON file when closed.

    Use as a context manager: `with CocoWriter(path) as coco: coco.add("00003.jpg", (512, 512), detections)`.
    """

    def __init__(self, path: Path, class_names: tuple[str, ...] = EAD2019_CLASSES) -> None:
        self.path = Path(path)
        self.class_names = class_names
        self._images: list[dict[str, object]] = []
        self._annotations: list[dict[str, object]] = []
        self._closed = False

    def add(self, file_name: str, image_size: tuple[int, int], detections: Detections) -> None:
        """Add one image; image_size: (height, width) pixels; detections: its boxes in those pixels, with a
        score each for predictions; their class names must be in the writer's class list."""
        boxes, scores, _ = detections.numpy()
        image_id = len(self._images) + 1
        height, width = image_size
        self._images.append(
            {"id": image_id, "file_name": file_name, "width": int(width), "height": int(height)}
        )
        for i, name in enumerate(detections.names):
            if name not in self.class_names:
                raise DataError(f"{file_name}: class {name!r} is not one of {', '.join(self.class_names)}")
            x1, y1, x2, y2 = (float(v) for v in boxes[i])
            annotation: dict[str, object] = {
                "id": len(self._annotations) + 1,
                "image_id": image_id,
                "category_id": self.class_names.index(name) + 1,
                "bbox": [x1, y1, x2 - x1, y2 - y1],
                "area": (x2 - x1) * (y2 - y1),
                "iscrowd": 0,
            }
            if scores is not None:
                annotation["score"] = float(scores[i])
            self._annotations.append(annotation)

    def close(self) -> None:
        """Write the file (once)."""
        if self._closed:
            return
        self._closed = True
        categories = [{"id": i + 1, "name": name} for i, name in enumerate(self.class_names)]
        document = {"images": self._images, "annotations": self._annotations, "categories": categories}
        write_text(self.path, json.dumps(document))

    def __enter__(self) -> CocoWriter:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()
