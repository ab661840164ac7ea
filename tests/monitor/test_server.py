"""The monitor's HTTP server on its own: routes, the MJPEG stream, the event stream, the token."""

import json
import socket
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator

import cv2
import numpy as np
import pytest

from streamer.errors import ConfigError
from streamer.monitor.hub import EventHub, FrameBroadcast
from streamer.monitor.server import MonitorServer, is_loopback
from streamer.monitor.state import MonitorState


def _jpeg(value: int) -> bytes:
    return cv2.imencode(".jpg", np.full((32, 48, 3), value, np.uint8))[1].tobytes()


@pytest.fixture
def loopback_server() -> Iterator[MonitorServer]:
    server = MonitorServer("127.0.0.1", 0, None, MonitorState("clip.mp4", EventHub()), FrameBroadcast())
    server.start()
    yield server
    server.close()


def _get(url: str, headers: dict[str, str] | None = None) -> tuple[int, bytes, str]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, response.read(), response.headers["Content-Type"]
    except urllib.error.HTTPError as error:
        return error.code, error.read(), error.headers["Content-Type"]


def test_page_and_status_on_loopback_need_no_token(loopback_server):
    base = f"http://127.0.0.1:{loopback_server.port}"
    status, page, kind = _get(base + "/")
    assert status == 200 and kind.startswith("text/html")
    assert b"stream.mjpg" in page and b"EventSource" in page
    assert b"http://" not in page and b"https://" not in page  # no external asset
    status, body, kind = _get(base + "/status")
    assert status == 200 and kind == "application/json"
    report = json.loads(body)
    assert {"frames", "fps", "latency_ms", "dropped", "verdict", "detections", "source"} <= report.keys()
    assert report["source"] == "clip.mp4" and report["phase"] == "starting"
    assert _get(base + "/nothing")[0] == 404


def test_the_mjpeg_stream_carries_the_newest_frames(loopback_server):
    publisher_done = threading.Event()

    def publish() -> None:
        value = 0
        while not publisher_done.is_set():
            loopback_server.broadcast.publish(_jpeg(value % 250))
            value += 10
            time.sleep(0.02)

    thread = threading.Thread(target=publish)
    thread.start()
    try:
        with socket.create_connection(("127.0.0.1", loopback_server.port), timeout=5) as connection:
            connection.sendall(b"GET /stream.mjpg HTTP/1.1\r\nHost: x\r\n\r\n")
            data = b""
            while data.count(b"--streamerframe") < 4:
                data += connection.recv(65536)
    finally:
        publisher_done.set()
        thread.join()
    head, _, body = data.partition(b"\r\n\r\n")
    assert b"multipart/x-mixed-replace; boundary=streamerframe" in head
    parts = body.split(b"--streamerframe")[1:-1]
    images = []
    for part in parts:
        headers, _, jpeg = part.partition(b"\r\n\r\n")
        length = int(headers.split(b"Content-Length: ")[1].split(b"\r\n")[0])
        images.append(cv2.imdecode(np.frombuffer(jpeg[:length], np.uint8), cv2.IMREAD_COLOR))
    assert len(images) >= 2 and all(image.shape == (32, 48, 3) for image in images)
    assert len({int(image.mean()) for image in images}) >= 2  # frames change


def test_the_event_stream_sends_status_and_frame_events(loopback_server):
    url = f"http://127.0.0.1:{loopback_server.port}/events"
    with urllib.request.urlopen(url, timeout=5) as response:
        assert response.headers["Content-Type"] == "text/event-stream"
        loopback_server.state.hub.publish("frame", {"index": 7})
        text, deadline = "", time.monotonic() + 10
        while ("event: frame" not in text or text.count("event: status") < 2) and time.monotonic() < deadline:
            text += response.read1(4096).decode()
    assert 'data: {"index":7}' in text


def test_a_viewer_that_stops_reading_never_holds_up_publishing(loopback_server):
    stalled = socket.create_connection(("127.0.0.1", loopback_server.port))
    stalled.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    stalled.sendall(b"GET /stream.mjpg HTTP/1.1\r\nHost: x\r\n\r\n")
    big = np.random.default_rng(0).integers(0, 255, (480, 640, 3), dtype=np.uint8)
    jpeg = cv2.imencode(".jpg", big)[1].tobytes()  # ~ 200 kB: the socket buffers fill at once
    started = time.perf_counter()
    for _ in range(200):
        loopback_server.broadcast.publish(jpeg)
        time.sleep(0.002)
    elapsed = time.perf_counter() - started
    assert elapsed < 2.0  # 200 publishes with 2 ms sleeps: not waiting for the stalled viewer
    assert _get(f"http://127.0.0.1:{loopback_server.port}/status")[0] == 200  # others still served
    stalled.close()


def test_off_loopback_every_request_needs_the_token():
    server = MonitorServer("0.0.0.0", 0, None, MonitorState("clip.mp4", EventHub()), FrameBroadcast())
    server.start()
    try:
        assert server.token and len(server.token) >= 16  # generated
        assert server.url.endswith(f"/?token={server.token}")
        base = f"http://127.0.0.1:{server.port}"
        for path in ("/", "/status", "/stream.mjpg", "/events"):
            assert _get(base + path)[0] == 401
            assert _get(base + path + "?token=wrong")[0] == 401
        assert _get(base + "/status?token=" + server.token)[0] == 200
        assert _get(base + "/status", {"X-Streamer-Token": server.token})[0] == 200
        assert _get(base + "/status", {"Authorization": f"Bearer {server.token}"})[0] == 200
    finally:
        server.close()


def test_a_given_token_is_required_on_loopback_too():
    server = MonitorServer("127.0.0.1", 0, "s3cret", MonitorState("x", EventHub()), FrameBroadcast())
    server.start()
    try:
        assert _get(f"http://127.0.0.1:{server.port}/status")[0] == 401
        assert _get(f"http://127.0.0.1:{server.port}/status?token=s3cret")[0] == 200
    finally:
        server.close()


def test_a_port_in_use_is_a_config_error(loopback_server):
    with pytest.raises(ConfigError, match=r"cannot serve on 127\.0\.0\.1"):
        MonitorServer(
            "127.0.0.1", loopback_server.port, None, MonitorState("x", EventHub()), FrameBroadcast()
        )


def test_loopback_addresses():
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.4")
