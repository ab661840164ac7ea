"""Filter an archive on Ray: a local instance on this machine's cores, or a cluster (`--ray ADDRESS`).

Each worker is a Ray actor (`FilterWorker`) that loads the engines once and takes video after video.
A worker process that dies is restarted by Ray and its video retried (`max_restarts`,
`max_task_retries`); a video that still fails is `failed` in the index and a fresh worker takes its
place. Ctrl-C stops the workers, removes partial outputs and keeps the finished rows.
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from tqdm import tqdm

from streamer.archive.index import ArchiveIndex, config_hash, pending_row
from streamer.archive.inputs import VideoJob
from streamer.archive.worker import PARTIAL_DIR, FilterWorker
from streamer.config import RunConfig
from streamer.errors import ConfigError, StreamerError
from streamer.pipeline.engine_loading import profile_model_paths

WORKER_RESTARTS = 2  # a worker process may die this many times and be restarted by Ray
TASK_RETRIES = 1  # a video whose worker died is tried again this many times
WAIT_S = 0.5


@dataclass(frozen=True)
class FilterPlan:
    """What to process: the jobs, those already current (skipped) and the ones left to run."""

    jobs: list[VideoJob]
    to_run: list[VideoJob]
    skipped: list[VideoJob]


class WorkerStartError(StreamerError):
    """A worker could not start (its engines did not load)."""


def plan(
    jobs: list[VideoJob], index: ArchiveIndex, digest: str, out_root: Path, retry_failed: bool
) -> FilterPlan:
    """Skip jobs whose row is complete and current; failed ones are retried only with `retry_failed`
    (or when their file changed)."""
    to_run, skipped = [], []
    for job in jobs:
        row = index.rows.get(job.key)
        if row is not None and row.is_current(job, digest, out_root):
            skipped.append(job)
        elif row is not None and row.status == "failed" and not retry_failed and row.same_input(job, digest):
            continue
        else:
            to_run.append(job)
    return FilterPlan(jobs, to_run, skipped)


def _start_ray(address: str | None, workers: int) -> int:
    """Start (address None) or join Ray; returns the CPUs each worker gets."""
    import ray

    if address is None:
        cores = os.cpu_count() or 1
        threads = max(1, cores // workers)
        ray.init(
            num_cpus=max(cores, workers * threads),
            include_dashboard=False,
            logging_level=logging.ERROR,
            log_to_driver=False,
            object_store_memory=80 * 1024 * 1024,
        )
        return threads
    ray.init(address=address, logging_level=logging.ERROR, log_to_driver=False)
    cpus = int(ray.cluster_resources().get("CPU", 1))
    return max(1, cpus // workers)


@contextmanager
def _signals_interrupt() -> Iterator[None]:
    """Ctrl-C and SIGTERM raise KeyboardInterrupt inside the block. Installed after Ray starts: Ray's own
    SIGTERM handler aborts the process, and its blocking calls turn an exception raised by a signal
    handler into SystemExit(1), which is turned back into the interrupt here."""
    requested = False

    def interrupt(signum: int, frame: object) -> None:
        nonlocal requested
        requested = True
        raise KeyboardInterrupt

    previous = {signum: signal.getsignal(signum) for signum in (signal.SIGINT, signal.SIGTERM)}
    for signum in previous:
        signal.signal(signum, interrupt)
    try:
        yield
    except SystemExit:
        if requested:
            raise KeyboardInterrupt from None
        raise
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler if handler is not None else signal.SIG_DFL)


def _new_worker(config: RunConfig, threads: int, out_root: Path, digest: str) -> Any:
    import ray

    actor = ray.remote(FilterWorker).options(
        num_cpus=threads, max_restarts=WORKER_RESTARTS, max_task_retries=TASK_RETRIES
    )
    return actor.remote(config, threads, str(out_root), digest)


def _one_line(error: BaseException) -> str:
    """The last meaningful line of a (possibly remote, multi-line) error."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return lines[-1] if lines else type(error).__name__


def run_filter(
    jobs: list[VideoJob],
    out_root: Path,
    config: RunConfig,
    *,
    workers: int,
    address: str | None = None,
    retry_failed: bool = False,
    progress: bool = True,
) -> ArchiveIndex:
    """Filter `jobs` into `out_root` with `workers` Ray actors; returns the index (also saved as each
    video finishes). Raises KeyboardInterrupt after cleaning up when interrupted."""
    import ray

    if workers < 1:
        raise ConfigError(f"--workers must be >= 1, got {workers}")
    profile_model_paths(config)  # a missing model is refused here, before Ray starts
    out_root = Path(out_root)
    out_root.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(out_root / PARTIAL_DIR, ignore_errors=True)  # left by a killed run
    digest = config_hash(config)
    index = ArchiveIndex(out_root)
    work = plan(jobs, index, digest, out_root, retry_failed)
    for job in work.skipped:
        index.set(replace(index.rows[job.key], status="skipped"))
    for job in work.to_run:
        index.set(pending_row(job, digest))
    index.save()
    if not work.to_run:
        return index
    threads = _start_ray(address, min(workers, len(work.to_run)))
    with _signals_interrupt():
        bar = tqdm(total=len(work.to_run), unit="video", disable=not progress, desc="filter")
        frames = 0
        try:
            actors = [
                _new_worker(config, threads, out_root, digest) for _ in range(min(workers, len(work.to_run)))
            ]
            try:
                ray.get([actor.pid.remote() for actor in actors])
            except ray.exceptions.RayActorError as error:
                raise WorkerStartError(f"a worker could not start: {_one_line(error)}") from None
            queue = list(work.to_run)
            running: dict[Any, tuple[VideoJob, Any]] = {}

            def give_work(actor: Any) -> None:
                if queue:
                    job = queue.pop(0)
                    running[actor.filter.remote(job)] = (job, actor)

            for actor in actors:
                give_work(actor)
            while running:
                done, _ = ray.wait(list(running), num_returns=1, timeout=WAIT_S)
                if not done:
                    continue  # (a short wait, so that Ctrl-C is handled at once)
                ready = done[0]
                job, actor = running.pop(ready)
                try:
                    row = ray.get(ready)
                except ray.exceptions.RayActorError as error:
                    row = replace(
                        pending_row(job, digest), status="failed", error=f"worker died: {_one_line(error)}"
                    )
                    ray.kill(actor, no_restart=True)
                    actor = _new_worker(config, threads, out_root, digest)
                except ray.exceptions.RayTaskError as error:
                    row = replace(pending_row(job, digest), status="failed", error=_one_line(error))
                index.set(row)
                index.save()
                frames += row.frames_in
                bar.update(1)
                bar.set_postfix(frames=frames, failed=sum(r.status == "failed" for r in index.rows.values()))
                give_work(actor)
        finally:
            bar.close()
            ray.shutdown()
            shutil.rmtree(out_root / PARTIAL_DIR, ignore_errors=True)
            index.save()
    return index
