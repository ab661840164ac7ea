"""`scorer`: one predictions/NNNNNN.txt per good frame in the EAD2019 scorer's format."""

from __future__ import annotations

from streamer.evaluate.scorer_txt import write_scorer_txt
from streamer.sinks.base import OutputFrame, Sink, SinkContext


class ScorerText(Sink):
    """predictions/ (`class confidence x1 y1 x2 y2` per line), ready for `streamer eval detections`."""

    def __init__(self, context: SinkContext) -> None:
        self._folder = context.out_dir / "predictions"
        self._folder.mkdir(parents=True, exist_ok=True)

    def write(self, frame: OutputFrame) -> None:
        if frame.good and frame.result.detections is not None:
            write_scorer_txt(self._folder / f"{frame.result.frame.index:06d}.txt", frame.detections)

    def close(self) -> None:
        """Each file is complete when written."""

    def paths(self) -> dict[str, str]:
        return {"scorer": str(self._folder)}
