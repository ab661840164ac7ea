"""`coco`: the good frames' detections as one COCO file (image `000123.jpg` = frame 123)."""

from __future__ import annotations

from streamer.evaluate.coco_json import CocoWriter
from streamer.sinks.base import OutputFrame, Sink, SinkContext


class CocoDetections(Sink):
    """detections.coco.json, finalized on close."""

    def __init__(self, context: SinkContext) -> None:
        self._writer = CocoWriter(context.out_dir / "detections.coco.json", context.class_names)

    def write(self, frame: OutputFrame) -> None:
        source = frame.result.frame
        if frame.good and frame.result.detections is not None:
            self._writer.add(f"{source.index:06d}.jpg", (source.height, source.width), frame.detections)

    def close(self) -> None:
        self._writer.close()

    def paths(self) -> dict[str, str]:
        return {"coco": str(self._writer.path)}
