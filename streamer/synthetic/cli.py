"""`streamer synth`: write synthetic EAD2019-format datasets, synthetic endoscopy clips and previews."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(
    add_completion=False, no_args_is_help=True, help="Synthetic endoscopy data with exact boxes."
)


@app.command("dataset")
def dataset_command(
    out: Annotated[Path, typer.Argument(help="Output folder (images/ and labels/ are created in it).")],
    count: Annotated[int, typer.Option(help="Number of frames.")] = 1000,
    seed: Annotated[int, typer.Option(help="Random seed; the same seed writes the same dataset.")] = 0,
    size: Annotated[int, typer.Option(help="Side of the square frames in pixels.")] = 512,
    sequences: Annotated[int | None, typer.Option(help="Number of scenes (default: count / 16).")] = None,
) -> None:
    """Write COUNT synthetic frames with YOLO labels, named seqSSS_FFFF by scene."""
    from streamer.synthetic.dataset import write_ead2019_dataset

    paths = write_ead2019_dataset(out, count=count, seed=seed, size=size, sequences=sequences)
    typer.echo(f"wrote {len(paths)} frames to {out}")


@app.command("video")
def video_command(
    out: Annotated[Path, typer.Argument(help="Output .mp4 file.")],
    seconds: Annotated[float, typer.Option(help="Duration in seconds.")] = 10.0,
    seed: Annotated[int, typer.Option(help="Random seed of the scene.")] = 0,
    width: Annotated[int, typer.Option(help="Frame width in pixels (even).")] = 1280,
    height: Annotated[int, typer.Option(help="Frame height in pixels (even).")] = 720,
    fps: Annotated[int, typer.Option(help="Frames per second.")] = 25,
    bad_share: Annotated[float, typer.Option(help="Share of one-second stretches degraded (0-1).")] = 0.0,
    truth: Annotated[
        Path | None, typer.Option(help="Also write per-frame boxes to this JSON Lines file.")
    ] = None,
) -> None:
    """Write an H.264 MP4 of a synthetic scene seen by a moving camera."""
    from streamer.synthetic.dataset import write_video

    frames = write_video(
        out, seconds=seconds, seed=seed, size=(width, height), fps=fps, bad_share=bad_share, truth_path=truth
    )
    typer.echo(f"wrote {frames} frames to {out}")


@app.command("preview")
def preview_command(
    out: Annotated[Path, typer.Argument(help="Output image (.png).")],
    count: Annotated[int, typer.Option(help="Number of frames in the grid.")] = 9,
    seed: Annotated[int, typer.Option(help="Seed of the first frame; the others follow.")] = 0,
    size: Annotated[int, typer.Option(help="Side of the square frames in pixels.")] = 512,
) -> None:
    """Write a grid of synthetic frames with their boxes drawn (class index in the box's colour)."""
    from streamer.synthetic.preview import write_preview

    write_preview(out, count=count, seed=seed, size=size)
    typer.echo(f"wrote {count} frames to {out}")
