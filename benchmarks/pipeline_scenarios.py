"""The `streamer bench` scenarios on the bundled real clip, recorded for this machine.

Scenarios: lite profile live (paced at 25 fps, drop-oldest) and file (as fast as possible); RetinaNet-R50
(untrained, 512x512) live in FP32 and in INT8 (the profile's models are calibrated first where they have
no INT8 model, as `streamer calibrate --profile r50` does); the ensemble profile live. Each writes benchmarks/results/bench_<name>.json;
a table of all of them goes to benchmarks/results/bench_scenarios.md.

Run: python benchmarks/pipeline_scenarios.py [--only lite-live ...] [--device cuda] [--backend ...]
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import Any

from streamer.backends.calibrate import calibrate_model
from streamer.backends.factory import ModelSource
from streamer.bench.report import format_report
from streamer.bench.run_bench import run_bench
from streamer.config import available_profiles, load_profile, with_overrides
from streamer.paths import DEMO_CLIP
from streamer.pipeline.engine_loading import profile_model_paths

RESULTS = Path(__file__).resolve().parent / "results"
SCENARIOS: dict[str, dict[str, Any]] = {
    "lite-live": {"profile": "lite", "mode": "live", "frames": 225, "warmup": 25},
    "lite-file": {"profile": "lite", "mode": "file", "frames": 225, "warmup": 25},
    "r50-live": {"profile": "r50", "mode": "live", "frames": 60, "warmup": 5},
    "r50-int8-live": {"profile": "r50", "precision": "int8", "mode": "live", "frames": 100, "warmup": 5},
    "ensemble-live": {"profile": "ensemble", "mode": "live", "frames": 225, "warmup": 25},
}


def run_scenario(name: str, device: str | None, backend: str | None) -> dict[str, Any]:
    scenario = SCENARIOS[name]
    precision = scenario.get("precision")
    config = with_overrides(
        load_profile(scenario["profile"]), device=device, backend=backend, precision=precision
    )
    if precision == "int8":
        for model in profile_model_paths(config):
            if not ModelSource.open(model, max_batch=1).int8_path.is_file():
                print(calibrate_model(model).reason, flush=True)
    report = run_bench(
        str(DEMO_CLIP),
        config,
        frames=scenario["frames"],
        warmup=scenario["warmup"],
        mode=scenario["mode"],
        plots=RESULTS / f"bench_{name}",
        naive=scenario["mode"] == "file",
    )
    report["scenario"] = name
    report["load_average_at_end"] = os.getloadavg()
    (RESULTS / f"bench_{name}.json").write_text(json.dumps(report, indent=2) + "\n")
    print(format_report(report), flush=True)
    return report


def markdown_table(reports: list[dict[str, Any]]) -> str:
    rows = [
        "| scenario | backend | fps | e2e p50 ms | e2e p99 ms | dropped | real time | naive loop fps |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for report in reports:
        e2e = report["latency_ms"]["e2e"]
        naive = report.get("naive_loop", {}).get("fps", "")
        rows.append(
            f"| {report['scenario']} | {', '.join(report['backend'])} | {report['fps']} | {e2e['p50']} | {e2e['p99']} | "
            f"{sum(report['drops'].values())} of {report['frames']} | {'yes' if report['realtime'] else 'no'} | {naive} |"
        )
    return "\n".join(rows) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", choices=sorted(SCENARIOS), default=None)
    parser.add_argument("--device", default=None)
    parser.add_argument("--backend", default=None)
    args = parser.parse_args()
    names = args.only or [n for n in SCENARIOS if SCENARIOS[n]["profile"] in available_profiles()]
    RESULTS.mkdir(parents=True, exist_ok=True)
    reports = [run_scenario(name, args.device, args.backend) for name in names]
    recorded = [json.loads(path.read_text()) for path in sorted(RESULTS.glob("bench_*.json"))]
    recorded = [report for report in recorded if "scenario" in report]  # `streamer bench --json` records too
    machine = reports[0]["machine"] if reports else {}
    (RESULTS / "bench_scenarios.md").write_text(
        "# streamer bench scenarios on the bundled clip (1280x720, 25 fps)\n\n"
        f"Machine: {machine.get('platform', '?')}, {machine.get('cpus', '?')} CPUs. "
        "Command: `python benchmarks/pipeline_scenarios.py`. Live mode paces the clip at 25 fps; "
        "annotated.mp4 and frames.jsonl are written in every scenario.\n\n" + markdown_table(recorded)
    )


if __name__ == "__main__":
    main()
