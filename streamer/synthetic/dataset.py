"""Writers: an EAD2019-format detection dataset (images/ + YOLO labels/) and an H.264 MP4 clip."""

from __future__ import annotations

import itertools
from pathlib import Path

import av
import cv2
import numpy as np

from streamer.errors import ConfigError, SinkError
from streamer.synthetic.sample import SyntheticSample
from streamer.synthetic.scene import SyntheticVideo

# Frames kept from each sequence are this many camera frames apart, so neighbours differ visibly.
FRAME_STRIDE = 6


def yolo_lines(sample: SyntheticSample) -> list[str]:
    """One `class cx cy w h` line per box, normalised by the image size (EAD2019 sample format)."""
    height, width = sample.image.shape[:2]
    lines = []
    for (x1, y1, x2, y2), label in zip(sample.boxes.tolist(), sample.labels.tolist(), strict=True):
        cx, cy = (x1 + x2) / 2.0 / width, (y1 + y2) / 2.0 / height
        w, h = (x2 - x1) / width, (y2 - y1) / height
        lines.append(f"{label} {cx:.6f} {cy:.6f} {w:.6f} {h:.6f}")
    return lines


def write_ead2019_dataset(
    out_dir: str | Path,
    count: int,
    seed: int,
    size: int | tuple[int, int] = 512,
    sequences: int | None = None,
) -> list[Path]:
    """Write `count` frames as out_dir/images/seqSSS_FFFF.jpg with out_dir/labels/seqSSS_FFFF.txt.

    Frames come from `sequences` synthetic videos (default: one per 16 frames), each a scene seen by a
    moving camera; the name carries the sequence id so that train/validation splits can be made by
    sequence. size: side of square frames, or (width, height). Returns the image paths in order.
    """
    if count < 1:
        raise ConfigError(f"count must be at least 1, got {count}")
    if sequences is None:
        sequences = max(1, -(-count // 16))
    if not 1 <= sequences <= count:
        raise ConfigError(f"sequences must be between 1 and count ({count}), got {sequences}")
    frame_size = (size, size) if isinstance(size, int) else (int(size[0]), int(size[1]))
    images_dir, labels_dir = Path(out_dir) / "images", Path(out_dir) / "labels"
    try:
        images_dir.mkdir(parents=True, exist_ok=True)
        labels_dir.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise SinkError(f"cannot create dataset folders under {out_dir}: {error}") from error
    per_sequence = [count // sequences + (1 if s < count % sequences else 0) for s in range(sequences)]
    seeds = np.random.SeedSequence(seed).generate_state(sequences)  # (sequences,) uint32, one per scene
    written = []
    for sequence, (frames, scene_seed) in enumerate(zip(per_sequence, seeds, strict=True)):
        video = SyntheticVideo(int(scene_seed), frame_size)
        for index in range(frames):
            sample = video.frame(index * FRAME_STRIDE)
            name = f"seq{sequence:03d}_{index:04d}"
            image_path = images_dir / f"{name}.jpg"
            bgr = cv2.cvtColor(sample.image, cv2.COLOR_RGB2BGR)
            if not cv2.imwrite(str(image_path), bgr, [cv2.IMWRITE_JPEG_QUALITY, 95]):
                raise SinkError(f"cannot write {image_path}")
            (labels_dir / f"{name}.txt").write_text("".join(line + "\n" for line in yolo_lines(sample)))
            written.append(image_path)
    return written


def write_video(
    path: str | Path, seconds: float, seed: int, size: tuple[int, int] = (1280, 720), fps: int = 25
) -> int:
    """Write `seconds` of a synthetic scene as H.264 MP4 (yuv420p) at `fps`; returns the frame count.

    size: (width, height), both even.
    """
    width, height = int(size[0]), int(size[1])
    if width % 2 or height % 2:
        raise ConfigError(f"H.264 needs an even width and height, got {width}x{height}")
    if seconds <= 0 or fps <= 0:
        raise ConfigError(f"seconds and fps must be positive, got {seconds} s at {fps} fps")
    frames = max(1, round(seconds * fps))
    video = SyntheticVideo(seed, (width, height), fps)
    try:
        container = av.open(str(path), mode="w")
    except (OSError, av.FFmpegError) as error:
        raise SinkError(f"cannot create {path}: {error}") from error
    with container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.options = {"crf": "20", "preset": "veryfast"}
        for sample in itertools.islice(video, frames):
            container.mux(stream.encode(av.VideoFrame.from_ndarray(sample.image, format="rgb24")))
        container.mux(stream.encode(None))
    return frames
