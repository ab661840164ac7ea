"""Command-line interface: thin wrappers that parse options, build a config and call the library."""

from __future__ import annotations

import json
import signal
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from streamer.archive.cli import filter_command
from streamer.backends.cli import build_command, calibrate_command
from streamer.engine_registry import BACKEND_CHOICES, spoken
from streamer.errors import INTERRUPTED_EXIT_CODE, StreamerError
from streamer.evaluate.cli import app as eval_app
from streamer.pipeline.classify_cli import classify_command
from streamer.sinks.registry import OUTPUT_NAMES
from streamer.synthetic.cli import app as synth_app
from streamer.train.cli import app as train_app

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="Real-time endoscopy video stream processor: quality gate, artefact detection, overlay, filtered outputs.",
)
app.add_typer(eval_app, name="eval")
app.add_typer(synth_app, name="synth")
app.command("calibrate")(calibrate_command)
app.command("build")(build_command)
app.add_typer(train_app, name="train")
app.command("classify")(classify_command)
app.command("filter")(filter_command)


@app.callback()
def _root() -> None:
    """streamer: quality gate, artefact detection, overlay and filtered outputs for endoscopy video."""


def _run_pipeline(source: str, config: Any, *, progress: bool) -> dict[str, Any]:
    """Run the pipeline with a progress display; returns the summary, exits non-zero on a mid-stream error."""
    from streamer.pipeline.runner import Pipeline
    from streamer.progress import RunProgress

    bar = RunProgress(enabled=progress)

    def serving(url: str) -> None:
        print(f"streamer: monitor at {url}", file=sys.stderr, flush=True)

    try:
        outcome = Pipeline(config, source).run(on_result=bar.update, on_start=bar.start, on_serving=serving)
    finally:
        bar.close()
    if outcome.error is not None:
        print(f"streamer: error: {outcome.error} (outputs kept in {config.output.out_dir})", file=sys.stderr)
        raise typer.Exit(outcome.error.exit_code)
    return outcome.summary


def _print_summary(summary: dict[str, Any]) -> None:
    frames = summary["frames"]
    e2e = summary["latency_ms"].get("e2e", {})
    print(
        f"{frames['processed']} frames processed ({frames['good']} good, {frames['bad']} bad in "
        f"{frames['good_runs']} good and {frames['bad_runs']} bad runs, "
        f"{frames['dropped_total']} dropped) at {summary['fps']:.1f} fps; "
        f"end-to-end latency p50 {e2e.get('p50', 0):.1f} ms, p99 {e2e.get('p99', 0):.1f} ms"
    )
    print(f"outputs: {', '.join(summary['outputs'].values())}")


SourceArg = Annotated[
    str,
    typer.Argument(
        help="Video file, folder or glob of images, URL (rtsp://, rtmp://, http(s)://, udp://), "
        "V4L2 device (/dev/videoN), OpenCV camera index (0), or synthetic[:SEED]."
    ),
]


