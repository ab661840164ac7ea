"""ONNX export with a dynamic batch axis, checked with onnx.checker and against torch's outputs."""

from __future__ import annotations

import contextlib
import io
import logging
import warnings
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import torch
from torch import nn

from streamer.backends.base import EngineSpec
from streamer.backends.spec import INPUT_NAME, SPEC_METADATA_KEY, output_names, spec_to_json
from streamer.errors import ModelError

ONNX_OPSET = 18
PARITY_RTOL = 1e-4


class _ContractOutputs(nn.Module):
    """Returns the model's named outputs as a tuple in contract order (ONNX outputs are positional)."""

    def __init__(self, model: nn.Module, names: tuple[str, ...]) -> None:
        super().__init__()
        self.model = model
        self.names = names

    def forward(self, images: torch.Tensor) -> tuple[torch.Tensor, ...]:
        outputs = self.model(images)
        return tuple(outputs[name] for name in self.names)


def export_onnx(model: nn.Module, spec: EngineSpec, path: Path, *, check_batch: int = 2) -> Path:
    """Export `model` (fp32, CPU) to ONNX at `path` with input "images" (batch, 3, H, W) and contract outputs.

    The batch axis is dynamic (1..spec.max_batch); the spec is stored in the model's metadata. The file is
    checked with onnx.checker and its onnxruntime outputs on a random (check_batch, 3, H, W) batch are
    compared with torch's (relative error <= 1e-4); a mismatch raises ModelError. Returns `path`.
    """
    names = output_names(spec.task)
    wrapped = _ContractOutputs(model, names).eval().float().cpu()
    height, width = spec.input_size
    example = torch.randn(max(2, check_batch), 3, height, width, generator=torch.Generator().manual_seed(0))
    batch_dim = torch.export.Dim("batch", min=1, max=max(2, spec.max_batch))
    path.parent.mkdir(parents=True, exist_ok=True)
    with _quiet_exporter(), torch.no_grad():
        program = torch.onnx.export(
            wrapped,
            (example,),
            input_names=[INPUT_NAME],
            output_names=list(names),
            opset_version=ONNX_OPSET,
            dynamo=True,
            dynamic_shapes={"images": {0: batch_dim}},
            verbose=False,
        )
    onnx_model = program.model_proto
    onnx.helper.set_model_props(onnx_model, {SPEC_METADATA_KEY: spec_to_json(spec)})
    onnx.checker.check_model(onnx_model, full_check=True)
    onnx.save(onnx_model, path)
    compare_with_torch(wrapped, path, example[:check_batch], names)
    return path


def relative_error(expected: np.ndarray, actual: np.ndarray) -> float:
    """Largest absolute difference relative to the largest magnitude of `expected`, or to 1 when that is
    smaller (probabilities near 0 are compared absolutely); 0 for empty arrays."""
    if expected.size == 0:
        return 0.0
    scale = max(float(np.abs(expected).max()), 1.0)
    return float(np.abs(actual - expected).max()) / scale


def compare_with_torch(
    model: nn.Module, onnx_path: Path, batch: torch.Tensor, names: tuple[str, ...], rtol: float = PARITY_RTOL
) -> float:
    """Largest relative error of onnxruntime's outputs vs torch's on `batch`; ModelError above `rtol`."""
    session = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    onnx_outputs = session.run(None, {INPUT_NAME: batch.numpy()})
    with torch.no_grad():
        torch_outputs = model(batch)
    worst = 0.0
    for name, expected, actual in zip(names, torch_outputs, onnx_outputs, strict=True):
        expected_array = expected.numpy()
        worst = max(worst, relative_error(expected_array, actual))
        if worst > rtol:
            raise ModelError(
                f"ONNX export of {onnx_path.name} differs from torch on {name!r}: relative error {worst:.2e}"
            )
    return worst


@contextlib.contextmanager
def _quiet_exporter() -> Iterator[None]:
    """Silence the exporter's progress prints, logs and deprecation chatter while exporting."""
    logger = logging.getLogger("torch.onnx")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
            warnings.simplefilter("ignore")
            yield
    finally:
        logger.setLevel(level)
