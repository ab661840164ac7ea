"""Engine latency on this CPU: torch fp32, ONNX Runtime fp32 and ONNX Runtime INT8 (QDQ), batch 1 and 8.

Models, all with random weights (timing does not depend on the weight values; accuracy is not measured):
- lite: RetinaNet with the lite backbone, the architecture of the shipped lite detectors (320x320);
- r50: RetinaNet-ResNet50-FPN, 256-channel heads of depth 4, 512x512;
- classifier: the lite quality classifier, as shipped in engines/quality-lite (224x224).
The INT8 models are calibrated on the frames in calibration/laparoscopy/calibrate (as `streamer calibrate`
does), with each quantisation recipe of `streamer calibrate`: "int8-outputs" (everything int8 up to box
decoding; the fastest, tried first) and "float-outputs" (output convolutions float; the fallback when the
accuracy guard refuses the first). Latency = wall time of `engine.infer(batch)` for a batch already in memory; p50/p99 over the timed
runs after warm-up. ONNX Runtime uses its default intra-op thread count (the machine's physical cores),
torch its default thread count. The CPU may be shared: the load average before and after each model is
recorded, and figures taken under load are pessimistic; `cpu_p50_ms` (this process's CPU time per call,
summed over its threads) shows the work itself, which the load does not inflate as much.

Run: python benchmarks/engines.py [--models r50 lite classifier] [--seconds 20]
Writes benchmarks/results/engines.json; prints r50_512_int8_p50_ms last.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import onnxruntime as ort
import torch

from streamer.backends.base import Engine, EngineSpec
from streamer.backends.cache import device_identity
from streamer.backends.calibrate import DEFAULT_CALIBRATION_FRAMES
from streamer.backends.export import export_onnx
from streamer.backends.onnxruntime_engine import OnnxRuntimeEngine, default_intra_op_threads
from streamer.backends.quantize import RECIPES, load_frames, quantize_int8
from streamer.backends.spec import with_precision
from streamer.backends.torch_engine import TorchEngine
from streamer.models.store import build_model
from streamer.types import EAD2019_CLASSES

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "benchmarks" / "results"
MODELS: dict[str, tuple[str, dict[str, object]]] = {
    "lite": (
        "detector",
        {
            "builder": "retinanet",
            "backbone": "lite",
            "fpn_channels": 64,
            "head_width": 64,
            "head_depth": 2,
            "separable_heads": True,
            "backbone_width": 0.5,
            "input_size": [320, 320],
        },
    ),
    "r50": ("detector", {"builder": "retinanet", "backbone": "resnet50", "input_size": [512, 512]}),
    "classifier": (
        "classifier",
        {"builder": "classifier", "backbone": "lite", "width": 0.25, "input_size": [224, 224]},
    ),
}
BATCHES = (1, 8)


def latency(
    run: Callable[[], object], *, seconds: float, min_runs: int = 5, max_runs: int = 50
) -> dict[str, float]:
    """Wall-time p50/p99/mean (ms) of `run`, and the p50 of this process's CPU time per call (all threads).

    Timed over at least `min_runs` calls, more while under `seconds`.
    """
    for _ in range(2):  # warm-up: allocations, kernel selection
        run()
    times: list[float] = []
    cpu_times: list[float] = []
    budget_end = time.perf_counter() + seconds
    while len(times) < min_runs or (len(times) < max_runs and time.perf_counter() < budget_end):
        started, cpu_started = time.perf_counter(), time.process_time()
        run()
        times.append((time.perf_counter() - started) * 1e3)
        cpu_times.append((time.process_time() - cpu_started) * 1e3)
    return {
        "p50_ms": float(np.percentile(times, 50)),
        "p99_ms": float(np.percentile(times, 99)),
        "mean_ms": float(np.mean(times)),
        "cpu_p50_ms": float(np.percentile(cpu_times, 50)),
        "runs": len(times),
    }


def bench_model(key: str, workdir: Path, seconds: float) -> dict[str, object]:
    """Latency rows of one model on torch fp32, ONNX Runtime fp32 and ONNX Runtime INT8."""
    task, architecture = MODELS[key]
    size = (int(architecture["input_size"][0]), int(architecture["input_size"][1]))  # type: ignore[index]
    classes = EAD2019_CLASSES if task == "detector" else ("good", "bad")
    spec = EngineSpec(name=key, task=task, classes=classes, input_size=size, max_batch=max(BATCHES))  # type: ignore[arg-type]
    torch.manual_seed(0)
    model = build_model(architecture).eval()
    calibration = load_frames(DEFAULT_CALIBRATION_FRAMES, spec)
    load_before = os.getloadavg()
    started = time.perf_counter()
    fp32_onnx = export_onnx(model, spec, workdir / f"{key}.onnx")
    int8_spec = with_precision(spec, "int8", spec.max_batch)
    int8_onnx = {
        recipe: quantize_int8(
            fp32_onnx, spec, calibration, workdir / f"{key}.{recipe}.onnx", float_outputs=float_outputs
        )
        for recipe, float_outputs in RECIPES.items()
    }
    prepare_s = time.perf_counter() - started
    engines: dict[tuple[str, str, str], Engine] = {
        ("torch", "fp32", ""): TorchEngine(model, spec),
        ("onnxruntime", "fp32", ""): OnnxRuntimeEngine(fp32_onnx, spec),
        **{("onnxruntime", "int8", r): OnnxRuntimeEngine(path, int8_spec) for r, path in int8_onnx.items()},
    }
    rows = []
    for (backend, precision, recipe), engine in engines.items():
        for batch_size in BATCHES:
            batch = torch.from_numpy(np.resize(calibration, (batch_size, *calibration.shape[1:])))
            figures = latency(lambda engine=engine, batch=batch: engine.infer(batch), seconds=seconds)
            row = {
                "backend": backend,
                "precision": precision,
                "recipe": recipe,
                "batch": batch_size,
                **figures,
            }
            rows.append(row)
            print(
                f"{key:10s} {backend:11s} {precision} {recipe:13s} batch {batch_size}: "
                f"p50 {figures['p50_ms']:8.1f} ms  "
                f"p99 {figures['p99_ms']:8.1f} ms  cpu {figures['cpu_p50_ms']:8.1f} ms  "
                f"({figures['runs']} runs, load {os.getloadavg()[0]:.2f})",
                flush=True,
            )
        engine.close()
    return {
        "task": task,
        "architecture": architecture,
        "input_size": list(size),
        "weights": "random (timing only)",
        "export_and_quantise_s": round(prepare_s, 1),
        "load_average_before": [round(v, 2) for v in load_before],
        "load_average_after": [round(v, 2) for v in os.getloadavg()],
        "rows": rows,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", choices=sorted(MODELS), default=["classifier", "lite", "r50"])
    parser.add_argument("--seconds", type=float, default=20.0, help="time budget per row (at least 5 runs)")
    args = parser.parse_args()
    results: dict[str, object] = {
        "machine": {
            "cpu": device_identity(torch.device("cpu"))[0],
            "logical_cpus": os.cpu_count(),
            "onnxruntime_threads": default_intra_op_threads(),
            "torch_threads": torch.get_num_threads(),
            "torch": torch.__version__,
            "onnxruntime": ort.__version__,
            "note": "CPU shared with other processes; see the load averages per model",
        },
        "models": {},
    }
    with tempfile.TemporaryDirectory(prefix="engines-bench-") as scratch:
        for key in args.models:
            results["models"][key] = bench_model(key, Path(scratch), args.seconds)  # type: ignore[index]
    r50 = results["models"].get("r50")  # type: ignore[union-attr]
    if r50 is not None:
        fastest = next(iter(RECIPES))
        int8_row = next(
            r for r in r50["rows"] if r["precision"] == "int8" and r["recipe"] == fastest and r["batch"] == 1
        )
        results["r50_512_int8_p50_ms"] = round(int8_row["p50_ms"], 1)
        results["r50_512_int8_recipe"] = fastest
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "engines.json").write_text(json.dumps(results, indent=2) + "\n")
    if "r50_512_int8_p50_ms" in results:
        print(f"r50_512_int8_p50_ms {results['r50_512_int8_p50_ms']}")


if __name__ == "__main__":
    main()