@app.command()
def run(
    source: SourceArg,
    out: Annotated[
        Path | None, typer.Option("--out", help="Output folder (default: the profile's, else out).")
    ] = None,
    profile: Annotated[str, typer.Option(help="Profile name (lite, noop, ...) or a TOML file.")] = "lite",
    device: Annotated[str | None, typer.Option(help="cpu or cuda.")] = None,
    backend: Annotated[str | None, typer.Option(help=f"{spoken(BACKEND_CHOICES)}.")] = None,
    precision: Annotated[
        str | None, typer.Option(help="fp32, fp16, bf16 (torch, TensorRT) or int8 (calibrated models).")
    ] = None,
    batch: Annotated[int | None, typer.Option(help="Most frames per inference batch.")] = None,
    bad_frames: Annotated[
        str | None, typer.Option(help="What the window shows of bad frames: mark or drop.")
    ] = None,
    show: Annotated[
        bool | None, typer.Option("--show/--no-show", help="Show a live window (needs a display).")
    ] = None,
    max_frames: Annotated[int | None, typer.Option(help="Stop after this many frames.")] = None,
    capture: Annotated[str | None, typer.Option(help="Capture backend: pyav or opencv.")] = None,
    reconnect: Annotated[
        int | None, typer.Option(help="Reconnect attempts when a live stream stops.")
    ] = None,
    realtime: Annotated[
        bool, typer.Option(help="Deliver a file at its frame rate, like a capture card (live queue policy).")
    ] = False,
    outputs: Annotated[
        str | None,
        typer.Option(
            help=f"Comma-separated outputs: {','.join(OUTPUT_NAMES)} (summary always; "
            "default: the profile's)."
        ),
    ] = None,
    detector: Annotated[
        list[str] | None, typer.Option(help="Detector model folder/file (repeat for an ensemble).")
    ] = None,
    classifier: Annotated[str | None, typer.Option(help="Quality classifier folder/file, or none.")] = None,
    quality_threshold: Annotated[
        float | None, typer.Option(help="p_bad at or above which a frame is bad.")
    ] = None,
    score_threshold: Annotated[float | None, typer.Option(help="Lowest detection score kept.")] = None,
    progress: Annotated[bool, typer.Option(help="Show a progress bar / live status line.")] = True,
    overwrite: Annotated[
        bool, typer.Option("--overwrite", help="Replace an earlier run's outputs in --out.")
    ] = False,
    serve: Annotated[
        str | None,
        typer.Option(
            help="Serve the live monitor page on [HOST:]PORT (host 127.0.0.1 unless given; port 0: any "
            "free port); its address is printed at start."
        ),
    ] = None,
    serve_token: Annotated[
        str | None,
        typer.Option(help="Token the monitor requires (default: none on loopback, else a generated one)."),
    ] = None,
    linger: Annotated[
        float | None,
        typer.Option(help="Keep the monitor up this many seconds after a file ends (Ctrl-C ends it)."),
    ] = None,
) -> None:
    """Process SOURCE: gate frame quality, detect artefacts, write annotated.mp4, filtered.mp4, frames.jsonl
    and summary.json to --out."""
    from streamer.config import load_profile, with_overrides

    config = with_overrides(
        load_profile(profile),
        monitor=_monitor_config(serve, serve_token, linger),
        out_dir=out,
        backend=backend,
        device=device,
        precision=precision,
        batch=batch,
        bad_frames=bad_frames,
        show=show,
        max_frames=max_frames,
        capture=capture,
        reconnect=reconnect,
        realtime=realtime or None,
        outputs=None if outputs is None else tuple(o.strip() for o in outputs.split(",") if o.strip()),
        classifier=classifier,
        detectors=tuple(detector) if detector else None,
        quality_threshold=quality_threshold,
        score_threshold=score_threshold,
        overwrite=overwrite or None,
    )
    summary = _run_pipeline(source, config, progress=progress)
    _print_summary(summary)
    if summary["interrupted"]:
        raise typer.Exit(INTERRUPTED_EXIT_CODE)


def _monitor_config(serve: str | None, token: str | None, linger: float | None) -> Any:
    """The MonitorConfig of `--serve`, `--serve-token` and `--linger`; None without `--serve`."""
    from streamer.config import MonitorConfig, parse_serve_address
    from streamer.errors import ConfigError

    if serve is None:
        if token is not None or linger is not None:
            raise ConfigError("--serve-token and --linger need --serve [HOST:]PORT")
        return None
    host, port = parse_serve_address(serve)
    return MonitorConfig(host=host, port=port, token=token, linger_s=linger or 0.0)


@app.command()
def demo(
    out: Annotated[Path, typer.Option("--out", help="Output folder.")] = Path("out/demo"),
    profile: Annotated[str, typer.Option(help="Profile name or TOML file.")] = "lite",
) -> None:
    """Run the default models on the bundled real laparoscopy clip and say what was found."""
    from streamer.config import load_profile, with_overrides
    from streamer.paths import DEMO_CLIP

    config = with_overrides(load_profile(profile), out_dir=out, overwrite=True)
    summary = _run_pipeline(str(DEMO_CLIP), config, progress=True)
    print(f"streamer demo: {DEMO_CLIP.name} with profile {config.profile}")
    models = summary["models"]
    quality = models["quality"]
    print(
        f"  quality model: {quality['name'] if quality else 'none'}; detectors: "
        f"{', '.join(d['name'] for d in models['detectors'])} on {', '.join(summary['backend'])}"
    )
    _print_summary(summary)
    counts = _detections_by_class(Path(summary["outputs"].get("jsonl", "")))
    if counts:
        print("  detections by class: " + ", ".join(f"{name} {n}" for name, n in counts.items()))


