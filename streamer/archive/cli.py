"""`streamer filter`: the command-line wrapper of `streamer.archive.runner.run_filter`."""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path
from typing import Annotated

import typer

from streamer.errors import INTERRUPTED_EXIT_CODE, StreamerError
from streamer.sinks.registry import OUTPUT_NAMES

DEFAULT_OUTPUTS = ("filtered", "jsonl")


class FilterFailures(StreamerError):
    """Some videos of the archive failed (each is `failed` in the index with its reason)."""

    exit_code = 1


def filter_command(
    inputs: Annotated[
        list[str],
        typer.Argument(help="Folders (searched recursively for videos), globs, video files or .txt lists."),
    ],
    out: Annotated[Path, typer.Option("--out", help="Archive output folder: one folder per video.")],
    profile: Annotated[str, typer.Option(help="Profile name or TOML file.")] = "lite",
    workers: Annotated[
        int | None, typer.Option(help="Worker processes (default: one per two cores of this machine).")
    ] = None,
    ray_address: Annotated[
        str | None,
        typer.Option(
            "--ray", help="Join a Ray cluster: auto, HOST:PORT or ray://HOST:PORT (default: a local one)."
        ),
    ] = None,
    outputs: Annotated[
        str | None,
        typer.Option(
            help=f"Comma-separated outputs per video: {','.join(OUTPUT_NAMES)} (default: filtered,jsonl)."
        ),
    ] = None,
    retry_failed: Annotated[
        bool, typer.Option("--retry-failed", help="Process failed videos again.")
    ] = False,
    progress: Annotated[bool, typer.Option(help="Show a progress bar over the videos.")] = True,
) -> None:
    """Filter every video of an archive into --out (same outputs as `streamer run`, no frame dropped),
    with DIR/index.csv; rerunning skips the videos already done."""
    import os

    from streamer.archive.inputs import find_videos
    from streamer.archive.runner import run_filter
    from streamer.config import load_profile, with_overrides

    names = DEFAULT_OUTPUTS if outputs is None else tuple(o.strip() for o in outputs.split(",") if o.strip())
    config = with_overrides(load_profile(profile), outputs=names)
    jobs = find_videos(inputs)
    count = workers if workers is not None else max(1, (os.cpu_count() or 1) // 2)
    try:
        index = run_filter(
            jobs,
            out,
            config,
            workers=count,
            address=ray_address,
            retry_failed=retry_failed,
            progress=progress,
        )
    except KeyboardInterrupt:
        print("streamer: interrupted", file=sys.stderr)
        raise typer.Exit(INTERRUPTED_EXIT_CODE) from None
    rows = [index.rows[job.key] for job in jobs]
    statuses = Counter(row.status for row in rows)
    frames = sum(row.frames_in for row in rows if row.status in ("done", "skipped"))
    good = sum(row.good for row in rows if row.status in ("done", "skipped"))
    print(f"{'status':<10}{'videos':>8}")
    for status in ("done", "skipped", "failed", "pending"):
        if statuses[status]:
            print(f"{status:<10}{statuses[status]:>8}")
    share = f" ({good / frames:.1%} good)" if frames else ""
    print(f"{frames} frames in finished videos{share}; index: {index.path}")
    failed = [row for row in rows if row.status == "failed"]
    for row in failed:
        print(f"failed: {row.path}: {row.error}", file=sys.stderr)
    if failed:
        raise FilterFailures(f"{len(failed)} of {len(rows)} videos failed (see {index.path})")
