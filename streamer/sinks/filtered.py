"""`filtered`: only the good frames, without overlay, numbered contiguously at the source rate."""

from __future__ import annotations

from streamer.sinks.base import OutputFrame, Sink, SinkContext
from streamer.sinks.video import VideoSink


class FilteredVideo(Sink):
    """filtered.mp4."""

    def __init__(self, context: SinkContext) -> None:
        self._video = VideoSink(
            context.out_dir / "filtered.mp4",
            fps=context.fps,
            preset=context.video_preset,
            crf=context.video_crf,
        )

    def write(self, frame: OutputFrame) -> None:
        if frame.good:
            self._video.write(frame.result.frame.image)

    def close(self) -> None:
        self._video.close()

    def paths(self) -> dict[str, str]:
        return {"filtered": str(self._video.path)}
