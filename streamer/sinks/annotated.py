"""`annotated`: every processed frame with the overlay, H.264 at the source rate and timestamps."""

from __future__ import annotations

from streamer.sinks.base import OutputFrame, Sink, SinkContext
from streamer.sinks.video import VideoSink


class AnnotatedVideo(Sink):
    """annotated.mp4."""

    needs_picture = True

    def __init__(self, context: SinkContext) -> None:
        self._video = VideoSink(
            context.out_dir / "annotated.mp4",
            fps=context.fps,
            preset=context.video_preset,
            crf=context.video_crf,
        )

    def write(self, frame: OutputFrame) -> None:
        assert frame.picture is not None  # needs_picture
        source = frame.result.frame
        self._video.write(frame.picture, source.pts, source.time_base)

    def close(self) -> None:
        self._video.close()

    def paths(self) -> dict[str, str]:
        return {"annotated": str(self._video.path)}
