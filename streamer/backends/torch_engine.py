"""The torch backend: an nn.Module on CPU or CUDA in fp32, fp16 or bf16, channels_last, CUDA graphs on GPU."""

from __future__ import annotations

import torch
from torch import nn

from streamer.backends.base import EngineSpec
from streamer.backends.spec import check_batch, check_outputs, output_names
from streamer.errors import ConfigError

TORCH_DTYPES: dict[str, torch.dtype] = {"fp32": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16}


class TorchEngine:
    """Runs `module` (outputs per the engine contract) on `device` at `spec.precision`.

    On CUDA with `cuda_graphs`, one graph is captured per batch size on first use, reading from a
    static (B, 3, H, W) input buffer; outputs are copied out of the graph's static buffers, so they
    stay valid after the next call. Outputs are always float32 on `device`.
    """

    backend = "torch"

    def __init__(
        self,
        module: nn.Module,
        spec: EngineSpec,
        *,
        device: torch.device | str = "cpu",
        channels_last: bool = True,
        cuda_graphs: bool = True,
    ) -> None:
        if spec.precision not in TORCH_DTYPES:
            raise ConfigError(
                f"the torch backend runs {sorted(TORCH_DTYPES)}, not {spec.precision!r}; "
                "int8 runs on onnxruntime or tensorrt"
            )
        self.device = torch.device(device)
        if self.device.type == "cuda" and not torch.cuda.is_available():
            raise ConfigError("device 'cuda' requested but torch sees no CUDA device")
        self.spec = spec
        self._dtype = TORCH_DTYPES[spec.precision]
        self._memory_format = torch.channels_last if channels_last else torch.contiguous_format
        self._module = module.eval().to(
            device=self.device, dtype=self._dtype, memory_format=self._memory_format
        )
        self._use_graphs = cuda_graphs and self.device.type == "cuda"
        self._graphs: dict[int, tuple[torch.cuda.CUDAGraph, torch.Tensor, dict[str, torch.Tensor]]] = {}
        self._names = output_names(spec.task)
        self._check_contract()

    def _check_contract(self) -> None:
        """Run one batch of zeros and check the outputs against the spec (ModelError on mismatch)."""
        height, width = self.spec.input_size
        probe = torch.zeros((1, 3, height, width), device=self.device, dtype=self._dtype)
        with torch.inference_mode():
            outputs = self._module(probe.contiguous(memory_format=self._memory_format))
        check_outputs(self.spec, dict(outputs), batch_size=1)

    def _forward(self, batch: torch.Tensor) -> dict[str, torch.Tensor]:
        outputs = self._module(batch)
        return {name: outputs[name] for name in self._names}

    def _prepare(self, batch: torch.Tensor) -> torch.Tensor:
        return batch.to(device=self.device, dtype=self._dtype, memory_format=self._memory_format)

    def _graph_for(
        self, batch_size: int
    ) -> tuple[torch.cuda.CUDAGraph, torch.Tensor, dict[str, torch.Tensor]]:
        """Capture (once) the CUDA graph of `batch_size` with its static input and output buffers."""
        if batch_size not in self._graphs:
            height, width = self.spec.input_size
            static_input = torch.zeros((batch_size, 3, height, width), device=self.device, dtype=self._dtype)
            static_input = static_input.contiguous(memory_format=self._memory_format)
            side_stream = torch.cuda.Stream(self.device)
            side_stream.wait_stream(torch.cuda.current_stream(self.device))
            with torch.cuda.stream(side_stream):
                for _ in range(3):  # warm-up iterations outside the graph (cuDNN autotuning, lazy init)
                    self._forward(static_input)
            torch.cuda.current_stream(self.device).wait_stream(side_stream)
            graph = torch.cuda.CUDAGraph()
            with torch.cuda.graph(graph):
                static_outputs = self._forward(static_input)
            self._graphs[batch_size] = (graph, static_input, static_outputs)
        return self._graphs[batch_size]

    @torch.inference_mode()
    def infer(self, batch: torch.Tensor) -> dict[str, torch.Tensor]:
        """batch: (B, 3, H, W) float32 normalised; returns the named float32 outputs on `device`."""
        check_batch(self.spec, batch)
        if not self._use_graphs:
            outputs = self._forward(self._prepare(batch))
            return {name: value.float() for name, value in outputs.items()}
        graph, static_input, static_outputs = self._graph_for(batch.shape[0])
        static_input.copy_(batch)
        graph.replay()
        return {name: value.to(torch.float32, copy=True) for name, value in static_outputs.items()}

    def close(self) -> None:
        self._graphs.clear()

    def __enter__(self) -> TorchEngine:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
