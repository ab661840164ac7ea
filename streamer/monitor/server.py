"""The monitor's HTTP server: the page, the MJPEG stream, the status JSON and the event stream.

Built on the standard library's ThreadingHTTPServer: no dependency to install, and a thread per viewer
is what keeps a viewer that stops reading from holding anyone else up (its thread blocks on its own
socket, then times out). A handful of viewers on the machine or the clinic's network is the use case,
not thousands.

On an address other than loopback every request needs the token (`?token=`, an `X-Streamer-Token`
header or `Authorization: Bearer`); without it the answer is 401.
"""

from __future__ import annotations

import hmac
import ipaddress
import json
import secrets
import socket
import threading
import time
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from typing import Any
from urllib.parse import parse_qs, urlsplit

from streamer.errors import ConfigError
from streamer.monitor.hub import EventHub, FrameBroadcast, sse_message
from streamer.monitor.state import MonitorState

BOUNDARY = "streamerframe"
STATUS_EVERY_S = 0.5  # how often the event stream sends the status
SEND_TIMEOUT_S = 10.0  # a viewer whose socket takes no data for this long is disconnected
FRAME_WAIT_S = 1.0


def is_loopback(host: str) -> bool:
    """True for localhost and the loopback addresses (127.0.0.0/8, ::1)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def page_html() -> bytes:
    """The self-contained monitor page (HTML, CSS and script in one file, no external asset)."""
    return resources.files("streamer.monitor").joinpath("page.html").read_bytes()


class MonitorServer:
    """Serves `state` and `broadcast` on host:port (port 0: any free port) until `close()`.

    token: what every request must carry; None on loopback means none is needed, and off loopback one is
    generated (read it from `url`)."""

    def __init__(
        self,
        host: str,
        port: int,
        token: str | None,
        state: MonitorState,
        broadcast: FrameBroadcast,
    ) -> None:
        self.state = state
        self.broadcast = broadcast
        self.token = token or (None if is_loopback(host) else secrets.token_urlsafe(16))
        handler = type("Handler", (_Handler,), {"monitor": self})
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        server_class = type("Server", (ThreadingHTTPServer,), {"address_family": family})
        try:
            self._server = server_class((host, port), handler)
        except OSError as error:
            raise ConfigError(f"cannot serve on {host}:{port}: {error.strerror or error}") from error
        self._server.daemon_threads = True
        self._server.block_on_close = False
        self.host = host
        self.port = int(self._server.server_address[1])
        self._thread = threading.Thread(target=self._server.serve_forever, name="monitor", daemon=True)

    @property
    def hub(self) -> EventHub:
        return self.state.hub

    @property
    def url(self) -> str:
        """The page's address, with the token when one is required."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        query = f"?token={self.token}" if self.token else ""
        return f"http://{host}:{self.port}/{query}"

    def start(self) -> MonitorServer:
        self._thread.start()
        return self

    def close(self) -> None:
        """Stop accepting, end every stream, release the port."""
        self.broadcast.close()
        self.hub.close()
        if self._thread.is_alive():
            self._server.shutdown()
        self._server.server_close()

    def authorised(self, path: str, headers: Any) -> bool:
        if self.token is None:
            return True
        given = parse_qs(urlsplit(path).query).get("token", [None])[0] or headers.get("X-Streamer-Token")
        authorization = headers.get("Authorization") or ""
        if not given and authorization.startswith("Bearer "):
            given = authorization.removeprefix("Bearer ").strip()
        return bool(given) and hmac.compare_digest(str(given), self.token)


class _Handler(BaseHTTPRequestHandler):
    """One request; the class attribute `monitor` is the MonitorServer."""

    monitor: MonitorServer
    server_version = "streamer"

    def do_GET(self) -> None:
        if not self.monitor.authorised(self.path, self.headers):
            self._send(HTTPStatus.UNAUTHORIZED, b"token required\n", "text/plain; charset=utf-8")
            return
        self.connection.settimeout(SEND_TIMEOUT_S)
        route = urlsplit(self.path).path
        try:
            if route in ("/", "/index.html"):
                self._send(HTTPStatus.OK, page_html(), "text/html; charset=utf-8")
            elif route == "/status":
                body = json.dumps(self.monitor.state.status()).encode()
                self._send(HTTPStatus.OK, body, "application/json")
            elif route == "/stream.mjpg":
                self._stream_frames()
            elif route == "/events":
                self._stream_events()
            else:
                self._send(HTTPStatus.NOT_FOUND, b"not found\n", "text/plain; charset=utf-8")
        except (ConnectionError, TimeoutError, OSError):
            pass  # the viewer went away or stopped reading: not an error of the run

    def _send(self, status: HTTPStatus, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def _stream_frames(self) -> None:
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", f"multipart/x-mixed-replace; boundary={BOUNDARY}")
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        broadcast, sequence = self.monitor.broadcast, 0
        while not broadcast.closed:
            newest = broadcast.newer_than(sequence, FRAME_WAIT_S)
            if newest is None:
                continue
            sequence, jpeg = newest
            head = f"--{BOUNDARY}\r\nContent-Type: image/jpeg\r\nContent-Length: {len(jpeg)}\r\n\r\n"
            self.wfile.write(head.encode() + jpeg + b"\r\n")
            self.wfile.flush()

    def _stream_events(self) -> None:
        hub, state = self.monitor.hub, self.monitor.state
        subscription = hub.subscribe()  # before the headers: no event is lost once the viewer has them
        try:
            self.send_response(HTTPStatus.OK)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(b"retry: 1000\n\n" + sse_message("status", state.status()).encode())
            status_due = time.monotonic() + STATUS_EVERY_S
            while not hub.closed:
                messages = subscription.next(max(0.0, status_due - time.monotonic()))
                if time.monotonic() >= status_due:
                    messages.append(sse_message("status", state.status()))
                    status_due = time.monotonic() + STATUS_EVERY_S
                if messages:
                    self.wfile.write("".join(messages).encode())
                    self.wfile.flush()
            self.wfile.write("".join(subscription.next(0)).encode())  # e.g. the end event
        finally:
            subscription.close()

    def log_message(self, format: str, *args: Any) -> None:
        """Requests are not logged: the run's stderr is for the run."""
