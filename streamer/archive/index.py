"""DIR/index.csv: one row per input video, rewritten atomically each time a video finishes (and
DIR/index.parquet beside it when pyarrow is installed). A row also keeps what makes a result current
(the input's size and modification time, and a hash of the profile and its models), so a rerun skips it.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from streamer.archive.inputs import VideoJob
from streamer.config import RunConfig
from streamer.pipeline.engine_loading import profile_model_paths

INDEX_NAME = "index.csv"
PARQUET_NAME = "index.parquet"
DETECTIONS_PREFIX = "detections_"
COMPLETE = ("done", "skipped")  # statuses whose outputs are in place


@dataclass(frozen=True)
class IndexRow:
    """One video's line. status: done (processed now), skipped (done earlier and still current), failed
    (error: its one line) or pending (not reached yet). Times in seconds; good_fraction of frames in."""

    key: str
    path: str
    status: str = "pending"
    frames_in: int = 0
    good: int = 0
    bad: int = 0
    good_fraction: float = 0.0
    duration_s: float = 0.0
    processing_s: float = 0.0
    worker: str = ""
    error: str = ""
    output: str = ""
    size_bytes: int = 0
    mtime_ns: int = 0
    config_hash: str = ""
    detections: dict[str, int] = field(default_factory=dict)

    def same_input(self, job: VideoJob, config_hash: str) -> bool:
        """Whether this row was made from the job's file as it is now (size, modification time) and this
        configuration."""
        stat = job.path.stat()
        return (self.size_bytes, self.mtime_ns, self.config_hash) == (
            stat.st_size,
            stat.st_mtime_ns,
            config_hash,
        )

    def is_current(self, job: VideoJob, config_hash: str, out_root: Path) -> bool:
        """Whether this row's outputs are complete for the job's file as it is now and this configuration."""
        return (
            self.status in COMPLETE
            and self.same_input(job, config_hash)
            and (out_root / job.relative / "summary.json").is_file()
        )


def pending_row(job: VideoJob, config_hash: str) -> IndexRow:
    """A row for a job not yet processed, with the input's current size and modification time."""
    stat = job.path.stat()
    return IndexRow(
        key=job.key,
        path=str(job.path),
        size_bytes=stat.st_size,
        mtime_ns=stat.st_mtime_ns,
        config_hash=config_hash,
    )


def config_hash(config: RunConfig) -> str:
    """sha256 (16 hex digits) of the profile's settings (not where outputs go) and of its model files."""
    settings = asdict(config)
    settings.pop("monitor", None)
    for name in ("out_dir", "overwrite", "show"):
        settings["output"].pop(name, None)
    digest = hashlib.sha256(json.dumps(settings, sort_keys=True, default=str).encode())
    for path in profile_model_paths(config):
        model_file = path / "manifest.json" if path.is_dir() else path
        digest.update(hashlib.sha256(model_file.read_bytes()).digest())
    return digest.hexdigest()[:16]


class ArchiveIndex:
    """The rows of DIR/index.csv by key; `save` rewrites the file (and the Parquet copy) atomically."""

    def __init__(self, out_root: Path) -> None:
        self.path = Path(out_root) / INDEX_NAME
        self.rows: dict[str, IndexRow] = {}
        if self.path.is_file():
            with self.path.open(newline="") as stream:
                for record in csv.DictReader(stream):
                    row = _row_from_csv(record)
                    self.rows[row.key] = row

    def set(self, row: IndexRow) -> None:
        self.rows[row.key] = row

    def table(self) -> tuple[list[str], list[dict[str, Any]]]:
        """(columns, records): the fixed columns, then one detections_<class> column per class seen."""
        classes = sorted({name for row in self.rows.values() for name in row.detections})
        columns = [f.name for f in fields(IndexRow) if f.name != "detections"]
        columns += [DETECTIONS_PREFIX + name for name in classes]
        records = []
        for row in self.rows.values():
            record = {k: v for k, v in asdict(row).items() if k != "detections"}
            record.update({DETECTIONS_PREFIX + name: row.detections.get(name, 0) for name in classes})
            records.append(record)
        return columns, records

    def save(self) -> None:
        columns, records = self.table()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        scratch = self.path.with_name(f".{self.path.name}.tmp")
        with scratch.open("w", newline="") as stream:
            writer = csv.DictWriter(stream, fieldnames=columns)
            writer.writeheader()
            writer.writerows(records)
        os.replace(scratch, self.path)
        _write_parquet(self.path.with_name(PARQUET_NAME), columns, records)


def _row_from_csv(record: dict[str, str]) -> IndexRow:
    """An IndexRow from a CSV record (strings), typed by the dataclass's fields."""
    values: dict[str, Any] = {}
    for f in fields(IndexRow):
        if f.name == "detections" or f.name not in record:
            continue
        kind = {"int": int, "float": float}.get(str(f.type), str)
        values[f.name] = kind(record[f.name]) if record[f.name] != "" or kind is str else kind(0)
    detections = {
        k[len(DETECTIONS_PREFIX) :]: int(v or 0) for k, v in record.items() if k.startswith(DETECTIONS_PREFIX)
    }
    return replace(IndexRow(key=values.pop("key"), path=values.pop("path")), **values, detections=detections)


def _write_parquet(path: Path, columns: list[str], records: list[dict[str, Any]]) -> None:
    """The same table as Parquet, when pyarrow is installed (else nothing)."""
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        return
    table = pa.table({name: [record[name] for record in records] for name in columns})
    scratch = path.with_name(f".{path.name}.tmp")
    pq.write_table(table, scratch)
    os.replace(scratch, path)
