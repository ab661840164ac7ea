"""One video of an archive through the pipeline, and the worker that keeps its engines loaded.

A video's outputs are written into DIR/.partial/<scratch>/ and renamed to DIR/<relative path> only
when the run is complete, so a folder in place is always a finished result; a failure leaves nothing.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import time
import uuid
from dataclasses import replace
from pathlib import Path
from typing import Any

import torch

from streamer.archive.index import IndexRow, pending_row
from streamer.archive.inputs import VideoJob
from streamer.config import RunConfig
from streamer.errors import StreamerError
from streamer.pipeline.runner import LoadedEngines, Pipeline
from streamer.sinks.folder import LOCK_NAME

PARTIAL_DIR = ".partial"


def _finished_row(row: IndexRow, summary: dict[str, Any], final: Path, seconds: float) -> IndexRow:
    frames = summary["frames"]
    fps = summary["source"].get("fps") or 0.0
    return replace(
        row,
        status="done",
        frames_in=int(frames["in"]),
        good=int(frames["good"]),
        bad=int(frames["bad"]),
        good_fraction=round(frames["good"] / frames["in"], 4) if frames["in"] else 0.0,
        duration_s=round(frames["in"] / fps, 3) if fps else 0.0,
        processing_s=round(seconds, 3),
        output=str(final),
        detections=dict(summary.get("detections_by_class", {})),
    )


def _move_into_place(scratch: Path, final: Path) -> None:
    """Point summary.json's output paths at `final`, then rename `scratch` to `final` (replacing an
    earlier result there)."""
    summary_path = scratch / "summary.json"
    summary = json.loads(summary_path.read_text())
    summary["outputs"] = {k: str(final / Path(v).relative_to(scratch)) for k, v in summary["outputs"].items()}
    summary_path.write_text(json.dumps(summary, indent=2) + "\n")
    (scratch / LOCK_NAME).unlink(missing_ok=True)
    if final.exists():
        shutil.rmtree(final)
    final.parent.mkdir(parents=True, exist_ok=True)
    os.replace(scratch, final)


def filter_video(
    job: VideoJob, out_root: Path, config: RunConfig, config_hash: str, engines: LoadedEngines, worker: str
) -> IndexRow:
    """Run the pipeline over `job` (file mode: no frame dropped) into its folder under `out_root`;
    returns its index row: done with its figures, or failed with the one-line reason (nothing kept)."""
    row = replace(pending_row(job, config_hash), worker=worker)
    final = Path(out_root) / job.relative
    scratch = Path(out_root) / PARTIAL_DIR / f"{job.relative.name}-{uuid.uuid4().hex[:12]}"
    output = replace(config.output, out_dir=scratch, overwrite=False, show=False)
    run_config = replace(config, output=output, monitor=None)
    started = time.monotonic()
    try:
        outcome = Pipeline(run_config, str(job.path), engines=engines, handle_signals=False).run()
        if outcome.error is not None:
            raise outcome.error
        _move_into_place(scratch, final)
    except StreamerError as error:
        shutil.rmtree(scratch, ignore_errors=True)
        return replace(
            row, status="failed", error=str(error), processing_s=round(time.monotonic() - started, 3)
        )
    except BaseException:
        shutil.rmtree(scratch, ignore_errors=True)
        raise
    return _finished_row(row, outcome.summary, final, time.monotonic() - started)


class FilterWorker:
    """A long-lived worker (a Ray actor in `streamer filter`): loads the profile's engines once, with
    `threads` CPU threads for inference, then filters video after video."""

    def __init__(self, config: RunConfig, threads: int, out_root: str, config_hash: str) -> None:
        torch.set_num_threads(threads)
        self.config = replace(config, engine_threads=threads)
        self.out_root = Path(out_root)
        self.config_hash = config_hash
        self.name = f"{socket.gethostname()}:{os.getpid()}"
        self.engines = LoadedEngines.load(self.config)

    def pid(self) -> int:
        """The worker's process id (to watch it, or to stop it in a test)."""
        return os.getpid()

    def filter(self, job: VideoJob) -> IndexRow:
        return filter_video(job, self.out_root, self.config, self.config_hash, self.engines, self.name)
