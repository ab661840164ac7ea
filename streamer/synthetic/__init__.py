"""Procedural endoscopy frames and videos with exact EAD2019 artefact boxes, and frame degradations.

The names below are imported on first use, so that `streamer --help` does not load the image stack.
"""

from __future__ import annotations

import importlib
from typing import Any

_HOMES: dict[str, str] = {
    "DEGRADATIONS": "streamer.synthetic.degradations",
    "degrade": "streamer.synthetic.degradations",
    "SyntheticSample": "streamer.synthetic.sample",
    "SyntheticVideo": "streamer.synthetic.scene",
    "generate_frame": "streamer.synthetic.scene",
    "write_ead2019_dataset": "streamer.synthetic.dataset",
    "write_video": "streamer.synthetic.dataset",
}
__all__ = sorted(_HOMES)


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(_HOMES[name]), name)
