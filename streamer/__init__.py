"""streamer: real-time endoscopy video stream processor."""

__version__ = "0.1.0"
