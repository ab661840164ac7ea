"""User-facing errors and warnings. The CLI prints an error's message on one line and exits non-zero; a
warning is one `streamer: warning: ...` line on stderr and the work goes on."""

import sys

INTERRUPTED_EXIT_CODE = 130  # Ctrl-C or SIGTERM: 128 + SIGINT, as shells report it


def warn(message: str) -> None:
    """One line on stderr: `streamer: warning: MESSAGE`."""
    print(f"streamer: warning: {message}", file=sys.stderr, flush=True)


class StreamerError(Exception):
    """Base class of every error caused by input, configuration or environment rather than by a bug."""

    exit_code: int = 2


class SourceError(StreamerError):
    """A video source cannot be opened or read (missing file, corrupt data, no device, unreachable URL)."""

    exit_code = 3


class ModelError(StreamerError):
    """A model or engine file is missing, corrupt or does not match its manifest."""

    exit_code = 4


class ConfigError(StreamerError):
    """An invalid option, profile or combination of options."""

    exit_code = 2


class SinkError(StreamerError):
    """An output cannot be written."""

    exit_code = 5


class DataError(StreamerError):
    """A dataset, label or prediction file is malformed."""

    exit_code = 6
