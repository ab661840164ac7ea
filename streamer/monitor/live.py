"""A run's live monitor: its state, its newest frame and its HTTP server, started and closed together."""

from __future__ import annotations

from streamer.config import MonitorConfig
from streamer.monitor.hub import EventHub, FrameBroadcast
from streamer.monitor.server import MonitorServer
from streamer.monitor.state import MonitorState


class LiveMonitor:
    """Serves the page for one run of `source` as configured; `url` is where to point a browser."""

    def __init__(self, config: MonitorConfig, source: str) -> None:
        self.config = config
        self.state = MonitorState(source, EventHub())
        self.broadcast = FrameBroadcast()
        self._server = MonitorServer(config.host, config.port, config.token, self.state, self.broadcast)
        self._server.start()

    @property
    def url(self) -> str:
        return self._server.url

    def close(self) -> None:
        self._server.close()
