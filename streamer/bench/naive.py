"""The baseline `streamer bench` compares against: one thread doing decode → infer → draw → encode in turn,
with the same models, preprocessing, overlay and encoder as the pipeline."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from streamer.capture.open_source import open_source
from streamer.config import RunConfig
from streamer.fusion import Fuser
from streamer.latency import summarize_latencies
from streamer.overlay import Overlay
from streamer.pipeline.engine_loading import load_classifier, load_detectors
from streamer.pipeline.quality_gate import make_quality_gate
from streamer.pipeline.runner import warm_up
from streamer.pipeline.stage_setup import make_detector_stage, make_preprocessor
from streamer.sinks.video import H264Encoder


@dataclass(frozen=True)
class NaiveResult:
    """frames: processed after warm-up; fps over them; latency_ms: {p50, p95, p99, max} per frame, decode to encode."""

    frames: int
    fps: float
    latency_ms: dict[str, float]


def run_naive_loop(
    source_spec: str, config: RunConfig, out: Path, *, frames: int, warmup: int
) -> NaiveResult:
    """Process up to `frames` frames (after `warmup` more) of `source_spec` one at a time in this thread."""
    source, _ = open_source(source_spec, config.capture)
    classifier = load_classifier(config)
    detectors = load_detectors(config)
    engines = [e for e in (classifier, *detectors) if e is not None]
    warm_up(engines, 1, Fuser(config.fusion) if len(detectors) > 1 else None)
    preprocessor = make_preprocessor(config)
    gate = make_quality_gate(classifier, config, stills=False)
    detector = make_detector_stage(detectors, config)
    overlay = Overlay()
    encoder = H264Encoder(
        out / "naive.mp4",
        fps=source.info.fps or 25.0,
        preset=config.output.video_preset,
        crf=config.output.video_crf,
    )
    latencies: list[float] = []
    started = time.perf_counter()
    try:
        with source:
            clock = time.perf_counter()
            for position, raw in enumerate(source.read()):
                if position >= warmup + frames:
                    break
                if position == warmup:
                    started = clock
                prepared = preprocessor.prepare([raw.image])
                verdict = gate.judge(prepared)[0]
                detections = detector.fuse(detector.detect(prepared, [0] if verdict.is_good else []))
                annotated = overlay.annotate(raw.image, verdict, detections[0] if detections else None)
                encoder.encode(annotated, raw.pts, raw.time_base)
                now = time.perf_counter()
                if position >= warmup:
                    latencies.append((now - clock) * 1000)  # decode of this frame included
                clock = time.perf_counter()
        elapsed = time.perf_counter() - started
    finally:
        encoder.close()
        for engine in engines:
            engine.close()
    return NaiveResult(
        frames=len(latencies),
        fps=round(len(latencies) / elapsed, 2) if elapsed > 0 else 0.0,
        latency_ms=summarize_latencies(latencies),
    )
