"""Output names and the sink that writes each, in the order the output thread writes them.

Adding an output: one file with a `Sink` subclass, one line here. Entries are "module:Class" so that
listing the names (the CLI's help, the config check) imports no sink.
"""

from __future__ import annotations

from contextlib import ExitStack
from importlib import import_module
from typing import TYPE_CHECKING

from streamer.errors import ConfigError

if TYPE_CHECKING:
    from streamer.sinks.base import Sink, SinkContext

SINKS: dict[str, str] = {
    "annotated": "streamer.sinks.annotated:AnnotatedVideo",
    "filtered": "streamer.sinks.filtered:FilteredVideo",
    "coco": "streamer.sinks.coco:CocoDetections",
    "scorer": "streamer.sinks.scorer:ScorerText",
    "jsonl": "streamer.sinks.jsonl:FrameLog",
}
OUTPUT_NAMES = tuple(SINKS)


def check_output_names(names: tuple[str, ...]) -> None:
    """ConfigError naming every unknown output."""
    unknown = sorted(set(names) - set(SINKS))
    if unknown:
        raise ConfigError(f"unknown output(s) {unknown}; choose from {list(SINKS)}")


def sink_class(name: str) -> type[Sink]:
    module, _, attribute = SINKS[name].partition(":")
    return getattr(import_module(module), attribute)


def open_sinks(names: tuple[str, ...], context: SinkContext) -> list[Sink]:
    """The sinks of `names` in registry order, opened; if one fails to open, those opened are closed."""
    check_output_names(names)
    with ExitStack() as opened:
        sinks = []
        for name in (n for n in SINKS if n in names):
            sink = sink_class(name)(context)
            opened.callback(sink.close)
            sinks.append(sink)
        opened.pop_all()
    return sinks
