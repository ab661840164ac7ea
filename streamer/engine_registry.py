"""Backend and precision names, and the function that builds an engine for each backend.

Adding a backend: one file with its Engine and a `build(source, spec, device, cache, threads)` function,
one line here. Entries are "module:function" so that the names (config checks, CLI help, errors) are
read without importing any engine library.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib import import_module
from typing import Any

BACKEND_BUILDERS: dict[str, str] = {
    "torch": "streamer.backends.factory:build_torch_engine",
    "onnxruntime": "streamer.backends.factory:build_onnxruntime_engine",
    "tensorrt": "streamer.backends.factory:build_tensorrt_engine",
}
BACKENDS: tuple[str, ...] = tuple(BACKEND_BUILDERS)
BACKEND_CHOICES: tuple[str, ...] = ("auto", *BACKENDS)  # auto: the best backend for the device
PRECISIONS: tuple[str, ...] = ("fp32", "fp16", "bf16", "int8")


def spoken(names: tuple[str, ...]) -> str:
    """'a, b or c'."""
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"


def engine_builder(backend: str) -> Callable[..., Any]:
    """The build function of `backend` (a name of BACKENDS)."""
    module, _, function = BACKEND_BUILDERS[backend].partition(":")
    return getattr(import_module(module), function)
