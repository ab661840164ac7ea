"""The bundled clip played several times in a row, as one file (packets copied, timestamps shifted)."""

from __future__ import annotations

from pathlib import Path

import av


def looped_clip(source: Path, times: int, target: Path) -> Path:
    """Write `source`'s video stream `times` times in a row to `target` without re-encoding."""
    with av.open(str(source)) as first:
        stream = first.streams.video[0]
        duration = int(stream.duration or 0) or int(
            stream.frames * (1 / stream.average_rate) / stream.time_base
        )
    with av.open(str(target), "w") as output:
        video = None
        for loop in range(times):
            with av.open(str(source)) as container:
                incoming = container.streams.video[0]
                if video is None:
                    video = output.add_stream_from_template(incoming)
                for packet in container.demux(incoming):
                    if packet.dts is None:
                        continue
                    packet.pts += loop * duration
                    packet.dts += loop * duration
                    packet.stream = video
                    output.mux(packet)
    return target
