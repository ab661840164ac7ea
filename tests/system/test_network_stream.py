"""`streamer run` on a live network stream (MPEG-TS over TCP) that ends and comes back once."""

from __future__ import annotations

import itertools
import json
import socket
import threading
from pathlib import Path

import av
import pytest

from streamer.capture.pyav_source import PyAVSource
from streamer.errors import SourceError
from tests.support import read_jsonl, run_streamer

SECONDS = 2.0


def transport_stream(clip: Path, target: Path, seconds: float) -> tuple[bytes, int]:
    """The first `seconds` of `clip` remuxed to MPEG-TS: (its bytes, its number of video frames)."""
    with av.open(str(clip)) as source, av.open(str(target), "w", format="mpegts") as output:
        video = source.streams.video[0]
        stream = output.add_stream_from_template(video)
        for packet in source.demux(video):
            if packet.dts is None:
                continue
            if packet.pts is not None and packet.pts * video.time_base >= seconds:
                break
            packet.stream = stream
            output.mux(packet)
    with av.open(str(target)) as check:
        frames = sum(1 for _ in check.decode(video=0))
    return target.read_bytes(), frames


class StreamServer:
    """Serves `payload` over TCP to `connections` clients in turn, then stops listening.

    hang_up: close each connection once the payload is sent; False keeps them open, sending nothing more
    (a stalled stream), until `close()`.
    """

    def __init__(self, payload: bytes, connections: int, *, hang_up: bool = True) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"tcp://127.0.0.1:{self._listener.getsockname()[1]}"
        self._payload = payload
        self._connections = connections
        self._hang_up = hang_up
        self._open: list[socket.socket] = []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        with self._listener:
            for _ in range(self._connections):
                client, _ = self._listener.accept()
                client.sendall(self._payload)
                if self._hang_up:
                    client.close()
                else:
                    self._open.append(client)

    def close(self) -> None:
        for client in self._open:
            client.close()


@pytest.fixture(scope="module")
def stream_bytes(real_clip: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[bytes, int]:
    return transport_stream(real_clip, tmp_path_factory.mktemp("ts") / "clip.ts", SECONDS)


def test_live_stream_reconnects_and_keeps_one_continuous_video(
    stream_bytes: tuple[bytes, int], tmp_path: Path
) -> None:
    payload, frames_per_connection = stream_bytes
    server = StreamServer(payload, connections=2)
    out = tmp_path / "out"
    done = run_streamer(
        "run", server.url, "--profile", "noop", "--reconnect", "2", "--out", str(out), "--no-progress",
        "--outputs", "annotated,jsonl",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    summary = json.loads((out / "summary.json").read_text())
    assert summary["source"]["live"] is True and summary["queue_policy"] == "drop_oldest"
    frames = summary["frames"]
    assert frames["in"] == 2 * frames_per_connection, "both connections were read to the end"
    assert frames["processed"] + frames["dropped_total"] == frames["in"]
    records, events = read_jsonl(out / "frames.jsonl")
    assert [e["event"] for e in events if e["event"] != "run_started"][:3] == [
        "signal_lost",
        "reconnected",
        "signal_lost",
    ]
    assert events[-1]["event"] == "stream_ended"
    assert sorted(r["index"] for r in records) == list(range(frames["in"])), "one record per frame read"
    assert sum(r["dropped"] is None for r in records) == frames["processed"]
    with av.open(str(out / "annotated.mp4")) as container:
        seconds = [float(f.pts * f.time_base) for f in container.decode(video=0)]
    assert len(seconds) == frames["processed"]
    assert all(later > earlier for earlier, later in itertools.pairwise(seconds))
    assert seconds[-1] > SECONDS, "the second connection continues the video after the first"


def test_stalled_live_stream_has_delivered_every_decodable_frame(stream_bytes: tuple[bytes, int]) -> None:
    # The server sends the stream and then keeps the connection open: nothing else arrives. Each frame
    # sent must already be out of the decoder then (but the last two, which B-frame reordering holds),
    # rather than waiting in frame-threaded decoders for frames that come 40 ms apart.
    payload, frames_sent = stream_bytes
    server = StreamServer(payload, connections=1, hang_up=False)
    source = PyAVSource(server.url, open_timeout_s=5, read_timeout_s=1)
    received = 0
    with pytest.raises(SourceError, match="no data within the read timeout"), source:
        for _ in source.read():
            received += 1
    server.close()
    assert source.info.is_live
    assert received >= frames_sent - 2