def _detections_by_class(jsonl: Path) -> dict[str, int]:
    if not jsonl.is_file():
        return {}
    counts: dict[str, int] = {}
    for line in jsonl.read_text().splitlines():
        for detection in json.loads(line).get("detections", []):
            counts[detection["label"]] = counts.get(detection["label"], 0) + 1
    return dict(sorted(counts.items(), key=lambda item: -item[1]))


@app.command()
def bench(
    source: Annotated[
        str | None, typer.Argument(help="Source to measure (default: the bundled real clip).")
    ] = None,
    profile: Annotated[str, typer.Option(help="Profile name or TOML file.")] = "lite",
    backend: Annotated[str | None, typer.Option(help=f"{spoken(BACKEND_CHOICES)}.")] = None,
    device: Annotated[str | None, typer.Option(help="cpu or cuda.")] = None,
    precision: Annotated[str | None, typer.Option(help="fp32, fp16, bf16 or int8.")] = None,
    batch: Annotated[int | None, typer.Option(help="Most frames per inference batch.")] = None,
    frames: Annotated[int, typer.Option(help="Frames measured after the warm-up.")] = 200,
    warmup: Annotated[int, typer.Option(help="Frames run first and left out of the figures.")] = 25,
    mode: Annotated[
        str,
        typer.Option(help="live: paced at the source rate, drop-oldest queue; file: as fast as possible."),
    ] = "live",
    naive: Annotated[bool, typer.Option(help="Also time a single-thread loop with the same models.")] = True,
    json_path: Annotated[Path | None, typer.Option("--json", help="Write the report as JSON here.")] = None,
    plots: Annotated[
        Path | None, typer.Option(help="Write latency timeline and histogram PNGs here.")
    ] = None,
) -> None:
    """Measure latency per stage and end to end (p50/p95/p99/max), throughput and drops of the real
    pipeline, against the papers' 0.17-0.31 s per image and the source frame interval."""
    from streamer.bench.report import format_report
    from streamer.bench.run_bench import run_bench
    from streamer.config import load_profile, with_overrides
    from streamer.paths import DEMO_CLIP

    config = with_overrides(
        load_profile(profile), backend=backend, device=device, precision=precision, batch=batch
    )
    report = run_bench(
        source or str(DEMO_CLIP),
        config,
        frames=frames,
        warmup=warmup,
        mode=mode,
        plots=plots,
        naive=naive,  # type: ignore[arg-type]
    )
    print(format_report(report))
    if json_path is not None:
        json_path.parent.mkdir(parents=True, exist_ok=True)
        json_path.write_text(json.dumps(report, indent=2) + "\n")


@app.command()
def devices() -> None:
    """List V4L2 capture devices with their pixel formats and frame sizes."""
    from streamer.capture.devices import list_devices

    found = list_devices()
    if not found:
        print("no V4L2 devices found (/dev/video*)")
        return
    for device in found:
        if device.error:
            print(f"{device.path}: {device.error}")
            continue
        kind = "capture" if device.capture else "no capture (metadata or output node)"
        print(f"{device.path}: {device.card} [{device.driver}, {device.bus}] {kind}")
        for video_format in device.formats:
            print(f"  {video_format.fourcc:4} {video_format.description}: {' '.join(video_format.sizes)}")


def _interrupted(signum: int, frame: object) -> None:
    """Ctrl-C or SIGTERM outside a running pipeline (start-up, model loading): one line, exit 130. A running
    pipeline installs its own handler, which drains and finalizes the outputs first."""
    print("streamer: interrupted", file=sys.stderr)
    raise SystemExit(INTERRUPTED_EXIT_CODE)


def main() -> None:
    """Console entry point: user errors become one line on stderr and a non-zero exit code."""
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, _interrupted)
    try:
        app(prog_name="streamer")
    except StreamerError as error:
        print(f"streamer: error: {error}", file=sys.stderr)
        sys.exit(error.exit_code)
    except KeyboardInterrupt:
        print("streamer: interrupted", file=sys.stderr)
        sys.exit(INTERRUPTED_EXIT_CODE)
    finally:
        # the outputs are finalized: a late Ctrl-C must not kill the interpreter's teardown (Python resets
        # its own handlers to the default there, and the process would die by the signal, not exit 130)
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, signal.SIG_IGN)
